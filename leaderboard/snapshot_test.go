package leaderboard

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sysblocks/sysblocks/internal/testseed"
)

func snapshotOf(t testing.TB, b *Board) []byte {
	var buf bytes.Buffer
	n, err := b.WriteTo(&buf)
	require.NoError(t, err)
	require.Equal(t, int64(buf.Len()), n)
	return buf.Bytes()
}

func TestSnapshotRoundTrip(t *testing.T) {
	seed := testseed.Seed(t)
	for _, tb := range []TieBreak{ByMember, ByArrival} {
		for _, n := range []int{0, 1, 63, 64, 65, 5000} {
			t.Run(strconv.Itoa(int(tb))+"/"+strconv.Itoa(n), func(t *testing.T) {
				r := rand.New(rand.NewPCG(seed, uint64(n)))
				b, _ := NewWithOptions(Options{TieBreak: tb})
				for i := 0; i < n; i++ {
					b.Add("m"+strconv.Itoa(r.IntN(2*n)), testScore(r))
				}
				b.Add("", math.Inf(-1))
				got, err := Load(bytes.NewReader(snapshotOf(t, b)))
				require.NoError(t, err)
				require.NoError(t, got.check())
				require.Equal(t, b.Range(0, -1, nil), got.Range(0, -1, nil))
				// Arrival order survives: later additions still rank after.
				b.Add("late", 1)
				got.Add("late", 1)
				require.Equal(t, b.Range(0, -1, nil), got.Range(0, -1, nil))
			})
		}
	}
}

func TestSnapshotCorrupt(t *testing.T) {
	b := New()
	for i := 0; i < 100; i++ {
		b.Add("m"+strconv.Itoa(i), float64(i%7))
	}
	snap := snapshotOf(t, b)
	for i := range snap { // every truncation
		_, err := Load(bytes.NewReader(snap[:i]))
		require.ErrorIs(t, err, ErrCorrupt, "cut at %d", i)
	}
	for i := range snap { // every single bit flip is caught
		bad := bytes.Clone(snap)
		bad[i] ^= 1 << (i % 8)
		_, err := Load(bytes.NewReader(bad))
		require.Error(t, err, "flip at %d", i)
		if i != 4 {
			require.ErrorIs(t, err, ErrCorrupt, "flip at %d", i)
		}
	}
	bad := bytes.Clone(snap)
	bad[4] = 2
	_, err := Load(bytes.NewReader(bad))
	require.ErrorIs(t, err, ErrVersion)
}

// FuzzLoad feeds arbitrary bytes to Load: it must return a valid board or
// an error, never panic, and a loaded board must round-trip.
func FuzzLoad(f *testing.F) {
	for _, tb := range []TieBreak{ByMember, ByArrival} {
		b, _ := NewWithOptions(Options{TieBreak: tb})
		for i := 0; i < 70; i++ {
			b.Add(strconv.Itoa(i%13), float64(i%5))
		}
		var buf bytes.Buffer
		b.WriteTo(&buf)
		f.Add(buf.Bytes())
	}
	f.Add([]byte("SBLB\x01\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Load(bytes.NewReader(data))
		if err != nil {
			return
		}
		if err := b.check(); err != nil {
			t.Fatal(err)
		}
		again, err := Load(bytes.NewReader(snapshotOf(t, b)))
		if err != nil {
			t.Fatal(err)
		}
		require.Equal(t, b.Range(0, -1, nil), again.Range(0, -1, nil))
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func bytesReader(p []byte) *bytes.Reader { return bytes.NewReader(p) }
