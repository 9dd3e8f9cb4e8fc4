package wal

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

const batchLen = 6

// buildBatches writes batches of batchLen records until there are several
// sealed segments, each starting with a batch frame, and returns the records
// and the base offset of the second segment.
func buildBatches(t *testing.T, dir string, opts Options) (recs [][]byte, second uint64) {
	t.Helper()
	l, err := Open(dir, opts)
	require.NoError(t, err)
	for g := uint64(0); len(l.segs) < 4; g++ {
		batch := make([][]byte, batchLen)
		for i := range batch {
			batch[i] = crashRec(3, g*batchLen+uint64(i), 40+int(g*7+uint64(i)*13)%60)
		}
		_, err := l.AppendBatch(batch)
		require.NoError(t, err)
		recs = append(recs, batch...)
	}
	second = l.segs[1].base
	require.Zero(t, second%batchLen, "segments start with a batch")
	require.NoError(t, l.Close())
	return recs, second
}

// TestBitFlipInBatch: damage inside a batch frame of a sealed segment makes
// Read fail with ErrCorrupt for exactly the records whose check covers the
// damaged byte (a record's data or crc: that record; an end shared by two
// records: both; the header: the whole batch), while the other records of
// the batch read back intact. Reader verifies the whole batch and stops
// there. Nothing returned is ever different from what was written.
func TestBitFlipInBatch(t *testing.T) {
	src := t.TempDir()
	opts := Options{Sync: SyncNever, SegmentSize: MinSegmentSize, IndexEvery: 256}
	recs, base := buildBatches(t, src, opts)
	seg := segPath(src, base, ".seg")
	frame := int64(segHeaderSize)
	ends := frame + frameHeaderSize
	crcs := ends + 4*(batchLen+1)
	data := crcs + 4*batchLen
	startOf := func(i int) int64 {
		var n int64
		for _, r := range recs[base : base+uint64(i)] {
			n += int64(len(r))
		}
		return n
	}
	batch := func(i ...uint64) []uint64 {
		out := make([]uint64, len(i))
		for k, x := range i {
			out[k] = base + x
		}
		return out
	}
	cases := []struct {
		name      string
		pos       int64
		corrupt   []uint64
		openFails bool // the header walk that rebuilds the dense table sees it
	}{
		{"data of record 2", data + startOf(2) + 1, batch(2), false},
		{"data of record 5", data + startOf(5) + int64(len(recs[base+5])) - 1, batch(5), false},
		{"crc of record 4", crcs + 4*4 + 2, batch(4), false},
		{"end shared by records 2 and 3", ends + 4*3, batch(2, 3), false},
		{"header time", frame + 17, batch(0, 1, 2, 3, 4, 5), false},
		{"header count", frame + 24, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyDir(t, src)
			flipBit(t, filepath.Join(dir, filepath.Base(seg)), c.pos, uint(c.pos%8))
			for _, cache := range []int{0, 2} {
				o := opts
				o.ReadCache = cache
				l, err := Open(dir, o)
				if c.openFails {
					require.ErrorIs(t, err, ErrCorrupt)
					require.Contains(t, err.Error(), filepath.Base(seg))
					continue
				}
				require.NoError(t, err)
				for i := range recs {
					rec, err := l.Read(uint64(i))
					if containsOffset(c.corrupt, uint64(i)) {
						require.ErrorIs(t, err, ErrCorrupt, "read %d", i)
						require.Contains(t, err.Error(), filepath.Base(seg))
						continue
					}
					require.NoError(t, err, "read %d", i)
					require.Equal(t, recs[i], rec.Data, "read %d", i)
				}
				r := l.NewReader(0)
				for i := uint64(0); ; i++ {
					rec, err := r.Next()
					if i == base {
						require.ErrorIs(t, err, ErrCorrupt, "reader at %d", i)
						break
					}
					require.NoError(t, err)
					require.Equal(t, recs[i], rec.Data)
				}
				require.NoError(t, l.Close())
			}
		})
	}
}

