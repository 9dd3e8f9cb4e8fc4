package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Record is one entry of the log.
type Record struct {
	Offset uint64
	Time   int64 // unix nanoseconds when appended (non-decreasing along the log)
	Data   []byte
}

// Log is a segmented write-ahead log in one directory.
//
// All methods are safe for concurrent use. Concurrent Append and
// AppendBatch calls are serialised on a mutex for the write(2) and, under
// SyncAlways, share fsyncs (group commit). Reads run concurrently with the
// writer. A Log must be closed with Close.
type Log struct {
	dir  string
	opts Options
	lock *os.File // holds the directory's advisory lock; nil where there is none

	mu       sync.RWMutex
	segs     []*segment  // by base offset; the last one is active
	closed   atomic.Bool // set under mu
	failed   error       // sticky write or fsync failure
	lastTime int64
	wbuf     []byte
	wseq     uint64 // writes done
	notify   chan struct{}
	waiting  bool // someone waits on notify

	first   atomic.Uint64
	next    atomic.Uint64 // next offset to assign
	visible atomic.Uint64 // readers see offsets below this
	epoch   atomic.Uint64 // bumped by TruncateBack

	inflight sync.WaitGroup

	syncMu   sync.Mutex
	syncCond *sync.Cond
	syncing  bool
	sseq     uint64 // writes known durable
	syncErr  error

	done chan struct{}
	bg   sync.WaitGroup

	cache    atomic.Pointer[cacheView] // read cache view for lock-free Read (nil without ReadCache)
	cacheGen atomic.Uint64             // bumped whenever a published view goes stale
}

// Append adds one record and returns its offset. Under SyncAlways it returns
// once the record is fsynced. Cost: one write(2), plus a shared fsync under
// SyncAlways; no allocation in steady state.
func (l *Log) Append(data []byte) (offset uint64, err error) {
	if len(data) > l.opts.MaxRecordSize {
		return 0, fmt.Errorf("%w: %d bytes > %d", ErrTooLarge, len(data), l.opts.MaxRecordSize)
	}
	return l.append(nil, data)
}

// AppendBatch adds the records of batch as one frame: after a crash either
// all of them are present or none. It returns the offset of the first one.
// An empty batch is a no-op that returns NextOffset().
func (l *Log) AppendBatch(batch [][]byte) (first uint64, err error) {
	if len(batch) == 0 {
		l.mu.RLock()
		defer l.mu.RUnlock()
		if l.closed.Load() {
			return 0, ErrClosed
		}
		return l.next.Load(), nil
	}
	for i, r := range batch {
		if len(r) > l.opts.MaxRecordSize {
			return 0, fmt.Errorf("%w: record %d of batch: %d bytes > %d", ErrTooLarge, i, len(r), l.opts.MaxRecordSize)
		}
	}
	if n := frameSize(batch); n-frameHeaderSize > MaxFrameSize || int64(len(batch)) > 1<<31 {
		return 0, fmt.Errorf("%w: batch of %d bytes", ErrTooLarge, n)
	}
	return l.append(batch, nil)
}

func (l *Log) append(batch [][]byte, one []byte) (uint64, error) {
	l.mu.Lock()
	if l.closed.Load() {
		l.mu.Unlock()
		return 0, ErrClosed
	}
	if l.failed != nil {
		err := l.failed
		l.mu.Unlock()
		return 0, err
	}
	l.inflight.Add(1)
	defer l.inflight.Done()
	first, err := l.writeLocked(batch, one)
	seq := l.wseq
	l.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if l.opts.Sync == SyncAlways {
		if err := l.syncTo(seq); err != nil {
			return 0, err
		}
	}
	return first, nil
}

