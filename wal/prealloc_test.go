package wal

import (
	"bytes"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPreallocate checks the files around preallocation: while the log is
// open the active segment holds its frames and then zeros up to
// SegmentSize (on Linux); sealed and closed segments end at their last
// frame; and a copy of the directory taken while the log is open (what a
// crash leaves) opens with every record, the zeros cut as a torn tail, also
// after TruncateBack cut the active segment.
func TestPreallocate(t *testing.T) {
	for _, sync := range []SyncPolicy{SyncNever, SyncAlways} {
		t.Run(sync.String(), func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{Sync: sync, SegmentSize: 1 << 20}
			l, err := Open(dir, opts)
			require.NoError(t, err)
			rng := rand.New(rand.NewPCG(1, uint64(sync)))
			var recs [][]byte
			add := func(n int) {
				for range n {
					batch := make([][]byte, 1+rng.IntN(20))
					for i := range batch {
						batch[i] = crashRec(1, uint64(len(recs)+i), 1+rng.IntN(3000))
					}
					_, err := l.AppendBatch(batch)
					require.NoError(t, err)
					recs = append(recs, batch...)
				}
			}
			check := func(open bool) {
				t.Helper()
				for i, s := range l.segs {
					b, err := os.ReadFile(s.path)
					require.NoError(t, err)
					size := s.size.Load()
					if !open || i < len(l.segs)-1 {
						require.EqualValues(t, size, len(b), "segment %d ends at its last frame", i)
						continue
					}
					if runtime.GOOS == "linux" && size < opts.SegmentSize {
						require.EqualValues(t, opts.SegmentSize, len(b), "active segment preallocated")
					}
					require.Equal(t, len(b)-int(size), zeroRun(b[size:]), "only zeros past the last frame")
				}
			}
			recovered := func() {
				t.Helper()
				c, err := Open(copyDir(t, dir), opts)
				require.NoError(t, err)
				require.EqualValues(t, len(recs), c.NextOffset())
				for i, want := range recs {
					r, err := c.Read(uint64(i))
					require.NoError(t, err, "offset %d", i)
					require.Equal(t, want, r.Data, "offset %d", i)
				}
				require.NoError(t, c.Close())
			}
			add(300)
			require.Greater(t, len(l.segs), 2)
			check(true)
			recovered()
			cut := uint64(len(recs) - 30)
			require.NoError(t, l.TruncateBack(cut))
			recs = recs[:cut]
			check(true)
			add(10)
			check(true)
			recovered()
			require.NoError(t, l.Close())
			check(false)
			l, err = Open(dir, opts)
			require.NoError(t, err)
			check(true)
			add(5)
			recovered()
			require.NoError(t, l.Close())
			check(false)
		})
	}
}

// TestValidFrameAfterZeros: the search for a valid frame after damage skips
// runs of zeros but still finds a frame right after one (mid-log damage),
// and finds none in zeros alone (a torn tail).
func TestValidFrameAfterZeros(t *testing.T) {
	require.Equal(t, 0, zeroRun(nil))
	require.Equal(t, 11, zeroRun(append(make([]byte, 11), 1, 0)))
	require.Equal(t, 16, zeroRun(make([]byte, 16)))
	a := appendFrame1(nil, 7, 1, []byte("first"))
	for _, gap := range []int{0, 1, 27, 28, 29, 4095, 70000} {
		buf := append(append([]byte(nil), a...), 0xee, 0xee, 0xee) // damage
		buf = append(buf, make([]byte, gap)...)
		tail := len(buf)
		buf = append(buf, appendFrame1(nil, 8, 2, []byte("second"))...)
		ok, err := validFrameAfter(bytes.NewReader(buf), int64(len(a)), int64(len(buf)), 8)
		require.NoError(t, err)
		require.True(t, ok, "gap %d", gap)
		ok, err = validFrameAfter(bytes.NewReader(buf[:tail]), int64(len(a)), int64(tail), 8)
		require.NoError(t, err)
		require.False(t, ok, "gap %d, no frame", gap)
	}
}
