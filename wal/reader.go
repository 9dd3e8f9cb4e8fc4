package wal

import (
	"context"
	"fmt"
	"io"
)

// readChunk is how much a Reader reads ahead with one pread.
const readChunk = 256 << 10

// Reader reads the log sequentially from an offset. A Reader is not safe for
// concurrent use, but any number of Readers may run concurrently with each
// other and with the writer. It holds no file open between calls, so it
// needs no Close.
type Reader struct {
	l     *Log
	next  uint64 // offset Next returns next
	epoch uint64

	// Read-ahead buffer: buf[start:end] holds file bytes from position
	// pos-(end-start) of the segment with base segBase.
	buf        []byte
	start, end int
	pos        int64
	segBase    uint64
	positioned bool

	// Current frame, verified by checkFrame; record fi is the next one.
	frame []byte
	fh    frameHeader
	fi    uint32
}

// NewReader returns a Reader positioned at offset from. Cost: O(1); the
// first Next locates the offset through the sparse index.
func (l *Log) NewReader(from uint64) *Reader {
	return &Reader{l: l, next: from, epoch: l.epoch.Load()}
}

// Offset returns the offset the next call to Next returns.
func (r *Reader) Offset() uint64 { return r.next }

// Seek positions the Reader at offset, keeping its buffer. Cost: O(1); the
// next Next locates the offset through the sparse index.
func (r *Reader) Seek(offset uint64) {
	r.next = offset
	r.reset()
}

func (r *Reader) reset() {
	r.positioned = false
	r.start, r.end = 0, 0
	r.frame = nil
}

// Next returns the next record, or io.EOF at the current end of the log
// (call Wait, then Next again). The returned Record.Data aliases the
// Reader's buffer and is valid only until the next call to Next; copy it to
// keep it. Records before FirstOffset give ErrTruncated; damage gives
// ErrCorrupt. Cost: amortised O(record size) with no allocation in steady
// state (one pread per 256 KiB).
func (r *Reader) Next() (Record, error) {
	l := r.l
	for {
		if l.closed.Load() {
			return Record{}, ErrClosed
		}
		if ep := l.epoch.Load(); ep != r.epoch {
			r.reset()
			r.epoch = ep
		}
		if first := l.first.Load(); r.next < first {
			return Record{}, fmt.Errorf("%w: reader at %d < first %d", ErrTruncated, r.next, first)
		}
		if r.next >= l.visible.Load() {
			return Record{}, io.EOF
		}
		if r.frame != nil && r.fi < r.fh.count {
			rec := Record{Offset: r.fh.first + uint64(r.fi), Time: r.fh.time, Data: frameRecord(r.frame, r.fh, r.fi)}
			r.fi++
			r.next = rec.Offset + 1
			return rec, nil
		}
		r.frame = nil
		retry, err := r.loadFrame()
		if err != nil {
			return Record{}, err
		}
		if retry {
			r.reset()
		}
	}
}

// loadFrame verifies the frame holding r.next and makes it current. It reports
// retry when a concurrent TruncateBack invalidated what was read.
func (r *Reader) loadFrame() (retry bool, err error) {
	for {
		if r.end-r.start < frameHeaderSize {
			if retry, err := r.fill(frameHeaderSize); retry || err != nil {
				return retry, err
			}
		}
		h := parseFrameHeader(r.buf[r.start:])
		framePos := r.pos - int64(r.end-r.start)
		if h.count == 0 || h.first > r.next || int64(h.length) > MaxFrameSize {
			return false, r.corrupt(framePos)
		}
		if int64(r.end-r.start) < h.size() {
			if retry, err := r.fill(h.size()); retry || err != nil {
				return retry, err
			}
		}
		f := r.buf[r.start : r.start+int(h.size())]
		r.start += int(h.size())
		if h.first+uint64(h.count) <= r.next {
			continue // before the wanted offset (positioned by the sparse index)
		}
		if !checkFrame(f, h) {
			return false, r.corrupt(framePos)
		}
		r.frame, r.fh, r.fi = f, h, uint32(r.next-h.first)
		return false, nil
	}
}

func (r *Reader) corrupt(pos int64) error {
	return fmt.Errorf("%w: segment %020d.seg offset %d position %d", ErrCorrupt, r.segBase, r.next, pos)
}

// fill makes buf[start:end] hold at least n bytes, switching to the segment
// that holds r.next when the current one is exhausted.
func (r *Reader) fill(n int64) (retry bool, err error) {
	l := r.l
	l.mu.RLock()
	if l.closed.Load() {
		l.mu.RUnlock()
		return false, ErrClosed
	}
	if r.next < l.first.Load() || r.next >= l.visible.Load() {
		l.mu.RUnlock()
		return true, nil // let Next report it
	}
	s := l.findLocked(r.next)
	if !r.positioned || s.base != r.segBase {
		pos, _ := s.locate(r.next)
		r.segBase, r.pos, r.start, r.end, r.positioned = s.base, pos, 0, 0, true
	}
	size := s.size.Load()
	mm := s.mm
	s.acquire()
	l.mu.RUnlock()
	defer s.release()

	have := int64(r.end - r.start)
	want := max(n, readChunk)
	if avail := size - r.pos; want-have > avail {
		want = have + avail
	}
	if want < n {
		return false, r.corrupt(r.pos - have)
	}
	if int64(cap(r.buf)) < want {
		nb := make([]byte, want)
		copy(nb, r.buf[r.start:r.end])
		r.buf = nb
	} else {
		r.buf = r.buf[:cap(r.buf)]
		copy(r.buf, r.buf[r.start:r.end])
	}
	r.start, r.end = 0, int(have)
	var m int
	if r.pos+want-have <= int64(len(mm)) {
		m = copy(r.buf[have:want], mm[r.pos:])
	} else {
		m, err = s.f.ReadAt(r.buf[have:want], r.pos)
	}
	// The bytes kept in buf were read under r.epoch; a TruncateBack since
	// then may have replaced what follows them.
	if l.epoch.Load() != r.epoch {
		return true, nil
	}
	if err != nil && !(err == io.EOF && int64(m) == want-have) {
		return false, fmt.Errorf("wal: read: %w", err)
	}
	r.end += m
	r.pos += int64(m)
	return false, nil
}

// Wait blocks until a record at the Reader's offset is available (Next will
// not return io.EOF), the log is closed (ErrClosed) or ctx is done
// (ctx.Err()). It does not poll: appends wake it.
func (r *Reader) Wait(ctx context.Context) error {
	l := r.l
	for {
		l.mu.Lock()
		if l.closed.Load() {
			l.mu.Unlock()
			return ErrClosed
		}
		if r.next < l.visible.Load() || r.next < l.first.Load() {
			l.mu.Unlock()
			return nil
		}
		l.waiting = true
		ch := l.notify
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