// writeLocked writes one frame to the active segment, rolling it first when
// needed. Call with l.mu held.
func (l *Log) writeLocked(batch [][]byte, one []byte) (uint64, error) {
	now := l.opts.Clock().UnixNano()
	if now < l.lastTime {
		now = l.lastTime
	}
	var size int64
	count := uint32(1)
	if batch == nil {
		size = frameHeaderSize + int64(len(one))
	} else {
		size = frameSize(batch)
		count = uint32(len(batch))
	}
	act := l.segs[len(l.segs)-1]
	if act.next > act.base && (act.size.Load()+size > l.opts.SegmentSize ||
		(l.opts.SegmentAge > 0 && now-act.firstTime >= int64(l.opts.SegmentAge))) {
		if err := l.rollLocked(now); err != nil {
			return 0, err
		}
		act = l.segs[len(l.segs)-1]
	}
	first := l.next.Load()
	if batch == nil {
		l.wbuf = appendFrame1(l.wbuf[:0], first, now, one)
	} else {
		l.wbuf = appendFrame(l.wbuf[:0], first, now, batch)
	}
	pos := act.size.Load()
	if _, err := act.f.WriteAt(l.wbuf, pos); err != nil {
		// Never leave a partial frame in front of later ones.
		if terr := act.f.Truncate(pos); terr != nil {
			l.failed = fmt.Errorf("wal: log failed after write error: %w", errors.Join(err, terr))
		}
		return 0, fmt.Errorf("wal: append: %w", err)
	}
	republish := false
	if act.mem != nil {
		if int64(len(act.mem)) == pos && len(act.mem)+len(l.wbuf) <= cap(act.mem) {
			act.mem = append(act.mem, l.wbuf...)
		} else {
			// A frame larger than the rest of the copy: the copy is never
			// reallocated (published views point into it), so the segment
			// stops being cached.
			act.mem = nil
			republish = true
		}
	}
	nrecs, nframes := cap(act.dense.recs), cap(act.dense.frames)
	act.noteFrame(pos, l.wbuf, l.opts.IndexEvery)
	if republish || (act.mem != nil && (cap(act.dense.recs) != nrecs || cap(act.dense.frames) != nframes)) {
		l.publishCacheLocked() // the tables moved, or the copy is gone
	}
	if cap(l.wbuf) > 1<<20 {
		l.wbuf = nil // do not pin a huge batch buffer
	}
	act.size.Store(pos + size)
	if l.opts.Sync != SyncAlways && pos+size-act.kicked >= writebackChunk {
		// Spread the writeback of the segment over its life instead of
		// waiting for all of it in the fsync that seals it.
		startWriteback(act.f, act.kicked, pos+size-act.kicked)
		act.kicked = pos + size
	}
	l.lastTime = now
	l.next.Store(first + uint64(count))
	l.wseq++
	if l.opts.Sync != SyncAlways {
		l.publishLocked(first + uint64(count))
	}
	if l.opts.RetentionAge > 0 && len(l.segs) > 1 && l.segs[0].lastTime < now-int64(l.opts.RetentionAge) {
		if err := l.retainLocked(now); err != nil {
			l.failed = err
		}
	}
	return first, nil
}

// writebackChunk is how many written bytes of the active segment, when the
// policy is not SyncAlways, trigger an asynchronous start of their writeback.
const writebackChunk = 4 << 20

// publishLocked makes offsets below v visible to readers and wakes waiters.
func (l *Log) publishLocked(v uint64) {
	l.visible.Store(v)
	if l.waiting {
		close(l.notify)
		l.notify = make(chan struct{})
		l.waiting = false
	}
}

// rollLocked seals the active segment and starts a new one.
func (l *Log) rollLocked(now int64) error {
	act := l.segs[len(l.segs)-1]
	// A sealed segment is complete on disk and ends at its last frame, so a
	// later torn write can only ever affect the last segment. It is trimmed
	// before the fsync, which then makes its end durable too.
	if err := act.trim(); err != nil {
		l.failed = err
		return err
	}
	if err := syncData(act.f); err != nil {
		l.failed = fmt.Errorf("wal: fsync: %w", err)
		return l.failed
	}
	if err := writeIndex(l.dir, act); err != nil {
		return err
	}
	s, err := createSegment(l.dir, l.next.Load(), l.opts.SegmentSize)
	if err != nil {
		return err
	}
	// Segments tend to look alike: sized like the last one, the new
	// tables need not grow while appends fill it.
	s.dense.reserve(len(act.dense.recs), len(act.dense.frames))
	// A mapping is never replaced while readers may use it; reads past a
	// short one (a segment grown beyond SegmentSize) use pread.
	if act.mm == nil {
		act.mm = mapFile(act.f, act.size.Load())
	}
	l.mapActive(s)
	l.segs = append(l.segs, s)
	l.evictLocked()
	err = l.retainLocked(now)
	l.publishCacheLocked()
	return err
}

