package wal

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkDense compares every segment's dense index with the frames found by
// walking the segment file from its header: each record's frame, data
// position and size, and that its checksum verifies against the index.
func checkDense(t *testing.T, l *Log) {
	t.Helper()
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, s := range l.segs {
		d := s.dense
		n, batches := 0, 0
		pos, size := int64(segHeaderSize), s.size.Load()
		for pos < size {
			var hb [frameHeaderSize]byte
			_, err := s.f.ReadAt(hb[:], pos)
			require.NoError(t, err)
			h := parseFrameHeader(hb[:])
			require.Equal(t, s.base+uint64(n), h.first, "segment %d frame at %d", s.base, pos)
			f := make([]byte, h.size())
			_, err = s.f.ReadAt(f, pos)
			require.NoError(t, err)
			require.True(t, checkFrame(f, h), "segment %d frame at %d", s.base, pos)
			if h.count > 1 {
				batches++
			}
			for i := range h.count {
				require.Less(t, n, len(d.recs), "segment %d table length", s.base)
				r := d.recs[n]
				if h.count == 1 {
					require.Equal(t, single, r.frame, "segment %d record %d", s.base, n)
					require.EqualValues(t, pos, r.head(), "segment %d record %d", s.base, n)
					require.Equal(t, h.crc, r.sum, "segment %d record %d", s.base, n)
				} else {
					fr := d.frame(r)
					require.NotNil(t, fr, "segment %d record %d", s.base, n)
					require.EqualValues(t, pos, fr.pos, "segment %d record %d", s.base, n)
					require.Equal(t, h.time, fr.time)
					require.Equal(t, binary.LittleEndian.Uint32(f[frameHeaderSize+4*(int(h.count)+1)+4*int(i):]), r.sum, "segment %d record %d", s.base, n)
				}
				data := frameRecord(f, h, i)
				require.EqualValues(t, len(data), r.size)
				require.Equal(t, data, f[int64(r.data)-pos:int64(r.data)-pos+int64(r.size)], "segment %d record %d", s.base, n)
				shifted := r // positions relative to f
				shifted.data -= uint32(pos)
				got, tm, ok := verifyRecord(f, shifted, shiftFrame(d.frame(r), pos), s.base+uint64(n))
				if int64(r.data)+int64(r.size) <= int64(len(s.mm)) {
					_, _, mok := verifyRecord(s.mm, r, d.frame(r), s.base+uint64(n))
					require.True(t, mok, "segment %d record %d from the mapping", s.base, n)
				}
				require.True(t, ok, "segment %d record %d", s.base, n)
				require.Equal(t, data, got)
				require.Equal(t, h.time, tm)
				n++
			}
			pos += h.size()
		}
		require.Equal(t, size, pos, "segment %d", s.base)
		require.Equal(t, s.next-s.base, uint64(n), "segment %d", s.base)
		require.Len(t, d.recs, n, "segment %d table length", s.base)
		require.Len(t, d.frames, batches, "segment %d frames", s.base)
	}
}

// TestDenseReopen checks the dense table as built by appends, by the scan
// of Open (index files deleted) and by the header walk after loading index
// files, across TruncateBack inside batches and TruncateFront.
func TestDenseReopen(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentSize: MinSegmentSize, IndexEvery: 100, Sync: SyncNever}
	l, err := Open(dir, opts)
	require.NoError(t, err)
	data := make([]byte, 50)
	for i := 0; i < 300; i++ {
		if i%3 == 0 {
			_, err = l.AppendBatch([][]byte{data, data[:1], data[:7], {}})
		} else {
			_, err = l.Append(data[:i%50])
		}
		require.NoError(t, err)
	}
	checkDense(t, l)
	reopen := func(dropIndex bool) {
		t.Helper()
		require.NoError(t, l.Close())
		if dropIndex {
			ents, err := os.ReadDir(dir)
			require.NoError(t, err)
			for _, e := range ents {
				if n := e.Name(); len(n) > 4 && (n[len(n)-4:] == ".idx" || n[len(n)-4:] == ".tix") {
					require.NoError(t, os.Remove(dir+"/"+n))
				}
			}
		}
		l, err = Open(dir, opts)
		require.NoError(t, err)
		checkDense(t, l)
	}
	reopen(false)
	// With intact index files Open builds sealed segments' tables from
	// their headers and tables alone; that walk must accept every one.
	require.Greater(t, len(l.segs), 2)
	for _, s := range l.segs[:len(l.segs)-1] {
		d, ok, err := densePositions(s.f, s.size.Load(), s.base, s.next)
		require.NoError(t, err)
		require.True(t, ok, "segment %d", s.base)
		require.Equal(t, s.dense.recs, d.recs, "segment %d", s.base)
	}
	reopen(true)
	// Cut inside a batch in a sealed segment, then in the active one.
	require.NoError(t, l.TruncateBack(l.NextOffset()-2))
	checkDense(t, l)
	require.NoError(t, l.TruncateBack(301))
	checkDense(t, l)
	require.NoError(t, l.TruncateFront(150))
	checkDense(t, l)
	_, err = l.AppendBatch([][]byte{data, data})
	require.NoError(t, err)
	checkDense(t, l)
	reopen(false)
	for off := l.FirstOffset(); off < l.NextOffset(); off++ {
		_, err := l.Read(off)
		require.NoError(t, err, "offset %d", off)
	}
	require.NoError(t, l.Close())
}

// TestDenseBadHeaders: an index file that matches the segment's size but
// whose frames do not chain (a header damaged after the index was written)
// makes Open fall back to the full scan, which reports the damage.
func TestDenseBadHeaders(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentSize: MinSegmentSize, Sync: SyncNever}
	l, err := Open(dir, opts)
	require.NoError(t, err)
	for l.segs[0] == l.segs[len(l.segs)-1] {
		_, err = l.Append(make([]byte, 100))
		require.NoError(t, err)
	}
	p, pos := l.segs[0].path, l.segs[0].dense.recs[3].head()
	require.NoError(t, l.Close())
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{0xff}, int64(pos)+8) // first offset of frame 3
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = Open(dir, opts)
	require.ErrorIs(t, err, ErrCorrupt)
}

// shiftFrame returns a copy of fr with its positions made relative to pos,
// or nil.
func shiftFrame(fr *frameInfo, pos int64) *frameInfo {
	if fr == nil {
		return nil
	}
	c := *fr
	c.pos -= uint32(pos)
	c.dstart -= uint32(pos)
	return &c
}
