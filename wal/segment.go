package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
)

// Segment file header (see FORMAT.md):
//
//	0  magic    "sbwalseg"
//	8  version  uint8 (formatVersion)
//	9  reserved 3 zero bytes
//	12 crc32c   uint32 over bytes [0,12) and [16,24)
//	16 base     uint64 offset of the segment's first record
const (
	segHeaderSize = 24
	formatVersion = 2
	segMagic      = "sbwalseg"
)

// indexEntry is one sparse index point: the frame at file position pos
// holds offset base+rel as its first record and was appended at time.
type indexEntry struct {
	rel  uint32
	pos  uint32
	time int64
}

// segment is one file of the log. Its fields other than refs and size are
// guarded by Log.mu.
type segment struct {
	base      uint64
	path      string
	f         *os.File
	refs      atomic.Int32
	size      atomic.Int64 // bytes written, header included
	next      uint64       // offset after the last frame
	idx       []indexEntry
	dense     denseIndex // every record base+i and its frame: O(1) Read
	firstTime int64      // time of the first frame (0 when empty)
	lastTime  int64      // time of the last frame (0 when empty)
	mm        []byte     // read-only mapping of a sealed segment, or nil
	kicked    int64      // file bytes whose writeback was started (see startWriteback)

	// mem holds bytes [0, len(mem)) of the file as this process wrote them
	// (or, for the segment recovered by Open, as Open verified them), for
	// Options.ReadCache; nil otherwise. Read serves frames in it without a
	// checksum.
	mem []byte
}

func segPath(dir string, base uint64, ext string) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", base, ext))
}

func segHeader(base uint64) []byte {
	b := make([]byte, segHeaderSize)
	copy(b, segMagic)
	b[8] = formatVersion
	binary.LittleEndian.PutUint64(b[16:], base)
	binary.LittleEndian.PutUint32(b[12:], segHeaderCRC(b))
	return b
}

func segHeaderCRC(b []byte) uint32 {
	c := crc32.Update(0, castagnoli, b[:12])
	return crc32.Update(c, castagnoli, b[16:24])
}

// createSegment creates an empty segment file with room reserved for size
// bytes, fsyncs it and its directory.
func createSegment(dir string, base uint64, size int64) (*segment, error) {
	p := segPath(dir, base, ".seg")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("wal: create segment: %w", err)
	}
	if _, err := f.WriteAt(segHeader(base), 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("wal: create segment: %w", err)
	}
	preallocate(f, size)
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("wal: create segment: %w", err)
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		return nil, err
	}
	s := &segment{base: base, path: p, f: f, next: base}
	s.refs.Store(1)
	s.size.Store(segHeaderSize)
	return s, nil
}

// mapActive maps a segment that becomes the active one, with room to grow
// to the segment size. Accesses stay below the written size, and a mapped
// file is never shrunk while a reader may use it (TruncateBack rewrites it
// to a new file instead), so no access can fault.
func (l *Log) mapActive(s *segment) {
	size := s.size.Load()
	s.mm = mapFile(s.f, max(l.opts.SegmentSize, size))
	if l.opts.ReadCache > 0 {
		// Appends fill it up to the segment size; it is never
		// reallocated, since published cache views point into it.
		mem := make([]byte, size, max(l.opts.SegmentSize, size))
		if _, err := s.f.ReadAt(mem, 0); err == nil {
			s.mem = mem
		}
	}
}

// evictLocked drops the in-memory copies of all but the newest
// Options.ReadCache segments. Call with l.mu held for writing. A dropped
// copy is not reused: a reader holding a stale cache view may still read
// it.
func (l *Log) evictLocked() {
	for i := len(l.segs) - 1 - l.opts.ReadCache; i >= 0 && l.segs[i].mem != nil; i-- {
		l.segs[i].mem = nil
	}
}

// acquire takes a reference that keeps the file open; call under Log.mu.
func (s *segment) acquire() { s.refs.Add(1) }

// release drops a reference; the last one closes the file.
func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		unmapFile(s.mm)
		s.f.Close()
	}
}

// remove deletes the segment's files; the file stays open for readers that
// hold a reference. The caller fsyncs the directory.
func (s *segment) remove() error {
	for _, ext := range []string{".idx", ".tix"} {
		if err := os.Remove(segPath(filepath.Dir(s.path), s.base, ext)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("wal: remove index: %w", err)
		}
	}
	if err := os.Remove(s.path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("wal: remove segment: %w", err)
	}
	s.release()
	return nil
}

