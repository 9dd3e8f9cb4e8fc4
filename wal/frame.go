package wal

import (
	"encoding/binary"
	"hash/crc32"
)

// A frame holds one record or one batch (see FORMAT.md):
//
//	0  crc32c   uint32  over bytes [4, 28+length)
//	4  length   uint32  payload bytes
//	8  first    uint64  offset of the first record
//	16 time     int64   unix nanoseconds at append
//	24 count    uint32  records in the payload (>= 1)
//	28 payload          count × (uvarint size, data)
const (
	frameHeaderSize    = 28
	binaryMaxVarintLen = binary.MaxVarintLen64
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type frameHeader struct {
	crc    uint32
	length uint32
	first  uint64
	time   int64
	count  uint32
}

func parseFrameHeader(b []byte) frameHeader {
	_ = b[frameHeaderSize-1]
	return frameHeader{
		crc:    binary.LittleEndian.Uint32(b[0:]),
		length: binary.LittleEndian.Uint32(b[4:]),
		first:  binary.LittleEndian.Uint64(b[8:]),
		time:   int64(binary.LittleEndian.Uint64(b[16:])),
		count:  binary.LittleEndian.Uint32(b[24:]),
	}
}

// size is the frame's total length on disk.
func (h frameHeader) size() int64 { return frameHeaderSize + int64(h.length) }

// plausible reports whether a header could describe a frame holding offset
// want at a position with avail bytes left in the file. It is cheap and is
// checked before the checksum.
func (h frameHeader) plausible(want uint64, avail int64) bool {
	return h.first == want && h.count >= 1 && h.length >= h.count &&
		int64(h.length) <= MaxFrameSize && h.size() <= avail
}

// frameSize returns the on-disk size of a frame holding recs.
func frameSize(recs [][]byte) int64 {
	n := int64(frameHeaderSize)
	for _, r := range recs {
		n += int64(uvarintLen(uint64(len(r)))) + int64(len(r))
	}
	return n
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// appendFrame appends a frame holding recs to dst.
func appendFrame(dst []byte, first uint64, t int64, recs [][]byte) []byte {
	start := len(dst)
	var hdr [frameHeaderSize]byte
	dst = append(dst, hdr[:]...)
	for _, r := range recs {
		dst = binary.AppendUvarint(dst, uint64(len(r)))
		dst = append(dst, r...)
	}
	return sealFrame(dst, start, first, t, uint32(len(recs)))
}

// appendFrame1 is appendFrame for a single record, without a slice header.
func appendFrame1(dst []byte, first uint64, t int64, rec []byte) []byte {
	start := len(dst)
	var hdr [frameHeaderSize]byte
	dst = append(dst, hdr[:]...)
	dst = binary.AppendUvarint(dst, uint64(len(rec)))
	dst = append(dst, rec...)
	return sealFrame(dst, start, first, t, 1)
}

func sealFrame(dst []byte, start int, first uint64, t int64, count uint32) []byte {
	f := dst[start:]
	binary.LittleEndian.PutUint32(f[4:], uint32(len(f)-frameHeaderSize))
	binary.LittleEndian.PutUint64(f[8:], first)
	binary.LittleEndian.PutUint64(f[16:], uint64(t))
	binary.LittleEndian.PutUint32(f[24:], count)
	binary.LittleEndian.PutUint32(f[0:], crc32.Checksum(f[4:], castagnoli))
	return dst
}

// checkFrame verifies a whole frame (header and payload): checksum, and that
// the payload splits into exactly count records.
func checkFrame(f []byte, h frameHeader) bool {
	_, ok := verifiedRecord(f, h, -1)
	return ok
}

// verifiedRecord verifies a whole frame like checkFrame and, in the same
// pass over its payload, returns the data of its record number want (nil
// when want < 0).
func verifiedRecord(f []byte, h frameHeader, want int64) (data []byte, ok bool) {
	if int64(len(f)) != h.size() || h.count == 0 {
		return nil, false
	}
	if want >= 0 {
		_ = touchLines(f)
	}
	if crc32.Checksum(f[4:], castagnoli) != h.crc {
		return nil, false
	}
	p := f[frameHeaderSize:]
	pos := 0
	for i := int64(0); i < int64(h.count); i++ {
		d, next, ok := nextRecord(p, pos)
		if !ok {
			return nil, false
		}
		if i == want {
			data = d
		}
		pos = next
	}
	return data, pos == len(p)
}

// touchLines loads one byte of every cache line of a frame that is likely
// cold (a random Read) before the checksum streams over it: the loads are
// independent, so the CPU overlaps their misses instead of taking them one
// after another. It is not inlined so that the loads, whose result nobody
// needs, are kept.
//
//go:noinline
func touchLines(f []byte) byte {
	var x byte
	for i := 0; i < len(f); i += 64 {
		x |= f[i]
	}
	return x
}

// nextRecord decodes the record at pos of a payload and returns its data and
// the position of the following record.
func nextRecord(p []byte, pos int) (data []byte, next int, ok bool) {
	if pos >= len(p) {
		return nil, pos, false
	}
	n, w := binary.Uvarint(p[pos:])
	if w <= 0 || n > uint64(len(p)-pos-w) {
		return nil, pos, false
	}
	start := pos + w
	end := start + int(n)
	return p[start:end:end], end, true
}
