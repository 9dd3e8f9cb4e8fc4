package wal

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var seedFlag = flag.Uint64("wal.seed", 0, "seed for randomised tests (default: time based; env WAL_SEED also works)")

// testSeed returns the seed for a randomised test and logs it so that a
// failure can be replayed with -wal.seed or WAL_SEED.
func testSeed(t testing.TB) uint64 {
	seed := *seedFlag
	if v := os.Getenv("WAL_SEED"); seed == 0 && v != "" {
		var err error
		seed, err = strconv.ParseUint(v, 10, 64)
		require.NoError(t, err)
	}
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -wal.seed=%d)", seed, seed)
	return seed
}

func long() bool { return os.Getenv("SYSBLOCKS_LONG") == "1" }

// fakeClock is a manually advanced clock.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

type modelRec struct {
	data []byte
	time int64
}

// model is the reference: a slice of records starting at first.
type model struct {
	first uint64
	recs  []modelRec
}

func (m *model) next() uint64 { return m.first + uint64(len(m.recs)) }

func randData(rng *rand.Rand, max int) []byte {
	n := rng.IntN(max + 1)
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// TestModel runs random operation sequences against a Log and a slice
// model, including truncations and reopens, and compares every result.
func TestModel(t *testing.T) {
	seed := testSeed(t)
	rounds, steps := 6, 400
	if long() {
		rounds, steps = 60, 2000
	}
	for round := 0; round < rounds; round++ {
		rs := seed + uint64(round)
		t.Run(fmt.Sprintf("round=%d", round), func(t *testing.T) {
			runModel(t, rs, steps)
		})
	}
}

func runModel(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	dir := t.TempDir()
	clk := &fakeClock{now: time.Unix(1700000000, 0)}
	opts := Options{
		SegmentSize: MinSegmentSize << rng.IntN(3),
		IndexEvery:  1 + rng.IntN(1024),
		Sync:        SyncPolicy(rng.IntN(3)),
		Clock:       clk.Now,
		ReadCache:   rng.IntN(3),
	}
	if opts.Sync == SyncAlways && rng.IntN(2) == 0 {
		opts.Sync = SyncNever // fsyncs are slow; keep most rounds fast
	}
	t.Logf("seed %d options %+v", seed, opts)
	l, err := Open(dir, opts)
	require.NoError(t, err)
	defer func() { l.Close() }()
	m := &model{}
	maxRec := 300
	if rng.IntN(4) == 0 {
		maxRec = 2 * int(opts.SegmentSize) // records larger than a segment
	}
	for step := 0; step < steps; step++ {
		clk.now = clk.now.Add(time.Duration(rng.IntN(3)) * time.Millisecond)
		op := rng.IntN(100)
		switch {
		case op < 35:
			d := randData(rng, maxRec)
			off, err := l.Append(d)
			require.NoError(t, err)
			require.Equal(t, m.next(), off, "step %d append", step)
			m.recs = append(m.recs, modelRec{d, clk.now.UnixNano()})
		case op < 50:
			n := rng.IntN(8)
			batch := make([][]byte, n)
			for i := range batch {
				batch[i] = randData(rng, maxRec/4)
			}
			off, err := l.AppendBatch(batch)
			require.NoError(t, err)
			require.Equal(t, m.next(), off, "step %d batch", step)
			for _, d := range batch {
				m.recs = append(m.recs, modelRec{d, clk.now.UnixNano()})
			}
		case op < 70:
			off := m.first + uint64(rng.IntN(len(m.recs)+6))
			if off >= 3 {
				off -= 3
			}
			checkRead(t, l, m, off)
		case op < 78:
			from := m.first + uint64(rng.IntN(len(m.recs)+2))
			checkReader(t, l, m, from, rng.IntN(200))
		case op < 82:
			x := m.first + uint64(rng.IntN(len(m.recs)+3))
			if x > 0 && rng.IntN(3) == 0 {
				x--
			}
			err := l.TruncateFront(x)
			switch {
			case x > m.next():
				require.ErrorIs(t, err, ErrNotFound)
			case x <= m.first:
				require.NoError(t, err)
			default:
				require.NoError(t, err)
				m.recs = m.recs[x-m.first:]
				m.first = x
			}
		case op < 86:
			x := m.first + uint64(rng.IntN(len(m.recs)+3))
			if x > 0 && rng.IntN(3) == 0 {
				x--
			}
			err := l.TruncateBack(x)
			switch {
			case x < m.first:
				require.ErrorIs(t, err, ErrTruncated)
			case x >= m.next():
				require.NoError(t, err)
			default:
				require.NoError(t, err)
				m.recs = m.recs[:x-m.first]
			}
		case op < 90:
			require.NoError(t, l.Close())
			_, err := l.Append(nil)
			require.ErrorIs(t, err, ErrClosed)
			l, err = Open(dir, opts)
			require.NoError(t, err)
		case op < 96:
			var tn int64
			if len(m.recs) > 0 && rng.IntN(4) != 0 {
				tn = m.recs[rng.IntN(len(m.recs))].time + int64(rng.IntN(3)-1)*int64(time.Millisecond/2)
			} else {
				tn = clk.now.UnixNano() + int64(rng.IntN(3)-1)*int64(time.Hour)
			}
			got, err := l.OffsetAt(time.Unix(0, tn))
			require.NoError(t, err)
			want := m.next()
			for i, r := range m.recs {
				if r.time >= tn {
					want = m.first + uint64(i)
					break
				}
			}
			require.Equal(t, want, got, "step %d OffsetAt(%d)", step, tn)
		default:
			require.NoError(t, l.Sync())
		}
		require.Equal(t, m.first, l.FirstOffset(), "step %d first", step)
		require.Equal(t, m.next(), l.NextOffset(), "step %d next", step)
		if op >= 78 && op < 90 {
			checkDense(t, l) // after truncations and reopens
		}
	}
	checkDense(t, l)
	checkReader(t, l, m, m.first, len(m.recs)+1)
}

func checkRead(t *testing.T, l *Log, m *model, off uint64) {
	t.Helper()
	rec, err := l.Read(off)
	switch {
	case off < m.first:
		require.ErrorIs(t, err, ErrTruncated, "read %d", off)
	case off >= m.next():
		require.ErrorIs(t, err, ErrNotFound, "read %d", off)
	default:
		require.NoError(t, err, "read %d", off)
		want := m.recs[off-m.first]
		require.Equal(t, off, rec.Offset)
		require.Equal(t, want.time, rec.Time, "read %d time", off)
		require.True(t, bytes.Equal(want.data, rec.Data), "read %d data", off)
		// ReadInto returns the same record in the caller's buffer.
		buf := make([]byte, 3, 64)
		into, err := l.ReadInto(buf, off)
		require.NoError(t, err, "read into %d", off)
		require.Equal(t, rec.Offset, into.Offset)
		require.Equal(t, rec.Time, into.Time)
		require.True(t, bytes.Equal(want.data, into.Data), "read into %d data", off)
		if len(want.data) <= cap(buf) && len(want.data) > 0 {
			require.Same(t, &buf[:1][0], &into.Data[0], "read into %d reuses the buffer", off)
		}
	}
}

func checkReader(t *testing.T, l *Log, m *model, from uint64, n int) {
	t.Helper()
	r := l.NewReader(from)
	for i := 0; i < n; i++ {
		off := from + uint64(i)
		rec, err := r.Next()
		switch {
		case off < m.first:
			require.ErrorIs(t, err, ErrTruncated)
			return
		case off >= m.next():
			require.True(t, errors.Is(err, io.EOF), "reader at %d: %v", off, err)
			return
		}
		require.NoError(t, err, "reader at %d", off)
		want := m.recs[off-m.first]
		require.Equal(t, off, rec.Offset)
		require.Equal(t, want.time, rec.Time)
		require.True(t, bytes.Equal(want.data, rec.Data), "reader data at %d", off)
	}
}

var testEpoch = time.Unix(1700000000, 0)

const msec = time.Millisecond

// TestReaderSeek: Seek repositions a Reader, backwards and forwards.
func TestReaderSeek(t *testing.T) {
	l, err := Open(t.TempDir(), Options{Sync: SyncNever, IndexEvery: 64})
	require.NoError(t, err)
	defer l.Close()
	for i := 0; i < 100; i++ {
		_, err := l.Append([]byte{byte(i)})
		require.NoError(t, err)
	}
	r := l.NewReader(10)
	for _, off := range []uint64{10, 11, 50, 3, 99} {
		r.Seek(off)
		require.Equal(t, off, r.Offset())
		rec, err := r.Next()
		require.NoError(t, err)
		require.Equal(t, off, rec.Offset)
		require.Equal(t, byte(off), rec.Data[0])
	}
	_, err = r.Next()
	require.ErrorIs(t, err, io.EOF)
}