// retainLocked drops the oldest sealed segments beyond the retention limits.
func (l *Log) retainLocked(now int64) error {
	if l.opts.RetentionSize == 0 && l.opts.RetentionAge == 0 {
		return nil
	}
	var total int64
	for _, s := range l.segs {
		total += s.size.Load()
	}
	dropped := 0
	for len(l.segs)-dropped > 1 {
		s := l.segs[dropped]
		bySize := l.opts.RetentionSize > 0 && total > l.opts.RetentionSize
		byAge := l.opts.RetentionAge > 0 && s.lastTime < now-int64(l.opts.RetentionAge)
		if !bySize && !byAge {
			break
		}
		if err := s.remove(); err != nil {
			return err
		}
		total -= s.size.Load()
		dropped++
		l.first.Store(max(l.first.Load(), l.segs[dropped].base))
	}
	if dropped == 0 {
		return nil
	}
	l.segs = append(l.segs[:0:0], l.segs[dropped:]...)
	l.publishCacheLocked()
	return syncDir(l.dir)
}

// syncTo returns once write number seq is durable. The first caller to find
// no fsync running becomes the leader and fsyncs for everyone who wrote
// before it looked; the others wait for it (group commit).
func (l *Log) syncTo(seq uint64) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	for l.sseq < seq {
		if l.syncErr != nil {
			return l.syncErr
		}
		if l.syncing {
			l.syncCond.Wait()
			continue
		}
		l.syncing = true
		l.syncMu.Unlock()
		target, err := l.flush()
		l.syncMu.Lock()
		l.syncing = false
		if err != nil {
			l.syncErr = err
		} else if target > l.sseq {
			l.sseq = target
		}
		l.syncCond.Broadcast()
	}
	return nil
}

// flush fsyncs the active segment and publishes what it covers. Sealed
// segments were fsynced when they were sealed.
func (l *Log) flush() (uint64, error) {
	l.mu.Lock()
	target, next, epoch := l.wseq, l.next.Load(), l.epoch.Load()
	act := l.segs[len(l.segs)-1]
	act.acquire()
	l.mu.Unlock()
	err := syncData(act.f)
	act.release()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.failed = fmt.Errorf("wal: fsync: %w", err)
		return 0, l.failed
	}
	if l.epoch.Load() == epoch && next > l.visible.Load() {
		l.publishLocked(next)
	}
	return target, nil
}

func (l *Log) syncLoop() {
	defer l.bg.Done()
	t := time.NewTicker(l.opts.SyncEvery)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
			// An error here is sticky and surfaces on the next Append.
			_ = l.Sync()
		}
	}
}

// Sync forces everything appended so far to stable storage.
func (l *Log) Sync() error {
	l.mu.Lock()
	if l.closed.Load() {
		l.mu.Unlock()
		return ErrClosed
	}
	l.inflight.Add(1)
	defer l.inflight.Done()
	seq := l.wseq
	l.mu.Unlock()
	return l.syncTo(seq)
}

// FirstOffset returns the offset of the oldest record (equal to NextOffset
// when the log is empty). Cost: O(1), lock-free.
func (l *Log) FirstOffset() uint64 { return l.first.Load() }

// NextOffset returns the offset the next appended record will get.
// Cost: O(1), lock-free.
func (l *Log) NextOffset() uint64 { return l.next.Load() }

// findLocked returns the segment holding off, which must be within the log.
// The active segment is tried first: most reads are of recent records.
func (l *Log) findLocked(off uint64) *segment {
	segs := l.segs
	if s := segs[len(segs)-1]; off >= s.base {
		return s
	}
	lo, hi := 0, len(segs)-1 // segs[lo].base <= off < segs[hi].base
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if segs[m].base <= off {
			lo = m
		} else {
			hi = m
		}
	}
	return segs[lo]
}

// checkReadLocked returns the error of a read at offset, or nil when offset
// is readable. Call with l.mu held.
func (l *Log) checkReadLocked(offset uint64) error {
	if l.closed.Load() {
		return ErrClosed
	}
	if first := l.first.Load(); offset < first {
		return fmt.Errorf("%w: offset %d < first %d", ErrTruncated, offset, first)
	}
	if vis := l.visible.Load(); offset >= vis {
		return fmt.Errorf("%w: offset %d >= next %d", ErrNotFound, offset, vis)
	}
	return nil
}

// lockedReadMax bounds the records Read verifies and copies while holding
// the read lock; larger ones are read under a segment reference instead,
// so that a huge record does not hold up appenders.
const lockedReadMax = 1 << 20