// trim truncates the file to the bytes written, dropping the space
// preallocate added after them, so that a sealed or closed segment ends at
// its last frame. The caller fsyncs.
func (s *segment) trim() error {
	if err := s.f.Truncate(s.size.Load()); err != nil {
		return fmt.Errorf("wal: trim segment: %w", err)
	}
	return nil
}

// noteFrame records the frame f written at pos in the in-memory indexes.
func (s *segment) noteFrame(pos int64, f []byte, every int) {
	h := parseFrameHeader(f)
	if n := len(s.idx); n == 0 || pos-int64(s.idx[n-1].pos) >= int64(every) {
		s.idx = append(s.idx, indexEntry{rel: uint32(h.first - s.base), pos: uint32(pos), time: h.time})
	}
	s.dense.add(pos, h, f) // f was built by appendFrame: its layout is valid
	if s.next == s.base {
		s.firstTime = h.time
	}
	s.lastTime = h.time
	s.next = h.first + uint64(h.count)
}

// locate returns the file range [pos, end) that holds the frame with offset
// off, using the sparse index. Call under Log.mu.
func (s *segment) locate(off uint64) (pos, end int64) {
	rel := uint32(off - s.base)
	lo, hi := 0, len(s.idx)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.idx[m].rel <= rel {
			lo = m + 1
		} else {
			hi = m
		}
	}
	end = s.size.Load()
	if lo < len(s.idx) {
		end = int64(s.idx[lo].pos)
	}
	if lo == 0 {
		return segHeaderSize, end
	}
	return int64(s.idx[lo-1].pos), end
}

// densePositions walks the frame headers and batch tables of a segment
// whose sparse index was loaded, to rebuild its dense index without
// verifying checksums (each Read verifies the record it returns against
// the index, see denseIndex). It reports false when the headers do not
// chain from base to next over exactly size bytes or a table is invalid.
func densePositions(f io.ReaderAt, size int64, base, next uint64) (denseIndex, bool, error) {
	d := denseIndex{recs: make([]recPos, 0, next-base)}
	buf := make([]byte, 0, min(scanWindow, size))
	bufPos := int64(segHeaderSize)
	pos, want := int64(segHeaderSize), base
	for pos < size {
		if err := fill(f, &buf, &bufPos, pos, frameHeaderSize, size); err != nil {
			return d, false, err
		}
		if int64(len(buf))-(pos-bufPos) < frameHeaderSize {
			return d, false, nil
		}
		h := parseFrameHeader(buf[pos-bufPos:])
		if !h.plausible(want, size-pos) || want+uint64(h.count) > next {
			return d, false, nil
		}
		need := int64(frameHeaderSize)
		if h.count > 1 {
			need += 4*(int64(h.count)+1) + 4*int64(h.count) // ends and crcs
		}
		if err := fill(f, &buf, &bufPos, pos, need, size); err != nil {
			return d, false, err
		}
		if !d.add(pos, h, buf[pos-bufPos:]) {
			return d, false, nil
		}
		want += uint64(h.count)
		pos += h.size()
	}
	return d, want == next, nil
}

func (s *segment) corrupt(off uint64, pos int64) error {
	return fmt.Errorf("%w: segment %s offset %d position %d", ErrCorrupt, filepath.Base(s.path), off, pos)
}

// scanWindow is how much a segment scan reads with one pread.
const scanWindow = 1 << 20

// scanResult describes a segment scanned from its first frame.
type scanResult struct {
	end       int64 // position after the last valid frame
	next      uint64
	idx       []indexEntry
	dense     denseIndex
	firstTime int64
	lastTime  int64
	damaged   bool // a bad frame starts at end
	later     bool // a valid frame follows the damage (mid-log damage)
}

