package wal

import (
	"encoding/binary"
	"hash/crc32"
	"slices"

	"github.com/sysblocks/sysblocks/internal/hugepage"
)

// recPos locates one record for Read and holds the checksum that covers
// it, copied from the file when the entry was built: a Read then loads the
// index entry and the data, and nothing else from the segment.
type recPos struct {
	data  uint32 // file position of the record's data
	size  uint32 // data length
	sum   uint32 // the frame's crc (single record) or its crcs entry (batch)
	frame uint32 // index of its batch frame in denseIndex.frames, or single
}

// head returns the file position of single record r's frame header.
func (r recPos) head() uint32 { return r.data - frameHeaderSize }

// single is recPos.frame of a record framed alone: its frame header lies
// right before its data, and one checksum covers both.
const single = ^uint32(0)

// frameInfo describes one batch frame for Read.
type frameInfo struct {
	time   int64
	pos    uint32 // file position of the frame
	count  uint32 // records in the frame
	dstart uint32 // file position of the data area, from which the ends table counts
	hc     uint32 // CRC-32C of the frame's header bytes [4,28)
}

// denseIndex is a segment's in-memory table of every record, and of every
// batch frame, in file order. It is built as frames are appended or
// recovered and never written to disk. Entries built from a file whose
// frames were not verified (a sealed segment with intact index files) are
// safe to use because Read checks the record checksum against them: a batch
// frame's hc and a record's ends values enter that checksum, so a header or
// table damaged before the index was built fails it exactly as it would if
// Read parsed them then; a single record's header is read and checksummed
// with its data.
type denseIndex struct {
	recs   []recPos
	frames []frameInfo
}

// add appends the frame at file position pos with header h; f holds at
// least its header and, for a batch, its ends and crcs tables. It reports
// false, and changes nothing, when the tables are not a valid layout of the
// frame.
func (d *denseIndex) add(pos int64, h frameHeader, f []byte) bool {
	d.grow(int(h.count))
	if h.count == 1 {
		d.recs = append(d.recs, recPos{data: uint32(pos) + frameHeaderSize, size: h.length, sum: h.crc, frame: single})
		return true
	}
	tab := frameHeaderSize + 4*(int64(h.count)+1)
	if int64(len(f)) < tab+4*int64(h.count) || int64(h.length) < h.tableSize() {
		return false
	}
	fr := frameInfo{time: h.time, pos: uint32(pos), count: h.count, hc: crc32.Checksum(f[4:frameHeaderSize], castagnoli)}
	fi := uint32(len(d.frames))
	ends := f[frameHeaderSize:tab]
	dsize := uint32(int64(h.length) - h.tableSize())
	fr.dstart = uint32(pos + frameHeaderSize + h.tableSize())
	crcs := f[tab:]
	n := len(d.recs)
	start := binary.LittleEndian.Uint32(ends)
	if start != 0 {
		return false
	}
	for k := range h.count {
		end := binary.LittleEndian.Uint32(ends[4*k+4:])
		if end < start || end > dsize {
			d.recs = d.recs[:n]
			return false
		}
		d.recs = append(d.recs, recPos{data: fr.dstart + start, size: end - start, sum: binary.LittleEndian.Uint32(crcs[4*k:]), frame: fi})
		start = end
	}
	if start != dsize {
		d.recs = d.recs[:n]
		return false
	}
	d.frames = append(d.frames, fr)
	return true
}

// grow makes room for one more frame of count records, doubling the
// arrays when they are full: append's growth factor for large slices
// (1.25) made the batched append copy and allocate about five times what
// the table holds.
func (d *denseIndex) grow(count int) {
	if cap(d.recs)-len(d.recs) < count {
		d.recs = slices.Grow(d.recs, max(count, len(d.recs)))
		hugepage.Advise(d.recs)
		populateTail(d.recs)
	}
	if count > 1 && len(d.frames) == cap(d.frames) {
		d.frames = slices.Grow(d.frames, max(1, len(d.frames)))
		populateTail(d.frames)
	}
}