// Read returns the record at offset; its Data is a copy the caller owns.
// Cost: O(1) to locate the record through the segment's dense index, a
// CRC-32C over the record's data (the frame header and, in a batch, the
// record's bounds enter it from the index; never the rest of the batch),
// one copy and one allocation; a pread only for a segment that is not
// mapped. A record in the read cache (Options.ReadCache) is copied without
// a checksum.
func (l *Log) Read(offset uint64) (Record, error) { return l.ReadInto(nil, offset) }

// ReadInto is Read with the record's data appended to dst[:0]: Record.Data
// is that slice, which the caller owns. It allocates only when cap(dst) is
// too small, so a caller that passes the previous Record.Data back in reads
// without allocating.
func (l *Log) ReadInto(dst []byte, offset uint64) (Record, error) {
	if data, t, ok := l.readCached(dst, offset); ok {
		return Record{Offset: offset, Time: t, Data: data}, nil
	}
	l.mu.RLock()
	if l.closed.Load() || offset < l.first.Load() || offset >= l.visible.Load() {
		err := l.checkReadLocked(offset)
		l.mu.RUnlock()
		return Record{}, err
	}
	s := l.findLocked(offset)
	r := s.dense.recs[offset-s.base]
	end := int64(r.data) + int64(r.size)
	if r.size <= lockedReadMax {
		// The record may be in the read cache (readCached missed it only
		// while a view was being replaced): bytes this process wrote.
		if mem := s.mem; end <= int64(len(mem)) {
			rec := Record{Offset: offset, Time: s.dense.time(mem, r), Data: copyInto(dst, mem[r.data:end])}
			l.mu.RUnlock()
			return rec, nil
		}
		// The read lock keeps the mapping and the record in place
		// (TruncateBack and unmapping take the write lock).
		if mm := s.mm; end <= int64(len(mm)) && end <= s.size.Load() {
			data, t, ok := verifyRecord(mm, r, s.dense.frame(r), offset)
			if !ok {
				err := s.corrupt(offset, s.dense.framePos(r))
				l.mu.RUnlock()
				return Record{}, err
			}
			rec := Record{Offset: offset, Time: t, Data: copyInto(dst, data)}
			l.mu.RUnlock()
			return rec, nil
		}
	}
	l.mu.RUnlock()
	return l.readRef(dst, offset)
}

// preadRecord is verifyRecord for a segment that is not mapped (or a
// record past its mapping): it reads the record's data into dst[:0], and a
// single record's frame header, with pread. fr is a copy of the batch
// record's frame entry, or nil.
func (s *segment) preadRecord(dst []byte, r recPos, fr *frameInfo, off uint64) (Record, error) {
	var hb [frameHeaderSize]byte
	if r.frame == single {
		if r.data < frameHeaderSize {
			return Record{}, s.corrupt(off, framePos(r, fr))
		}
		if _, err := s.f.ReadAt(hb[:], int64(r.head())); err != nil {
			return Record{}, fmt.Errorf("wal: read: %w", err)
		}
	}
	if cap(dst) < int(r.size) {
		dst = make([]byte, r.size)
	}
	dst = dst[:r.size]
	if _, err := s.f.ReadAt(dst, int64(r.data)); err != nil {
		return Record{}, fmt.Errorf("wal: read: %w", err)
	}
	var c uint32
	var t int64
	switch {
	case r.frame == single && binary.LittleEndian.Uint64(hb[8:]) == off:
		c = crc32.Update(crc32.Checksum(hb[4:], castagnoli), castagnoli, dst)
		t = int64(binary.LittleEndian.Uint64(hb[16:]))
	case r.frame != single && fr != nil:
		c = batchRecordCRC(fr, r, dst)
		t = fr.time
	default:
		return Record{}, s.corrupt(off, framePos(r, fr))
	}
	if c != r.sum {
		return Record{}, s.corrupt(off, framePos(r, fr))
	}
	return Record{Offset: off, Time: t, Data: dst}, nil
}