// scanSegment validates every frame of f (size bytes) and rebuilds the
// sparse index. It stops at the first bad frame and then looks for any valid
// frame after it, to tell a torn tail from mid-log damage.
func scanSegment(f io.ReaderAt, size int64, base uint64, every int) (scanResult, error) {
	r := scanResult{end: segHeaderSize, next: base}
	buf := make([]byte, 0, min(scanWindow, size))
	bufPos := int64(segHeaderSize) // file position of buf[0]
	var lastIdx int64 = -1
	for r.end < size {
		// Make sure the header is in buf.
		if err := fill(f, &buf, &bufPos, r.end, frameHeaderSize, size); err != nil {
			return r, err
		}
		if int64(len(buf))-(r.end-bufPos) < frameHeaderSize {
			r.damaged = true
			break
		}
		h := parseFrameHeader(buf[r.end-bufPos:])
		if !h.plausible(r.next, size-r.end) {
			r.damaged = true
			break
		}
		if err := fill(f, &buf, &bufPos, r.end, h.size(), size); err != nil {
			return r, err
		}
		o := r.end - bufPos
		if !checkFrame(buf[o:o+h.size()], h) {
			r.damaged = true
			break
		}
		if lastIdx < 0 || r.end-lastIdx >= int64(every) {
			r.idx = append(r.idx, indexEntry{rel: uint32(h.first - base), pos: uint32(r.end), time: h.time})
			lastIdx = r.end
		}
		r.dense.add(r.end, h, buf[o:]) // checkFrame accepted its layout
		if r.next == base {
			r.firstTime = h.time
		}
		r.lastTime = h.time
		r.next += uint64(h.count)
		r.end += h.size()
	}
	if r.damaged {
		later, err := validFrameAfter(f, r.end, size, r.next)
		if err != nil {
			return r, err
		}
		r.later = later
	}
	return r, nil
}

// fill ensures buf holds file bytes [pos, pos+n) (or up to size), reading
// forward in large chunks.
func fill(f io.ReaderAt, buf *[]byte, bufPos *int64, pos, n, size int64) error {
	b := *buf
	if pos >= *bufPos && pos+n <= *bufPos+int64(len(b)) {
		return nil
	}
	want := max(n, int64(cap(b)))
	if pos+want > size {
		want = size - pos
	}
	if int64(cap(b)) < want {
		b = make([]byte, want)
	}
	b = b[:want]
	if _, err := f.ReadAt(b, pos); err != nil && err != io.EOF {
		return fmt.Errorf("wal: read segment: %w", err)
	}
	*buf, *bufPos = b, pos
	return nil
}

// validFrameAfter reports whether a whole valid frame for an offset >= want
// starts anywhere in (from, size).
func validFrameAfter(f io.ReaderAt, from, size int64, want uint64) (bool, error) {
	buf := make([]byte, 0, min(scanWindow, size-from))
	bufPos := from
	for p := from + 1; p+frameHeaderSize <= size; p++ {
		if err := fill(f, &buf, &bufPos, p, frameHeaderSize, size); err != nil {
			return false, err
		}
		// A frame's count (header bytes 24-27) is never zero, so no frame
		// starts more than frameHeaderSize-1 bytes before the end of a run
		// of zeros: skip such runs (the preallocated space after the last
		// frame of an active segment) instead of trying every byte.
		if z := zeroRun(buf[p-bufPos:]); z >= frameHeaderSize {
			p += int64(z - frameHeaderSize) // then p++
			continue
		}
		h := parseFrameHeader(buf[p-bufPos:])
		// A frame takes at least frameHeaderSize bytes and a batch record
		// at least a table entry, so a frame at p cannot start beyond
		// want+(p-from).
		if h.first < want || h.first > want+uint64(p-from) || !h.plausible(h.first, size-p) {
			continue
		}
		var fb []byte
		if p+h.size() <= bufPos+int64(len(buf)) {
			fb = buf[p-bufPos : p-bufPos+h.size()]
		} else {
			fb = make([]byte, h.size())
			if _, err := f.ReadAt(fb, p); err != nil && err != io.EOF {
				return false, fmt.Errorf("wal: read segment: %w", err)
			}
		}
		if checkFrame(fb, h) {
			return true, nil
		}
	}
	return false, nil
}

// zeroRun returns how many bytes at the start of b are zero.
func zeroRun(b []byte) int {
	n := 0
	for len(b) >= 8 && binary.LittleEndian.Uint64(b) == 0 {
		b, n = b[8:], n+8
	}
	for len(b) > 0 && b[0] == 0 {
		b, n = b[1:], n+1
	}
	return n
}

// syncDir fsyncs a directory so that created, renamed and removed entries
// are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("wal: sync dir: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("wal: sync dir: %w", err)
	}
	return nil
}
