package wal

import (
	"fmt"
	"os"
	"sort"
)

// TruncateFront drops the records before offset: afterwards FirstOffset()
// is offset, also after a reopen. Whole segments are deleted; the rest is
// hidden by a persisted start marker. offset > NextOffset() is ErrNotFound;
// offset <= FirstOffset() is a no-op.
func (l *Log) TruncateFront(offset uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	if offset > l.next.Load() {
		return fmt.Errorf("%w: truncate front at %d > next %d", ErrNotFound, offset, l.next.Load())
	}
	if offset <= l.first.Load() {
		return nil
	}
	if err := writeStart(l.dir, offset); err != nil {
		return err
	}
	l.first.Store(offset)
	return l.dropBelowLocked(offset)
}

// dropBelowLocked deletes the segments that hold only offsets below x,
// oldest first, so that a crash leaves a contiguous log.
func (l *Log) dropBelowLocked(x uint64) error {
	dropped := 0
	for len(l.segs)-dropped > 1 && l.segs[dropped+1].base <= x {
		if err := l.segs[dropped].remove(); err != nil {
			l.segs = append(l.segs[:0:0], l.segs[dropped:]...)
			return err
		}
		dropped++
	}
	if dropped == 0 {
		return nil
	}
	l.segs = append(l.segs[:0:0], l.segs[dropped:]...)
	l.publishCacheLocked()
	return syncDir(l.dir)
}

// TruncateBack drops the record at offset and everything after it, also
// inside a batch. offset < FirstOffset() is ErrTruncated; offset >=
// NextOffset() is a no-op. Cost: deletes later segments; cutting inside a
// batch rewrites the segment.
func (l *Log) TruncateBack(offset uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	if l.failed != nil {
		return l.failed
	}
	if offset < l.first.Load() {
		return fmt.Errorf("%w: truncate back at %d < first %d", ErrTruncated, offset, l.first.Load())
	}
	if offset >= l.next.Load() {
		return nil
	}
	l.epoch.Add(1)
	// Last, also on failure: after visible is lowered, and before anything
	// is appended to the tables and copies the cut gave fresh arrays.
	defer l.publishCacheLocked()
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > offset }) - 1
	for j := len(l.segs) - 1; j > i; j-- {
		if err := l.segs[j].remove(); err != nil {
			l.segs = l.segs[:j+1]
			l.failed = err
			return err
		}
	}
	l.segs = l.segs[:i+1]
	if err := syncDir(l.dir); err != nil {
		l.failed = err
		return err
	}
	if err := l.cutLocked(i, offset); err != nil {
		l.failed = err
		return err
	}
	preallocate(l.segs[i].f, l.opts.SegmentSize) // it is the active segment now
	l.next.Store(offset)
	// cutLocked fsynced the new last segment and the earlier ones were
	// fsynced when sealed, so everything left is durable and visible.
	l.publishLocked(offset)
	return nil
}

// cutLocked truncates segment i so that it ends before offset.
func (l *Log) cutLocked(i int, offset uint64) error {
	s := l.segs[i]
	for _, ext := range []string{".idx", ".tix"} {
		if err := os.Remove(segPath(l.dir, s.base, ext)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("wal: truncate back: %w", err)
		}
	}
	cut := int64(segHeaderSize)
	var keep [][]byte
	var keepTime int64
	var keepFirst uint64
	if offset > s.base {
		pos, end := s.locate(offset)
		buf := make([]byte, end-pos)
		if _, err := s.f.ReadAt(buf, pos); err != nil {
			return fmt.Errorf("wal: truncate back: %w", err)
		}
		p := 0
		for {
			if p+frameHeaderSize > len(buf) {
				return s.corrupt(offset, pos+int64(p))
			}
			h := parseFrameHeader(buf[p:])
			if h.size() > int64(len(buf)-p) || h.first > offset || h.count == 0 {
				return s.corrupt(offset, pos+int64(p))
			}
			if offset < h.first+uint64(h.count) {
				cut = pos + int64(p)
				f := buf[p : p+int(h.size())]
				if !checkFrame(f, h) {
					return s.corrupt(offset, cut)
				}
				for i := range uint32(offset - h.first) {
					keep = append(keep, frameRecord(f, h, i))
				}
				keepTime, keepFirst = h.time, h.first
				break
			}
			p += int(h.size())
		}
	}
	if len(keep) > 0 || s.mm != nil {
		return l.rewriteLocked(i, cut, offset, keepFirst, keep, keepTime)
	}
	if err := s.f.Truncate(cut); err != nil {
		return fmt.Errorf("wal: truncate back: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("wal: truncate back: %w", err)
	}
	s.size.Store(cut)
	if s.mem != nil && int64(len(s.mem)) >= cut {
		// Appends will write past cut: a fresh copy, since readers
		// holding a stale cache view may still read the old one.
		s.mem = append(make([]byte, 0, cap(s.mem)), s.mem[:cut]...)
	} else {
		s.mem = nil
	}
	if l.opts.ReadCache > 0 {
		s.dense = s.dense.clone() // the same, for the tables
	}
	s.trimIndex(offset)
	return nil
}

// trimIndex forgets index entries at or after offset.
func (s *segment) trimIndex(offset uint64) {
	k := sort.Search(len(s.idx), func(k int) bool { return uint64(s.idx[k].rel)+s.base >= offset })
	s.idx = s.idx[:k]
	s.dense.trim(int(offset - s.base))
	s.next = offset
	if offset == s.base {
		s.firstTime, s.lastTime = 0, 0
	}
}

// rewriteLocked replaces segment i by a copy cut at position cut, followed
// by a frame holding keep when TruncateBack split a batch. The copy is
// fsynced and renamed over the original, so a crash leaves either the old or
// the new segment, and a mapping of the old file keeps its pages.
func (l *Log) rewriteLocked(i int, cut int64, offset, first uint64, keep [][]byte, t int64) error {
	s := l.segs[i]
	head := make([]byte, cut)
	if _, err := s.f.ReadAt(head, 0); err != nil {
		return fmt.Errorf("wal: truncate back: %w", err)
	}
	data := head
	if len(keep) > 0 {
		data = appendFrame(head, first, t, keep)
	}
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("wal: truncate back: %w", err)
	}
	if _, err = f.WriteAt(data, 0); err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(tmp, s.path)
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("wal: truncate back: %w", err)
	}
	if err := syncDir(l.dir); err != nil {
		f.Close()
		return err
	}
	ns := &segment{base: s.base, path: s.path, f: f, idx: s.idx, dense: s.dense, firstTime: s.firstTime, lastTime: s.lastTime}
	if l.opts.ReadCache > 0 {
		ns.dense = s.dense.clone() // readers may hold a cache view of the old tables
	}
	ns.refs.Store(1)
	ns.size.Store(int64(len(data)))
	if len(keep) == 0 {
		ns.trimIndex(offset)
	} else {
		ns.trimIndex(first)
		ns.noteFrame(cut, data[cut:], l.opts.IndexEvery)
	}
	ns.mm = mapFile(f, max(l.opts.SegmentSize, ns.size.Load()))
	if s.mem != nil && int64(len(s.mem)) >= cut {
		// The head comes from the cache, not from the bytes just read
		// back from the disk, which were not verified.
		// A fresh copy: readers holding a stale cache view may still
		// read the old one.
		ns.mem = append(append(make([]byte, 0, cap(s.mem)), s.mem[:cut]...), data[cut:]...)
	}
	l.segs[i] = ns
	s.release()
	return nil
}