// readRef is the path of ReadInto for large or unmapped records: it holds a
// reference to the segment instead of the lock while it reads.
func (l *Log) readRef(dst []byte, offset uint64) (Record, error) {
	for {
		l.mu.RLock()
		if err := l.checkReadLocked(offset); err != nil {
			l.mu.RUnlock()
			return Record{}, err
		}
		s := l.findLocked(offset)
		r := s.dense.recs[offset-s.base]
		var fr *frameInfo
		if f := s.dense.frame(r); f != nil {
			c := *f // the table may change once the lock is released
			fr = &c
		}
		if int64(r.data)+int64(r.size) > s.size.Load() {
			err := s.corrupt(offset, s.dense.framePos(r))
			l.mu.RUnlock()
			return Record{}, err
		}
		s.acquire()
		mm := s.mm // set under l.mu
		epoch := l.epoch.Load()
		l.mu.RUnlock()

		var rec Record
		var err error
		if data, t, ok := verifyRecord(mm, r, fr, offset); ok {
			rec = Record{Offset: offset, Time: t, Data: copyInto(dst, data)}
		} else {
			rec, err = s.preadRecord(dst, r, fr, offset)
		}
		s.release()
		if l.epoch.Load() != epoch {
			continue // TruncateBack ran meanwhile: look again
		}
		return rec, err
	}
}

// copyInto returns data copied into dst[:0], allocating exactly len(data)
// bytes when dst is too small.
func copyInto(dst, data []byte) []byte {
	if cap(dst) < len(data) {
		// This form (make, then copy, then return) compiles to one
		// allocation that is not zeroed first.
		dst = make([]byte, len(data))
		copy(dst, data)
		return dst
	}
	dst = dst[:len(data)]
	copy(dst, data)
	return dst
}

// OffsetAt returns the offset of the first record with Time >= t, or
// NextOffset() when there is none. Cost: a binary search of the time index
// and a scan of at most about IndexEvery bytes per candidate segment.
func (l *Log) OffsetAt(t time.Time) (uint64, error) {
	tn := t.UnixNano()
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed.Load() {
		return 0, ErrClosed
	}
	first := l.first.Load()
	// Only the last segment can be empty, and times never decrease, so
	// this predicate is monotone.
	n := len(l.segs)
	i := sort.Search(n, func(i int) bool { return i == n-1 || l.segs[i].lastTime >= tn })
	for ; i < len(l.segs); i++ {
		s := l.segs[i]
		if s.next <= first {
			continue
		}
		// Last index entry strictly before t: the answer lies after it.
		j := sort.Search(len(s.idx), func(j int) bool { return s.idx[j].time >= tn })
		pos := int64(segHeaderSize)
		if j > 0 {
			pos = int64(s.idx[j-1].pos)
		}
		off, found, err := scanTime(s, pos, tn)
		if err != nil {
			return 0, err
		}
		if found {
			return max(off, first), nil
		}
	}
	return l.next.Load(), nil
}

// scanTime walks frame headers from pos and returns the first offset of the
// first frame with time >= tn.
func scanTime(s *segment, pos int64, tn int64) (uint64, bool, error) {
	var hb [frameHeaderSize]byte
	size := s.size.Load()
	for pos+frameHeaderSize <= size {
		if _, err := s.f.ReadAt(hb[:], pos); err != nil {
			return 0, false, fmt.Errorf("wal: read: %w", err)
		}
		h := parseFrameHeader(hb[:])
		if h.count == 0 || h.size() > size-pos {
			return 0, false, s.corrupt(s.base, pos)
		}
		if h.time >= tn {
			return h.first, true, nil
		}
		pos += h.size()
	}
	return 0, false, nil
}

// Close waits for in-flight appends, fsyncs and closes the log. Afterwards
// every method returns ErrClosed; closing twice is fine.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed.Load() {
		l.mu.Unlock()
		return nil
	}
	l.closed.Store(true)
	l.publishCacheLocked() // drops the view
	close(l.notify)        // wake Reader.Wait
	l.waiting = false
	l.mu.Unlock()
	close(l.done)
	l.bg.Wait()
	l.inflight.Wait()

	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.failed
	if err == nil {
		act := l.segs[len(l.segs)-1]
		err = act.trim()
		if serr := act.f.Sync(); serr != nil && err == nil {
			err = fmt.Errorf("wal: close: %w", serr)
		}
	}
	for _, s := range l.segs {
		s.release()
	}
	l.segs = nil
	l.unlock()
	return err
}

// unlock releases the directory lock taken by Open.
func (l *Log) unlock() {
	if l.lock != nil {
		_ = l.lock.Close() // closing the descriptor drops the flock; nothing to report
		l.lock = nil
	}
}
