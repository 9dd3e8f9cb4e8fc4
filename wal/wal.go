package wal

import (
	"errors"
	"fmt"
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

	readBufs sync.Pool
	spareMem []byte // a read cache buffer evicted from a segment, for the next one (under mu)
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
	if n := frameSize(batch); n-frameHeaderSize > MaxFrameSize || len(batch) > 1<<31 {
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
	if act.mem != nil {
		if int64(len(act.mem)) == pos {
			act.mem = append(act.mem, l.wbuf...)
		} else {
			act.mem = nil // cannot happen; never serve a copy that is not the file
		}
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
	act.noteFrame(pos, first, count, now, l.opts.IndexEvery)
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
	// A sealed segment is complete on disk, so a later torn write can only
	// ever affect the last segment.
	if err := syncData(act.f); err != nil {
		l.failed = fmt.Errorf("wal: fsync: %w", err)
		return l.failed
	}
	trimReserve(act.f)
	if err := writeIndex(l.dir, act); err != nil {
		return err
	}
	s, err := createSegment(l.dir, l.next.Load(), l.opts.SegmentSize)
	if err != nil {
		return err
	}
	// A mapping is never replaced while readers may use it; reads past a
	// short one (a segment grown beyond SegmentSize) use pread.
	if act.mm == nil {
		act.mm = mapFile(act.f, act.size.Load())
	}
	l.mapActive(s)
	l.segs = append(l.segs, s)
	l.evictLocked()
	return l.retainLocked(now)
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

// lockedReadMax bounds the frames Read verifies and copies while holding
// the read lock; larger ones are read under a segment reference instead,
// so that a huge record does not hold up appenders.
const lockedReadMax = 1 << 20

// Read returns the record at offset; its Data is a copy the caller owns.
// Cost: O(1) to locate the frame through the segment's dense position table,
// a CRC-32C over the record (with the frame header and, in a batch, the
// record's bounds; never the rest of the batch), one copy and one
// allocation; a pread only for a segment that is not mapped. A record in
// the read cache (Options.ReadCache) is copied without a checksum.
func (l *Log) Read(offset uint64) (Record, error) { return l.ReadInto(nil, offset) }

// ReadInto is Read with the record's data appended to dst[:0]: Record.Data
// is that slice, which the caller owns. It allocates only when cap(dst) is
// too small, so a caller that passes the previous Record.Data back in reads
// without allocating.
func (l *Log) ReadInto(dst []byte, offset uint64) (Record, error) {
	l.mu.RLock()
	if l.closed.Load() || offset < l.first.Load() || offset >= l.visible.Load() {
		err := l.checkReadLocked(offset)
		l.mu.RUnlock()
		return Record{}, err
	}
	s := l.findLocked(offset)
	pos := s.framePos(offset)
	// Fastest path: the frame is in the read cache, bytes this process
	// wrote itself and that never came back from the disk.
	if data, t, ok := cachedRecord(s.mem, pos, offset); ok {
		rec := Record{Offset: offset, Time: t, Data: copyInto(dst, data)}
		l.mu.RUnlock()
		return rec, nil
	}
	rec, done, err := s.readMappedLocked(dst, pos, offset)
	l.mu.RUnlock()
	if done {
		return rec, err
	}
	return l.readRef(dst, offset)
}

// cachedRecord returns the data and time of the record with offset off from
// the frame at pos of a segment's read cache mem, or ok false when mem does
// not hold that frame or it is too large to copy under the read lock.
func cachedRecord(mem []byte, pos int64, off uint64) (data []byte, t int64, ok bool) {
	if pos+frameHeaderSize > int64(len(mem)) {
		return nil, 0, false
	}
	h := parseFrameHeader(mem[pos:])
	end := pos + h.size()
	if h.size() > lockedReadMax || end > int64(len(mem)) || off < h.first || off-h.first >= uint64(h.count) {
		return nil, 0, false
	}
	return frameRecord(mem[pos:end], h, uint32(off-h.first)), h.time, true
}

// readMappedLocked reads the record with offset off from the frame at pos
// when the mapping covers it and it is small: it is verified and copied
// under the read lock, which keeps the mapping and the record in place
// (TruncateBack takes the write lock). done is false when the caller must
// take the slower path. Call with Log.mu held.
func (s *segment) readMappedLocked(dst []byte, pos int64, off uint64) (rec Record, done bool, err error) {
	mm := s.mm
	if pos+frameHeaderSize > int64(len(mm)) {
		return Record{}, false, nil
	}
	h := parseFrameHeader(mm[pos:])
	end := pos + h.size()
	if h.size() > lockedReadMax || end > s.size.Load() || end > int64(len(mm)) {
		return Record{}, false, nil
	}
	f := mm[pos:end]
	if len(f) <= touchMax && s.size.Load() > touchAbove {
		touchLines(f)
	}
	rec, err = s.record(f, h, pos, off)
	if err == nil {
		rec.Data = copyInto(dst, rec.Data)
	}
	return rec, true, err
}

// readRef is the path of ReadInto for large or unmapped frames: it holds a
// reference to the segment instead of the lock while it reads.
func (l *Log) readRef(dst []byte, offset uint64) (Record, error) {
	for {
		l.mu.RLock()
		if err := l.checkReadLocked(offset); err != nil {
			l.mu.RUnlock()
			return Record{}, err
		}
		s := l.findLocked(offset)
		pos := s.framePos(offset)
		size := s.size.Load()
		s.acquire()
		mm := s.mm // set under l.mu
		epoch := l.epoch.Load()
		l.mu.RUnlock()

		rec, err := l.readFrame(s, mm, pos, size, offset, dst)
		s.release()
		if l.epoch.Load() != epoch {
			continue // TruncateBack ran meanwhile: look again
		}
		return rec, err
	}
}

// readFrame returns the record with offset off, its data appended to
// dst[:0], from the frame at pos of s (size bytes written), through the
// mapping mm when it covers the frame and with pread otherwise.
func (l *Log) readFrame(s *segment, mm []byte, pos, size int64, off uint64, dst []byte) (Record, error) {
	if pos+frameHeaderSize > size {
		return Record{}, s.corrupt(off, pos)
	}
	var h frameHeader
	if pos+frameHeaderSize <= int64(len(mm)) {
		h = parseFrameHeader(mm[pos:])
	} else {
		var hb [frameHeaderSize]byte
		if _, err := s.f.ReadAt(hb[:], pos); err != nil {
			return Record{}, fmt.Errorf("wal: read: %w", err)
		}
		h = parseFrameHeader(hb[:])
	}
	if h.size() > size-pos {
		return Record{}, s.corrupt(off, pos)
	}
	end := pos + h.size()
	if end <= int64(len(mm)) {
		rec, err := s.record(mm[pos:end], h, pos, off)
		if err == nil {
			rec.Data = copyInto(dst, rec.Data)
		}
		return rec, err
	}
	bp := l.getReadBuf(h.size())
	defer l.readBufs.Put(bp)
	if _, err := s.f.ReadAt(*bp, pos); err != nil {
		return Record{}, fmt.Errorf("wal: read: %w", err)
	}
	rec, err := s.record(*bp, h, pos, off)
	if err == nil {
		rec.Data = copyInto(dst, rec.Data)
	}
	return rec, err
}

// copyInto returns data copied into dst[:0], allocating exactly len(data)
// bytes when dst is too small.
func copyInto(dst, data []byte) []byte {
	if cap(dst) < len(data) {
		dst = make([]byte, len(data))
	}
	dst = dst[:len(data)]
	copy(dst, data)
	return dst
}

func (l *Log) getReadBuf(n int64) *[]byte {
	bp, _ := l.readBufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	if int64(cap(*bp)) < n {
		*bp = make([]byte, n)
	}
	*bp = (*bp)[:n]
	return bp
}

// record returns the record with offset off from the frame f (header h) at
// file position pos, verified; Data aliases f.
func (s *segment) record(f []byte, h frameHeader, pos int64, off uint64) (Record, error) {
	if off < h.first || off-h.first >= uint64(h.count) {
		return Record{}, s.corrupt(off, pos)
	}
	data, ok := verifiedRecord(f, h, uint32(off-h.first))
	if !ok {
		return Record{}, s.corrupt(off, pos)
	}
	return Record{Offset: off, Time: h.time, Data: data}, nil
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
	close(l.notify) // wake Reader.Wait
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
		if serr := act.f.Sync(); serr != nil {
			err = fmt.Errorf("wal: close: %w", serr)
		}
		trimReserve(act.f)
	}
	for _, s := range l.segs {
		s.release()
	}
	l.segs = nil
	return err
}