func containsOffset(offs []uint64, x uint64) bool {
	for _, o := range offs {
		if o == x {
			return true
		}
	}
	return false
}

// TestBatchFrameLayout pins the batch frame layout of FORMAT.md: the tables
// and every checksum are recomputed here from the description.
func TestBatchFrameLayout(t *testing.T) {
	recs := [][]byte{[]byte("ab"), {}, []byte("cde")}
	f := appendFrame(nil, 7, 99, recs)
	require.Len(t, f, frameHeaderSize+4*4+4*3+5)
	require.EqualValues(t, len(f)-frameHeaderSize, binary.LittleEndian.Uint32(f[4:]))
	require.EqualValues(t, 7, binary.LittleEndian.Uint64(f[8:]))
	require.EqualValues(t, 99, binary.LittleEndian.Uint64(f[16:]))
	require.EqualValues(t, 3, binary.LittleEndian.Uint32(f[24:]))
	ends := []uint32{0, 2, 2, 5}
	for i, e := range ends {
		require.Equal(t, e, binary.LittleEndian.Uint32(f[frameHeaderSize+4*i:]), "end %d", i)
	}
	tables := frameHeaderSize + 4*4 + 4*3
	require.Equal(t, crc32.Checksum(f[4:tables], castagnoli), binary.LittleEndian.Uint32(f))
	for i, r := range recs {
		covered := append(append(append([]byte(nil), f[4:frameHeaderSize]...), f[frameHeaderSize+4*i:frameHeaderSize+4*i+8]...), r...)
		require.Equal(t, crc32.Checksum(covered, castagnoli), binary.LittleEndian.Uint32(f[frameHeaderSize+16+4*i:]), "crc %d", i)
		require.Equal(t, r, f[tables+int(ends[i]):tables+int(ends[i+1])])
	}
	h := parseFrameHeader(f)
	require.True(t, checkFrame(f, h))
	var d denseIndex
	require.True(t, d.add(0, h, f))
	require.Len(t, d.recs, len(recs))
	for i, want := range recs {
		r := d.recs[i]
		require.Zero(t, r.frame)
		data := f[r.data : r.data+r.size]
		require.Equal(t, want, data)
		require.Equal(t, binary.LittleEndian.Uint32(f[frameHeaderSize+16+4*i:]), r.sum, "crc %d", i)
		require.Equal(t, r.sum, batchRecordCRC(&d.frames[0], r, data), "crc %d", i)
		got, tm, ok := verifyRecord(f, r, &d.frames[0], 7+uint64(i))
		require.True(t, ok)
		require.Equal(t, want, got)
		require.EqualValues(t, 99, tm)
	}
	one := appendFrame(nil, 1, 2, [][]byte{[]byte("xyz")})
	require.Len(t, one, frameHeaderSize+3)
	require.Equal(t, crc32.Checksum(one[4:], castagnoli), binary.LittleEndian.Uint32(one))
}

// TestFormatVersion: an intact segment or start marker of another format
// version fails Open with ErrVersion, also with Repair, and is left alone.
func TestFormatVersion(t *testing.T) {
	src := t.TempDir()
	l, err := Open(src, Options{Sync: SyncNever})
	require.NoError(t, err)
	_, err = l.AppendBatch([][]byte{[]byte("a"), []byte("b")})
	require.NoError(t, err)
	require.NoError(t, l.TruncateFront(1))
	require.NoError(t, l.Close())

	oldVersion := func(t *testing.T, path string, at int, crc func(b []byte) []byte) {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		b[at] = 1
		require.NoError(t, os.WriteFile(path, crc(b), 0o644))
	}
	seg := func(b []byte) []byte {
		binary.LittleEndian.PutUint32(b[12:], segHeaderCRC(b))
		return b
	}
	start := func(b []byte) []byte {
		binary.LittleEndian.PutUint32(b[16:], crc32.Checksum(b[:16], castagnoli))
		return b
	}
	for _, c := range []struct {
		name, file string
		at         int
		crc        func([]byte) []byte
	}{
		{"segment", "00000000000000000000.seg", 8, seg},
		{"start marker", startFile, 4, start},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := copyDir(t, src)
			oldVersion(t, filepath.Join(dir, c.file), c.at, c.crc)
			before, err := os.ReadFile(filepath.Join(dir, c.file))
			require.NoError(t, err)
			for _, repair := range []bool{false, true} {
				_, err := Open(dir, Options{Sync: SyncNever, Repair: repair})
				require.ErrorIs(t, err, ErrVersion, "repair=%v", repair)
				require.Contains(t, err.Error(), "version 1")
			}
			after, err := os.ReadFile(filepath.Join(dir, c.file))
			require.NoError(t, err)
			require.True(t, bytes.Equal(before, after), "file left alone")
		})
	}
}

