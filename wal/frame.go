package wal

import (
	"encoding/binary"
	"hash/crc32"
	"slices"
)

// A frame holds one record or one batch (see FORMAT.md):
//
//	0  crc32c   uint32  over bytes [4, 28+length) (one record) or over
//	                    the header and the tables (batch)
//	4  length   uint32  payload bytes
//	8  first    uint64  offset of the first record
//	16 time     int64   unix nanoseconds at append
//	24 count    uint32  records in the payload (>= 1)
//	28 payload          one record: its data
//	                    batch: ends (count+1) × uint32, crcs count × uint32,
//	                    then the data
//
// In a batch, record i is data[ends[i]:ends[i+1]] (ends[0] = 0) and crcs[i]
// covers header bytes [4,28), the 8 bytes ends[i], ends[i+1] and the
// record's data, so a random Read verifies the header, the record's place
// and its bytes without touching the rest of the batch. All of them lie in
// the frame itself, so the checksums need no scratch buffer.
const (
	frameHeaderSize = 28
	tableEntrySize  = 8 // per batch record: its end and its crc
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// castagnoli8 holds the slicing-by-8 tables of CRC-32C: castagnoli8[k][b]
// is the CRC register contribution of byte b followed by k zero bytes.
var castagnoli8 = func() (t [8][256]uint32) {
	t[0] = *castagnoli
	for b := range 256 {
		c := t[0][b]
		for k := 1; k < 8; k++ {
			c = t[0][c&0xff] ^ c>>8
			t[k][b] = c
		}
	}
	return t
}()

// updateCRC8 is crc32.Update(crc, castagnoli, p[:8]) in pure Go: for the
// 8 bytes of a record's bounds it is about twice as fast as the call into
// the package, whose fixed cost dominates so short an input.
func updateCRC8(crc uint32, p []byte) uint32 {
	_ = p[7]
	return updateCRCEnds(crc, binary.LittleEndian.Uint32(p), binary.LittleEndian.Uint32(p[4:]))
}

// updateCRCEnds is updateCRC8 over the little-endian encodings of start
// and end (a batch record's two ends entries), without storing them.
func updateCRCEnds(crc, start, end uint32) uint32 {
	t := &castagnoli8
	crc = ^crc ^ start
	crc = t[0][end>>24] ^ t[1][end>>16&0xff] ^ t[2][end>>8&0xff] ^ t[3][end&0xff] ^
		t[4][crc>>24] ^ t[5][crc>>16&0xff] ^ t[6][crc>>8&0xff] ^ t[7][crc&0xff]
	return ^crc
}

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

// tableSize is the size of a batch frame's tables (0 for one record).
func (h frameHeader) tableSize() int64 {
	if h.count == 1 {
		return 0
	}
	return int64(h.count)*tableEntrySize + 4
}

// plausible reports whether a header could describe a frame holding offset
// want at a position with avail bytes left in the file. It is cheap and is
// checked before the checksum.
func (h frameHeader) plausible(want uint64, avail int64) bool {
	return h.first == want && h.count >= 1 && int64(h.length) >= h.tableSize() &&
		int64(h.length) <= MaxFrameSize && h.size() <= avail
}

// frameSize returns the on-disk size of a frame holding recs.
func frameSize(recs [][]byte) int64 {
	n := int64(frameHeaderSize)
	if len(recs) > 1 {
		n += int64(len(recs))*tableEntrySize + 4
	}
	for _, r := range recs {
		n += int64(len(r))
	}
	return n
}

// appendFrame appends a frame holding recs to dst. Every data byte is
// checksummed once: a batch record by its own crc, a single record by the
// frame crc.
func appendFrame(dst []byte, first uint64, t int64, recs [][]byte) []byte {
	if len(recs) == 1 {
		return appendFrame1(dst, first, t, recs[0])
	}
	start := len(dst)
	size := frameSize(recs)
	dst = slices.Grow(dst, int(size))
	ends := start + frameHeaderSize
	crcs := ends + 4*(len(recs)+1)
	data := crcs + 4*len(recs)
	dst = dst[:data]
	putHeader(dst[start:], uint32(size-frameHeaderSize), first, t, uint32(len(recs)))
	hc := crc32.Checksum(dst[start+4:ends], castagnoli)
	binary.LittleEndian.PutUint32(dst[ends:], 0)
	var end uint32
	for i, r := range recs {
		end += uint32(len(r))
		e := ends + 4*i
		binary.LittleEndian.PutUint32(dst[e+4:], end)
		c := crc32.Update(updateCRC8(hc, dst[e:e+8]), castagnoli, r)
		binary.LittleEndian.PutUint32(dst[crcs+4*i:], c)
		dst = append(dst, r...)
	}
	binary.LittleEndian.PutUint32(dst[start:], crc32.Checksum(dst[start+4:data], castagnoli))
	return dst
}

// appendFrame1 appends a frame holding the single record rec to dst.
func appendFrame1(dst []byte, first uint64, t int64, rec []byte) []byte {
	start := len(dst)
	var hdr [frameHeaderSize]byte
	dst = append(dst, hdr[:]...)
	dst = append(dst, rec...)
	f := dst[start:]
	putHeader(f, uint32(len(rec)), first, t, 1)
	binary.LittleEndian.PutUint32(f, crc32.Checksum(f[4:], castagnoli))
	return dst
}

// putHeader fills the header fields of f other than its crc.
func putHeader(f []byte, length uint32, first uint64, t int64, count uint32) {
	_ = f[frameHeaderSize-1]
	binary.LittleEndian.PutUint32(f[4:], length)
	binary.LittleEndian.PutUint64(f[8:], first)
	binary.LittleEndian.PutUint64(f[16:], uint64(t))
	binary.LittleEndian.PutUint32(f[24:], count)
}

// checkFrame verifies a whole frame f (exactly h.size() bytes): the frame
// crc, and for a batch the table layout and every record's crc.
func checkFrame(f []byte, h frameHeader) bool {
	if int64(len(f)) != h.size() || h.count == 0 || int64(h.length) < h.tableSize() {
		return false
	}
	if h.count == 1 {
		return crc32.Checksum(f[4:], castagnoli) == h.crc
	}
	data := frameHeaderSize + h.tableSize()
	if crc32.Checksum(f[4:data], castagnoli) != h.crc {
		return false
	}
	ends := f[frameHeaderSize:]
	if binary.LittleEndian.Uint32(ends) != 0 {
		return false
	}
	crcs := ends[4*(int64(h.count)+1):]
	d := f[data:]
	hc := crc32.Checksum(f[4:frameHeaderSize], castagnoli)
	var start uint32
	for i := range int64(h.count) {
		end := binary.LittleEndian.Uint32(ends[4*i+4:])
		if end < start || int64(end) > int64(len(d)) {
			return false
		}
		c := crc32.Update(updateCRC8(hc, ends[4*i:4*i+8]), castagnoli, d[start:end])
		if c != binary.LittleEndian.Uint32(crcs[4*i:]) {
			return false
		}
		start = end
	}
	return int64(start) == int64(len(d))
}

// frameRecord returns the data of record i of a frame that checkFrame
// accepted.
func frameRecord(f []byte, h frameHeader, i uint32) []byte {
	if h.count == 1 {
		return f[frameHeaderSize:]
	}
	e := f[frameHeaderSize+4*int64(i):]
	start, end := binary.LittleEndian.Uint32(e), binary.LittleEndian.Uint32(e[4:])
	d := f[frameHeaderSize+h.tableSize():]
	return d[start:end:end]
}
