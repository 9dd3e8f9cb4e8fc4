package wal

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func flipBit(t *testing.T, path string, pos int64, bit uint) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	b[pos] ^= 1 << bit
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

// TestBitFlipTail (recovery test 3, tail): a flipped bit anywhere in the
// last frame makes it a torn tail: reopening yields the preceding records.
func TestBitFlipTail(t *testing.T) {
	src := t.TempDir()
	opts := Options{Sync: SyncNever}
	recs, pos, end, lastFirst := buildLog(t, src, opts, 10)
	for p := pos; p < end; p++ {
		dir := copyDir(t, src)
		flipBit(t, lastSegPath(t, dir), p, uint(p%8))
		expectRecords(t, dir, opts, recs, int(lastFirst), fmt.Sprintf("flip at %d", p))
	}
}

// TestBitFlipMidLog (recovery test 3, before the tail): damage followed by a
// valid frame fails Open with ErrCorrupt naming segment and offset, and
// Repair cuts the log there.
func TestBitFlipMidLog(t *testing.T) {
	src := t.TempDir()
	opts := Options{Sync: SyncNever}
	recs, _, _, _ := buildLog(t, src, opts, 10)
	// Frame 3 starts after the header and frames 0..2.
	pos := int64(segHeaderSize)
	for i := 0; i < 3; i++ {
		pos += frameSize([][]byte{recs[i]})
	}
	for _, p := range []int64{pos, pos + 5, pos + 20, pos + frameHeaderSize + 3} {
		dir := copyDir(t, src)
		flipBit(t, lastSegPath(t, dir), p, 3)
		_, err := Open(dir, opts)
		require.ErrorIs(t, err, ErrCorrupt, "flip at %d", p)
		require.Contains(t, err.Error(), "00000000000000000000.seg")
		require.Contains(t, err.Error(), "offset 3 ")
		repaired := opts
		repaired.Repair = true
		expectRecords(t, dir, repaired, recs, 3, fmt.Sprintf("repair flip at %d", p))
	}
}

// buildSealed writes enough records for several segments and returns them.
func buildSealed(t *testing.T, dir string, opts Options, n int) [][]byte {
	t.Helper()
	l, err := Open(dir, opts)
	require.NoError(t, err)
	var recs [][]byte
	for i := 0; i < n; i++ {
		r := crashRec(2, uint64(i), 50+i%200)
		_, err := l.Append(r)
		require.NoError(t, err)
		recs = append(recs, r)
	}
	require.Greater(t, len(l.segs), 3)
	require.NoError(t, l.Close())
	return recs
}

// TestBitFlipSealed (recovery test 3, sealed segments): with intact index
// files the damaged record is reported by Read and Reader as ErrCorrupt and
// no other record is affected; without them Open fails, or with Repair cuts
// the log at the damaged record.
func TestBitFlipSealed(t *testing.T) {
	src := t.TempDir()
	opts := Options{Sync: SyncNever, SegmentSize: MinSegmentSize, IndexEvery: 256}
	recs := buildSealed(t, src, opts, 200)
	segs, err := filepath.Glob(filepath.Join(src, "*.seg"))
	require.NoError(t, err)
	second := segs[1]
	var base uint64
	_, err = fmt.Sscanf(filepath.Base(second), "%020d.seg", &base)
	require.NoError(t, err)
	// Damage the data of the record base+2.
	pos := int64(segHeaderSize) + frameSize([][]byte{recs[base]}) + frameSize([][]byte{recs[base+1]}) + frameHeaderSize + 10
	dir := copyDir(t, src)
	flipBit(t, filepath.Join(dir, filepath.Base(second)), pos, 1)

	l, err := Open(dir, opts)
	require.NoError(t, err)
	for i := range recs {
		rec, err := l.Read(uint64(i))
		if uint64(i) == base+2 {
			require.ErrorIs(t, err, ErrCorrupt)
			require.Contains(t, err.Error(), filepath.Base(second))
			continue
		}
		require.NoError(t, err, "read %d", i)
		require.Equal(t, recs[i], rec.Data)
	}
	r := l.NewReader(0)
	for i := uint64(0); ; i++ {
		rec, err := r.Next()
		if i == base+2 {
			require.ErrorIs(t, err, ErrCorrupt)
			break
		}
		require.NoError(t, err)
		require.Equal(t, recs[i], rec.Data)
	}
	require.NoError(t, l.Close())

	for _, ext := range []string{".idx", ".tix"} {
		require.NoError(t, os.Remove(filepath.Join(dir, fmt.Sprintf("%020d%s", base, ext))))
	}
	_, err = Open(dir, opts)
	require.ErrorIs(t, err, ErrCorrupt)
	require.Contains(t, err.Error(), fmt.Sprintf("offset %d ", base+2))
	repaired := opts
	repaired.Repair = true
	expectRecords(t, dir, repaired, recs, int(base+2), "repair sealed")

	// A damaged segment header is corruption too.
	dir = copyDir(t, src)
	flipBit(t, filepath.Join(dir, filepath.Base(second)), 17, 0)
	_, err = Open(dir, opts)
	require.ErrorIs(t, err, ErrCorrupt)
}