// TestReadCache: only the newest ReadCache segments keep a copy; Read
// serves those from memory (bytes this process wrote, unaffected by later
// damage to the file), and every other segment from the file, verified.
func TestReadCache(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{Sync: SyncNever, SegmentSize: MinSegmentSize, ReadCache: 2})
	require.NoError(t, err)
	defer l.Close()
	var recs [][]byte
	for i := 0; len(l.segs) < 5; i++ {
		r := crashRec(4, uint64(i), 100)
		_, err := l.Append(r)
		require.NoError(t, err)
		recs = append(recs, r)
	}
	for i, s := range l.segs {
		require.Equal(t, i >= len(l.segs)-2, s.mem != nil, "segment %d cached", i)
		if s.mem != nil {
			disk, err := os.ReadFile(s.path)
			require.NoError(t, err)
			// The active segment's file goes on with preallocated zeros.
			require.GreaterOrEqual(t, len(disk), len(s.mem), "segment %d", i)
			require.True(t, bytes.Equal(disk[:len(s.mem)], s.mem), "segment %d copy equals the file", i)
			require.Equal(t, len(disk)-len(s.mem), zeroRun(disk[len(s.mem):]), "segment %d: only zeros past the data", i)
		}
	}
	// Damage the first record of an evicted and of a cached segment.
	damage := func(s *segment) uint64 {
		f, err := os.OpenFile(s.path, os.O_RDWR, 0)
		require.NoError(t, err)
		_, err = f.WriteAt([]byte{0xff}, segHeaderSize+frameHeaderSize+5)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		return s.base
	}
	evicted, cached := damage(l.segs[1]), damage(l.segs[len(l.segs)-2])
	_, err = l.Read(evicted)
	require.ErrorIs(t, err, ErrCorrupt)
	rec, err := l.Read(cached)
	require.NoError(t, err)
	require.Equal(t, recs[cached], rec.Data)
}

// TestReadIntoAllocs: ReadInto with a large enough buffer does not
// allocate, from the cache and from the mapping.
func TestReadIntoAllocs(t *testing.T) {
	for _, cache := range []int{0, 1} {
		t.Run(fmt.Sprintf("cache=%d", cache), func(t *testing.T) {
			l, err := Open(t.TempDir(), Options{Sync: SyncNever, ReadCache: cache})
			require.NoError(t, err)
			defer l.Close()
			_, err = l.AppendBatch([][]byte{make([]byte, 100), make([]byte, 100), make([]byte, 100)})
			require.NoError(t, err)
			buf := make([]byte, 0, 128)
			allocs := testing.AllocsPerRun(100, func() {
				rec, err := l.ReadInto(buf, 1)
				if err != nil || len(rec.Data) != 100 {
					t.Fatal(err)
				}
			})
			require.Zero(t, allocs)
		})
	}
}

// TestUpdateCRC8 checks the pure-Go 8-byte CRC-32C step against hash/crc32.
func TestUpdateCRC8(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 8))
	p := make([]byte, 8)
	for range 10000 {
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		crc := rng.Uint32()
		require.Equal(t, crc32.Update(crc, castagnoli, p), updateCRC8(crc, p), "crc %#x bytes %x", crc, p)
	}
}
