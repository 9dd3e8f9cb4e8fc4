package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
)

// Index files (see FORMAT.md). Both share a 56-byte header:
//
//	0  magic     "sbwalidx" or "sbwaltix"
//	8  version   uint8
//	9  reserved  3 zero bytes
//	12 count     uint32 entries
//	16 base      uint64
//	24 segSize   int64  size of the segment file the index describes
//	32 next      uint64 offset after the segment's last record
//	40 firstTime int64
//	48 lastTime  int64
//
// followed by count entries (.idx: rel uint32, pos uint32; .tix: time int64,
// rel uint32) and a crc32c of everything before it. They are written when a
// segment is sealed and are only a cache: a missing, stale or damaged file is
// rebuilt from the segment.
const (
	idxHeaderSize = 56
	idxMagic      = "sbwalidx"
	tixMagic      = "sbwaltix"
	idxEntrySize  = 8
	tixEntrySize  = 12
)

func encodeIndex(s *segment, magic string) []byte {
	es := idxEntrySize
	if magic == tixMagic {
		es = tixEntrySize
	}
	b := make([]byte, idxHeaderSize, idxHeaderSize+len(s.idx)*es+4)
	copy(b, magic)
	b[8] = formatVersion
	binary.LittleEndian.PutUint32(b[12:], uint32(len(s.idx)))
	binary.LittleEndian.PutUint64(b[16:], s.base)
	binary.LittleEndian.PutUint64(b[24:], uint64(s.size.Load()))
	binary.LittleEndian.PutUint64(b[32:], s.next)
	binary.LittleEndian.PutUint64(b[40:], uint64(s.firstTime))
	binary.LittleEndian.PutUint64(b[48:], uint64(s.lastTime))
	for _, e := range s.idx {
		if magic == tixMagic {
			b = binary.LittleEndian.AppendUint64(b, uint64(e.time))
			b = binary.LittleEndian.AppendUint32(b, e.rel)
		} else {
			b = binary.LittleEndian.AppendUint32(b, e.rel)
			b = binary.LittleEndian.AppendUint32(b, e.pos)
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// writeIndex writes the .idx and .tix files of a sealed segment. They are
// not fsynced: a file lost or torn by a crash fails its checksum and is
// rebuilt on the next Open.
func writeIndex(dir string, s *segment) error {
	for _, m := range []struct{ magic, ext string }{{idxMagic, ".idx"}, {tixMagic, ".tix"}} {
		p := segPath(dir, s.base, m.ext)
		if err := os.WriteFile(p+".tmp", encodeIndex(s, m.magic), 0o644); err != nil {
			return fmt.Errorf("wal: write index: %w", err)
		}
		if err := os.Rename(p+".tmp", p); err != nil {
			return fmt.Errorf("wal: write index: %w", err)
		}
	}
	return nil
}

// loadIndex reads both index files of s and fills s.idx, s.next and the
// times. It reports false when either file is missing, damaged or does not
// describe the segment as it is on disk.
func loadIndex(dir string, s *segment, size int64) bool {
	idx, ok := decodeIndex(segPath(dir, s.base, ".idx"), idxMagic, s.base, size)
	if !ok {
		return false
	}
	tix, ok := decodeIndex(segPath(dir, s.base, ".tix"), tixMagic, s.base, size)
	if !ok || len(tix.entries) != len(idx.entries) || tix.next != idx.next {
		return false
	}
	entries := make([]indexEntry, len(idx.entries))
	for i, e := range idx.entries {
		t := tix.entries[i]
		if t.rel != e.rel || (i > 0 && (e.rel <= entries[i-1].rel || e.pos <= entries[i-1].pos || t.time < entries[i-1].time)) {
			return false
		}
		if int64(e.pos) < segHeaderSize || int64(e.pos) >= size || uint64(e.rel) >= idx.next-s.base {
			return false
		}
		entries[i] = indexEntry{rel: e.rel, pos: e.pos, time: t.time}
	}
	if len(entries) > 0 && (entries[0].rel != 0 || entries[0].pos != segHeaderSize) {
		return false
	}
	if (len(entries) == 0) != (idx.next == s.base) {
		return false
	}
	s.idx = entries
	s.next = idx.next
	s.firstTime, s.lastTime = idx.firstTime, idx.lastTime
	return true
}

type decodedIndex struct {
	next                uint64
	firstTime, lastTime int64
	entries             []indexEntry
}

func decodeIndex(path, magic string, base uint64, size int64) (decodedIndex, bool) {
	var d decodedIndex
	b, err := os.ReadFile(path)
	if err != nil || len(b) < idxHeaderSize+4 {
		return d, false
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return d, false
	}
	if string(b[:8]) != magic || b[8] != formatVersion ||
		binary.LittleEndian.Uint64(b[16:]) != base || int64(binary.LittleEndian.Uint64(b[24:])) != size {
		return d, false
	}
	es := idxEntrySize
	if magic == tixMagic {
		es = tixEntrySize
	}
	n := int(binary.LittleEndian.Uint32(b[12:]))
	if len(body)-idxHeaderSize != n*es {
		return d, false
	}
	d.next = binary.LittleEndian.Uint64(b[32:])
	if d.next < base {
		return d, false
	}
	d.firstTime = int64(binary.LittleEndian.Uint64(b[40:]))
	d.lastTime = int64(binary.LittleEndian.Uint64(b[48:]))
	d.entries = make([]indexEntry, n)
	for i := range d.entries {
		e := body[idxHeaderSize+i*es:]
		if magic == tixMagic {
			d.entries[i] = indexEntry{time: int64(binary.LittleEndian.Uint64(e)), rel: binary.LittleEndian.Uint32(e[8:])}
		} else {
			d.entries[i] = indexEntry{rel: binary.LittleEndian.Uint32(e), pos: binary.LittleEndian.Uint32(e[4:])}
		}
	}
	return d, true
}