// TestIndexDamage (recovery test 4): deleted, truncated, bit-flipped, stale
// or garbage index files are rebuilt from the segment; the rebuilt files
// equal the originals and reads and OffsetAt are unchanged.
func TestIndexDamage(t *testing.T) {
	src := t.TempDir()
	clk := &fakeClock{now: testEpoch}
	opts := Options{Sync: SyncNever, SegmentSize: MinSegmentSize, IndexEvery: 200, Clock: func() time.Time {
		clk.now = clk.now.Add(msec)
		return clk.now
	}}
	recs := buildSealed(t, src, opts, 300)
	idx := filepath.Join(src, "00000000000000000000.idx")
	tix := filepath.Join(src, "00000000000000000000.tix")
	origIdx, err := os.ReadFile(idx)
	require.NoError(t, err)
	origTix, err := os.ReadFile(tix)
	require.NoError(t, err)
	other, err := filepath.Glob(filepath.Join(src, "*.idx"))
	require.NoError(t, err)
	stale, err := os.ReadFile(other[1])
	require.NoError(t, err)

	cases := []struct {
		name string
		file string
		edit func([]byte) []byte
	}{
		{"delete idx", idx, nil},
		{"delete tix", tix, nil},
		{"truncate idx", idx, func(b []byte) []byte { return b[:len(b)/2] }},
		{"empty tix", tix, func([]byte) []byte { return nil }},
		{"flip idx entry", idx, func(b []byte) []byte { b[idxHeaderSize+9] ^= 4; return b }},
		{"flip tix crc", tix, func(b []byte) []byte { b[len(b)-1] ^= 1; return b }},
		{"stale idx", idx, func([]byte) []byte { return stale }},
		{"garbage tix", tix, func(b []byte) []byte { return bytes.Repeat([]byte{0xA5}, len(b)) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, src)
			p := filepath.Join(dir, filepath.Base(tc.file))
			if tc.edit == nil {
				require.NoError(t, os.Remove(p))
			} else {
				b, err := os.ReadFile(p)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(p, tc.edit(b), 0o644))
			}
			l, err := Open(dir, opts)
			require.NoError(t, err)
			for i, r := range recs {
				rec, err := l.Read(uint64(i))
				require.NoError(t, err)
				require.Equal(t, r, rec.Data)
			}
			r50, err := l.Read(50)
			require.NoError(t, err)
			for _, tn := range []int64{r50.Time, r50.Time - 1} {
				at, err := l.OffsetAt(time.Unix(0, tn))
				require.NoError(t, err)
				require.Equal(t, uint64(50), at)
			}
			require.NoError(t, l.Close())
			gotIdx, err := os.ReadFile(filepath.Join(dir, filepath.Base(idx)))
			require.NoError(t, err)
			gotTix, err := os.ReadFile(filepath.Join(dir, filepath.Base(tix)))
			require.NoError(t, err)
			require.Equal(t, origIdx, gotIdx, "rebuilt .idx")
			require.Equal(t, origTix, gotTix, "rebuilt .tix")
			_, err = l.NewReader(0).Next()
			require.ErrorIs(t, err, ErrClosed)
		})
	}
}

// TestBitFlipSealedBatch: a flipped bit anywhere in a batch frame of a
// sealed segment whose index files are intact (so Open builds the dense
// index from headers and tables it does not verify) never yields a bogus
// record: Open fails with ErrCorrupt, or every Read returns the original
// data and time or ErrCorrupt, and records of other frames stay readable.
func TestBitFlipSealedBatch(t *testing.T) {
	src := t.TempDir()
	opts := Options{Sync: SyncNever, SegmentSize: MinSegmentSize}
	l, err := Open(src, opts)
	require.NoError(t, err)
	var recs [][]byte
	var times []int64
	for len(l.segs) < 2 {
		batch := [][]byte{crashRec(3, uint64(len(recs)), 40), {}, crashRec(3, uint64(len(recs)+2), 25)}
		_, err := l.AppendBatch(batch)
		require.NoError(t, err)
		recs = append(recs, batch...)
	}
	for i := range recs {
		rec, err := l.Read(uint64(i))
		require.NoError(t, err)
		times = append(times, rec.Time)
	}
	seg := filepath.Base(l.segs[0].path)
	// The second frame of the first (sealed) segment holds offsets 3..5.
	fr := l.segs[0].dense.frames[1]
	start, end := int64(fr.pos), int64(l.segs[0].dense.frames[2].pos)
	require.NoError(t, l.Close())

	for p := start; p < end; p++ {
		dir := copyDir(t, src)
		flipBit(t, filepath.Join(dir, seg), p, uint(p%8))
		l, err := Open(dir, opts)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt, "flip at %d", p)
			continue
		}
		bad := 0
		for i := range recs {
			rec, err := l.Read(uint64(i))
			if err != nil {
				require.ErrorIs(t, err, ErrCorrupt, "flip at %d read %d", p, i)
				require.True(t, i >= 3 && i < 6, "flip at %d damaged read %d", p, i)
				bad++
				continue
			}
			require.True(t, bytes.Equal(recs[i], rec.Data), "flip at %d read %d", p, i)
			require.Equal(t, times[i], rec.Time, "flip at %d read %d", p, i)
		}
		if p >= start+4 { // the frame crc is the Reader's and recovery's, not Read's
			require.Positive(t, bad, "flip at %d went unnoticed", p)
		}
		require.NoError(t, l.Close())
	}
}
