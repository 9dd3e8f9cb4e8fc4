package orderbook

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// randomBook plays a random stream into a book and returns the pair and
// the generator, to continue the stream afterwards.
func randomBook(t testing.TB, cfg Config, seed uint64, steps int) (*pair, *gen) {
	p := newPair(t, cfg)
	g := newGen(seed, p.b)
	for i := 0; i < steps; i++ {
		p.do(fixAmend(g.next(), p.b))
	}
	return p, g
}

func TestSnapshotRoundTrip(t *testing.T) {
	for i, cfg := range diffConfigs {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			p, g := randomBook(t, cfg, uint64(100+i), 20_000)
			require.NotZero(t, p.b.Len())
			var buf bytes.Buffer
			require.NoError(t, p.b.Snapshot(&buf))
			snap := buf.Bytes()
			buf.WriteString("trailing bytes belong to the caller")
			r := bytes.NewReader(buf.Bytes())
			rb, err := Restore(r, nil)
			require.NoError(t, err)
			require.Equal(t, len(snap), int(r.Size())-r.Len(), "Restore reads exactly the snapshot")
			require.Equal(t, p.b.Hash(), rb.Hash())
			require.Equal(t, p.b.Len(), rb.Len())
			// The restored book behaves identically: continue the stream on
			// it against the model.
			q := &pair{t: t, b: rb, m: p.m, stats: p.stats}
			g.book = rb
			for j := 0; j < 20_000; j++ {
				q.do(fixAmend(g.next(), rb))
			}
			q.checkFull()
		})
	}
}

func TestSnapshotEmpty(t *testing.T) {
	b := mustBook(t, Config{STP: CancelBoth, MinPrice: 5, MaxPrice: 500, Window: 128})
	var buf bytes.Buffer
	require.NoError(t, b.Snapshot(&buf))
	rb, err := Restore(&buf, nil)
	require.NoError(t, err)
	require.Equal(t, b.Hash(), rb.Hash())
	require.Equal(t, b.cfg, rb.cfg)
}

func TestRestoreCorrupt(t *testing.T) {
	p, _ := randomBook(t, Config{STP: CancelResting}, 7, 3000)
	var buf bytes.Buffer
	require.NoError(t, p.b.Snapshot(&buf))
	snap := buf.Bytes()
	for n := 0; n < len(snap); n += 1 + n/64 {
		_, err := Restore(bytes.NewReader(snap[:n]), nil)
		require.ErrorIs(t, err, ErrCorrupt, "truncated to %d", n)
	}
	for i := 0; i < len(snap); i += 1 + i/128 {
		for _, bit := range []byte{1, 0x80} {
			c := bytes.Clone(snap)
			c[i] ^= bit
			_, err := Restore(bytes.NewReader(c), nil)
			require.ErrorIs(t, err, ErrCorrupt, "bit flip at %d", i)
		}
	}
	_, err := Restore(failReader{}, nil)
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrCorrupt)
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// FuzzRestore feeds arbitrary bytes to Restore: it must never panic, and a
// snapshot it accepts must re-encode to the same bytes and hash the same
// after another round trip.
func FuzzRestore(f *testing.F) {
	for i, cfg := range diffConfigs {
		p, _ := randomBook(f, cfg, uint64(i), 300)
		var buf bytes.Buffer
		if err := p.b.Snapshot(&buf); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte("SBOB"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		b, err := Restore(r, nil)
		if err != nil {
			return
		}
		used := data[:len(data)-r.Len()]
		var buf bytes.Buffer
		require.NoError(t, b.Snapshot(&buf))
		require.Equal(t, used, buf.Bytes())
		b2, err := Restore(&buf, nil)
		require.NoError(t, err)
		require.Equal(t, b.Hash(), b2.Hash())
	})
}