// reserve gives an empty index room for recs records in frames batch
// frames.
func (d *denseIndex) reserve(recs, frames int) {
	d.recs = make([]recPos, 0, recs)
	d.frames = make([]frameInfo, 0, frames)
	hugepage.Advise(d.recs)
	populateTail(d.recs)
	populateTail(d.frames)
}

// clone returns a copy with its own arrays of the same capacity, for a
// segment whose tables are about to be cut and appended to again while
// readers may hold a cache view of the old ones.
func (d denseIndex) clone() denseIndex {
	return denseIndex{
		recs:   append(make([]recPos, 0, cap(d.recs)), d.recs...),
		frames: append(make([]frameInfo, 0, cap(d.frames)), d.frames...),
	}
}

// trim keeps the first n records, which must end at a frame boundary.
// Cost: O(single records at the end of what is kept).
func (d *denseIndex) trim(n int) {
	d.recs = d.recs[:n]
	for i := n - 1; i >= 0; i-- {
		if f := d.recs[i].frame; f != single {
			d.frames = d.frames[:f+1]
			return
		}
	}
	d.frames = d.frames[:0]
}

// time returns the append time of record r, whose bytes lie at their file
// positions in b (bytes this process wrote: it is not verified): a single
// record's from its header, a batch record's from its frame entry.
func (d *denseIndex) time(b []byte, r recPos) int64 {
	if r.frame == single {
		return int64(binary.LittleEndian.Uint64(b[r.head()+16:]))
	}
	return d.frames[r.frame].time
}

// framePos returns the file position of record r's frame, for errors.
func (d *denseIndex) framePos(r recPos) int64 { return framePos(r, d.frame(r)) }

// framePos returns the file position of the frame of record r, whose batch
// frame entry is fr (nil for a single record).
func framePos(r recPos, fr *frameInfo) int64 {
	if r.frame != single && fr != nil {
		return int64(fr.pos)
	}
	return int64(r.head())
}

// frame returns the frame entry of batch record r, or nil for a single
// record or an entry out of range.
func (d *denseIndex) frame(r recPos) *frameInfo {
	if uint64(r.frame) >= uint64(len(d.frames)) {
		return nil
	}
	return &d.frames[r.frame]
}

// verifyRecord returns the data and time of the record at offset off
// described by r (and, for a batch record, its frame fr), whose bytes lie
// at their file positions in b, after checking the checksum FORMAT.md
// defines for it against r.sum: for a single record the frame crc over its
// header fields and data, read from b; for a batch record its crcs entry
// over the header fields (fr.hc), its ends entries (derived from r) and its
// data. ok is false when b is too short, the record is not the one at off,
// or the checksum does not match.
func verifyRecord(b []byte, r recPos, fr *frameInfo, off uint64) (data []byte, t int64, ok bool) {
	end := uint64(r.data) + uint64(r.size)
	if end > uint64(len(b)) || r.data < frameHeaderSize {
		return nil, 0, false
	}
	data = b[r.data:end]
	if r.frame == single {
		f := b[r.head():end]
		if binary.LittleEndian.Uint64(f[8:]) != off {
			return nil, 0, false
		}
		t = int64(binary.LittleEndian.Uint64(f[16:]))
		return data, t, crc32.Checksum(f[4:], castagnoli) == r.sum
	}
	if fr == nil {
		return nil, 0, false
	}
	return data, fr.time, batchRecordCRC(fr, r, data) == r.sum
}

// batchRecordCRC returns the crcs entry FORMAT.md defines for batch record
// r of frame fr with the given data: header bytes [4,28) (as fr.hc), the
// record's two ends entries (derived from r), then the data.
func batchRecordCRC(fr *frameInfo, r recPos, data []byte) uint32 {
	start := r.data - fr.dstart
	return crc32.Update(updateCRCEnds(fr.hc, start, start+r.size), castagnoli, data)
}
