package wal

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// fuzzTemplate is a valid segment holding fuzzRecs, as frames of one record
// and one batch.
func fuzzTemplate() ([]byte, [][]byte) {
	recs := [][]byte{[]byte("alpha"), {}, bytes.Repeat([]byte("b"), 40), []byte("c"), []byte("delta"), []byte("e")}
	seg := segHeader(0)
	seg = appendFrame1(seg, 0, 10, recs[0])
	seg = appendFrame1(seg, 1, 11, recs[1])
	seg = appendFrame(seg, 2, 12, recs[2:5])
	seg = appendFrame1(seg, 5, 13, recs[5])
	return seg, recs
}

// FuzzOpen (recovery test 5) opens a directory whose segment is a valid one
// with fuzzed bytes xored in, appended or cut off. Open must not panic; it
// either fails with ErrCorrupt or yields a prefix of the genuine records,
// never a bogus one. With sealed set, the segment is followed by another one,
// so it is scanned as a sealed segment.
func FuzzOpen(f *testing.F) {
	tmpl, _ := fuzzTemplate()
	f.Add([]byte{}, uint16(0), uint16(0), false)
	f.Add([]byte{1}, uint16(40), uint16(0), false)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0}, uint16(len(tmpl)), uint16(0), false)
	f.Add([]byte{0xff}, uint16(100), uint16(0), true)
	f.Add([]byte{}, uint16(0), uint16(len(tmpl)-3), true)
	f.Add([]byte{}, uint16(0), uint16(30), false)
	f.Add([]byte{7}, uint16(3), uint16(0), false)
	f.Add(bytes.Repeat([]byte{0x5a}, 64), uint16(60), uint16(0), false)
	f.Fuzz(fuzzOpenOnce)
}

func fuzzOpenOnce(t *testing.T, mut []byte, at, cut uint16, sealed bool) {
	{
		seg, recs := fuzzTemplate()
		for i, b := range mut {
			if p := int(at) + i; p < len(seg) {
				seg[p] ^= b
			} else {
				seg = append(seg, b)
			}
		}
		if cut > 0 && int(cut) < len(seg) {
			seg = seg[:cut]
		}
		for _, repair := range []bool{false, true} {
			dir := fastTempDir(t)
			if err := os.WriteFile(filepath.Join(dir, "00000000000000000000.seg"), seg, 0o644); err != nil {
				t.Fatal(err)
			}
			if sealed {
				next := append(segHeader(6), appendFrame1(nil, 6, 14, []byte("f"))...)
				if err := os.WriteFile(filepath.Join(dir, "00000000000000000006.seg"), next, 0o644); err != nil {
					t.Fatal(err)
				}
				recs = append(recs, []byte("f"))
			}
			l, err := Open(dir, Options{Sync: SyncNever, SegmentSize: MinSegmentSize, IndexEvery: 16, Repair: repair})
			if errors.Is(err, ErrVersion) {
				continue // an intact header of another version: left alone, also by Repair
			}
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("repair=%v: Open: %v", repair, err)
				}
				if repair {
					t.Fatalf("Open with Repair failed: %v", err)
				}
				continue
			}
			checkGenuine(t, l, recs)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// checkGenuine reads the whole log both ways and requires every record to
// equal the genuine record with the same offset.
func checkGenuine(t *testing.T, l *Log, recs [][]byte) {
	t.Helper()
	if l.FirstOffset() != 0 {
		t.Fatalf("first offset %d", l.FirstOffset())
	}
	r := l.NewReader(0)
	for off := uint64(0); ; off++ {
		rec, err := r.Next()
		if err == io.EOF {
			if off != l.NextOffset() {
				t.Fatalf("reader stopped at %d, next %d", off, l.NextOffset())
			}
			break
		}
		if errors.Is(err, ErrCorrupt) {
			break // damage inside a segment with an intact layout is reported, not returned
		}
		if err != nil {
			t.Fatal(err)
		}
		if off >= uint64(len(recs)) || !bytes.Equal(rec.Data, recs[off]) || rec.Offset != off {
			t.Fatalf("bogus record at %d: %q", off, rec.Data)
		}
	}
	for off := uint64(0); off < l.NextOffset(); off++ {
		rec, err := l.Read(off)
		if errors.Is(err, ErrCorrupt) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if off >= uint64(len(recs)) || !bytes.Equal(rec.Data, recs[off]) {
			t.Fatalf("bogus record at %d: %q", off, rec.Data)
		}
	}
}

// fastTempDir returns a temporary directory on tmpfs when there is one, where
// fsync is free, so that fuzzing is not bound by the disk.
func fastTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "walfuzz")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// sealedTemplate is a log of two segments, the first sealed with intact
// index files, so that Open builds its dense index from frame headers and
// batch tables it does not verify: the files by name, and the records'
// data and times.
var sealedTemplate = sync.OnceValues(func() (map[string][]byte, []Record) {
	dir, err := os.MkdirTemp("", "walsealed")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	l, err := Open(dir, Options{Sync: SyncNever, SegmentSize: MinSegmentSize, IndexEvery: 64})
	if err != nil {
		panic(err)
	}
	for i := 0; len(l.segs) < 2; i++ {
		if i%3 == 0 {
			_, err = l.Append(crashRec(5, uint64(i), i%40))
		} else {
			_, err = l.AppendBatch([][]byte{crashRec(5, uint64(i), i%30), {}, crashRec(6, uint64(i), 3)})
		}
		if err != nil {
			panic(err)
		}
	}
	var recs []Record
	for off := uint64(0); off < l.NextOffset(); off++ {
		rec, err := l.Read(off)
		if err != nil {
			panic(err)
		}
		recs = append(recs, rec)
	}
	if err := l.Close(); err != nil {
		panic(err)
	}
	files := map[string][]byte{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		panic(err)
	}
	for _, e := range ents {
		if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
			files[e.Name()] = b
		}
	}
	return files, recs
})

// FuzzSealedIndex xors fuzzed bytes into the sealed segment of
// sealedTemplate, keeping its size so that its index files still match it.
// Open must fail with ErrCorrupt or yield a log where every Read returns the
// genuine data and time of its offset or ErrCorrupt: never a bogus record,
// although the dense index was built from bytes nobody verified.
func FuzzSealedIndex(f *testing.F) {
	f.Add([]byte{1}, uint16(24))
	f.Add([]byte{0x80}, uint16(24+4+8))
	f.Add([]byte{0, 0, 0, 0, 2}, uint16(200))
	f.Add(bytes.Repeat([]byte{0xff}, 8), uint16(60))
	f.Fuzz(func(t *testing.T, mut []byte, at uint16) {
		files, recs := sealedTemplate()
		dir := fastTempDir(t)
		for name, b := range files {
			b = append([]byte(nil), b...)
			if name == "00000000000000000000.seg" {
				for i, m := range mut {
					if p := int(at) + i; p < len(b) {
						b[p] ^= m
					}
				}
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		l, err := Open(dir, Options{Sync: SyncNever, SegmentSize: MinSegmentSize, IndexEvery: 64})
		if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrVersion) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if l.NextOffset() != uint64(len(recs)) {
			t.Fatalf("next offset %d, want %d", l.NextOffset(), len(recs))
		}
		for off, want := range recs {
			rec, err := l.Read(uint64(off))
			if errors.Is(err, ErrCorrupt) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(rec.Data, want.Data) || rec.Time != want.Time || rec.Offset != uint64(off) {
				t.Fatalf("bogus record at %d: %q time %d", off, rec.Data, rec.Time)
			}
		}
	})
}
