package wal

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// allocated is the disk space f's blocks occupy, and its size.
func allocated(t *testing.T, path string) (alloc, size int64) {
	t.Helper()
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(path, &st))
	return st.Blocks * 512, st.Size
}

// TestReserve checks that the active segment has its blocks reserved ahead
// of the appends (where the file system supports fallocate), and that
// sealing and closing give the reservation back.
func TestReserve(t *testing.T) {
	dir := t.TempDir()
	const segSize = 1 << 20
	l, err := Open(dir, Options{Sync: SyncNever, SegmentSize: segSize})
	require.NoError(t, err)
	rec := make([]byte, 1000)
	for l.NextOffset() < 1500 { // about a segment and a half
		_, err := l.Append(rec)
		require.NoError(t, err)
	}
	segs, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	require.NoError(t, err)
	require.Len(t, segs, 2)
	alloc, size := allocated(t, segs[1])
	if alloc < segSize {
		t.Logf("active segment: %d bytes allocated for %d written: no fallocate here", alloc, size)
	}
	alloc, size = allocated(t, segs[0])
	require.LessOrEqual(t, alloc, (size+65535)&^65535, "sealed segment keeps its reservation")
	require.NoError(t, l.Close())
	alloc, size = allocated(t, segs[1])
	require.LessOrEqual(t, alloc, (size+65535)&^65535, "closed segment keeps its reservation")

	l, err = Open(dir, Options{Sync: SyncNever, SegmentSize: segSize})
	require.NoError(t, err)
	got, err := l.Read(1499)
	require.NoError(t, err)
	require.Equal(t, rec, got.Data)
	require.NoError(t, l.Close())
}

// TestPopulateTail: faulting in a slice's spare capacity changes no byte of
// it, whatever its size and alignment.
func TestPopulateTail(t *testing.T) {
	for _, c := range []struct{ len, cap int }{{0, 0}, {0, 1}, {5, 4096}, {3, 3 << 20}, {1 << 20, 1<<20 + 100}} {
		b := make([]byte, c.cap)
		for i := range b {
			b[i] = byte(i*7 + 1)
		}
		want := append([]byte{}, b...)
		populateTail(b[:c.len])
		require.Equal(t, want, b, "len %d cap %d", c.len, c.cap)
	}
	recs := make([]recPos, 10, 100000)
	recs[9] = recPos{data: 1, size: 2, sum: 3, frame: 4}
	populateTail(recs)
	require.Equal(t, recPos{data: 1, size: 2, sum: 3, frame: 4}, recs[9])
	require.Equal(t, recPos{}, recs[:cap(recs)][99999])
}
