package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

const (
	startFile = "START"
	lockFile  = "LOCK"
)

// Open opens or creates the log in dir. It validates the tail of the last
// segment and truncates a torn tail; damage before the tail fails with
// ErrCorrupt unless opts.Repair is set. While the Log is open it holds an
// advisory lock on dir (flock(2) on dir/LOCK, where it exists): Open of the
// same directory by another Log, in this process or another, fails with
// ErrLocked. Cost: reads the last segment and any sealed segment whose
// index files are missing or damaged.
func Open(dir string, opts Options) (*Log, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("wal: open: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	l := &Log{dir: dir, opts: o, lock: lock, notify: make(chan struct{}), done: make(chan struct{})}
	l.syncCond = sync.NewCond(&l.syncMu)
	if err := l.load(); err != nil {
		for _, s := range l.segs {
			s.release()
		}
		l.unlock()
		return nil, err
	}
	l.publishCacheLocked()
	if o.Sync == SyncInterval {
		l.bg.Add(1)
		go l.syncLoop()
	}
	return l, nil
}

// load reads the directory and recovers the segments.
func (l *Log) load() error {
	ents, err := os.ReadDir(l.dir)
	if err != nil {
		return fmt.Errorf("wal: open: %w", err)
	}
	var bases []uint64
	for _, e := range ents {
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") {
			if err := os.Remove(filepath.Join(l.dir, name)); err != nil {
				return fmt.Errorf("wal: open: %w", err)
			}
			continue
		}
		if !strings.HasSuffix(name, ".seg") {
			continue
		}
		b, err := strconv.ParseUint(strings.TrimSuffix(name, ".seg"), 10, 64)
		if err != nil {
			continue
		}
		bases = append(bases, b)
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	start, err := readStart(l.dir)
	if err != nil {
		return err
	}
	for i, b := range bases {
		s, err := l.openSegment(b, i == len(bases)-1)
		if err != nil {
			return err
		}
		if s == nil { // Repair drops this and all later segments
			if err := l.dropFrom(bases[i:]); err != nil {
				return err
			}
			break
		}
		l.segs = append(l.segs, s)
		if i+1 < len(bases) && s.next != bases[i+1] {
			err := fmt.Errorf("%w: segment %s ends at offset %d, next segment starts at %d", ErrCorrupt, filepath.Base(s.path), s.next, bases[i+1])
			if !l.opts.Repair {
				return err
			}
			if err := l.dropFrom(bases[i+1:]); err != nil {
				return err
			}
			break
		}
	}
	if err := l.finishLoad(start); err != nil {
		return err
	}
	return nil
}

// finishLoad sets the offsets after the segments are loaded.
func (l *Log) finishLoad(start uint64) error {
	if len(l.segs) == 0 || start > l.segs[len(l.segs)-1].next {
		// Empty directory, or a start marker past the recovered end (the
		// records it hid were never made durable): begin afresh at start.
		for _, s := range l.segs {
			if err := s.remove(); err != nil {
				return err
			}
		}
		l.segs = nil
		s, err := createSegment(l.dir, start, l.opts.SegmentSize)
		if err != nil {
			return err
		}
		l.mapActive(s)
		l.segs = append(l.segs, s)
	}
	act := l.segs[len(l.segs)-1]
	// The active segment's index files would go stale with the next append.
	for _, ext := range []string{".idx", ".tix"} {
		if err := os.Remove(segPath(l.dir, act.base, ext)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("wal: open: %w", err)
		}
	}
	// A crash inside TruncateFront can leave segments the marker hides.
	if err := l.dropBelowLocked(start); err != nil {
		return err
	}
	l.first.Store(max(start, l.segs[0].base))
	l.next.Store(act.next)
	l.visible.Store(act.next)
	for _, s := range l.segs {
		if s.next > s.base {
			l.lastTime = max(l.lastTime, s.lastTime)
		}
	}
	return l.retainLocked(l.opts.Clock().UnixNano())
}

// dropFrom deletes the segment files with the given bases (Repair).
func (l *Log) dropFrom(bases []uint64) error {
	for i := len(bases) - 1; i >= 0; i-- {
		for _, ext := range []string{".seg", ".idx", ".tix"} {
			if err := os.Remove(segPath(l.dir, bases[i], ext)); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("wal: repair: %w", err)
			}
		}
	}
	return syncDir(l.dir)
}

// openSegment opens and validates one segment. It returns nil, nil when
// Repair removes the segment entirely.
func (l *Log) openSegment(base uint64, last bool) (*segment, error) {
	p := segPath(l.dir, base, ".seg")
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("wal: open segment: %w", err)
	}
	s := &segment{base: base, path: p, f: f, next: base}
	s.refs.Store(1)
	st, err := f.Stat()
	if err != nil {
		s.release()
		return nil, fmt.Errorf("wal: open segment: %w", err)
	}
	size := st.Size()
	hdr := make([]byte, segHeaderSize)
	n, _ := f.ReadAt(hdr, 0)
	if n == segHeaderSize && string(hdr[:8]) == segMagic && binary.LittleEndian.Uint32(hdr[12:]) == segHeaderCRC(hdr) && hdr[8] != formatVersion {
		s.release()
		return nil, fmt.Errorf("%w: segment %s has version %d, this package reads version %d", ErrVersion, filepath.Base(p), hdr[8], formatVersion)
	}
	if n < segHeaderSize || string(hdr[:8]) != segMagic || hdr[8] != formatVersion ||
		binary.LittleEndian.Uint32(hdr[12:]) != segHeaderCRC(hdr) || binary.LittleEndian.Uint64(hdr[16:]) != base {
		if last && size <= segHeaderSize {
			// Crash while creating the segment: write the header again.
			s.release()
			ns, err := createSegment(l.dir, base, l.opts.SegmentSize)
			if err == nil {
				l.mapActive(ns)
			}
			return ns, err
		}
		s.release()
		if l.opts.Repair {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: segment %s: bad header", ErrCorrupt, filepath.Base(p))
	}
	if !last && loadIndex(l.dir, s, size) {
		dense, ok, err := densePositions(f, size, base, s.next)
		if err != nil {
			s.release()
			return nil, err
		}
		if ok {
			s.dense = dense
			s.size.Store(size)
			s.mm = mapFile(f, size)
			return s, nil
		}
		// Headers disagree with the index: fall back to a full scan.
	}
	r, err := scanSegment(f, size, base, l.opts.IndexEvery)
	if err != nil {
		s.release()
		return nil, err
	}
	if r.damaged && (r.later || !last) && !l.opts.Repair {
		s.release()
		return nil, s.corrupt(r.next, r.end)
	}
	if r.damaged {
		// Torn tail, or Repair: cut the segment after its last whole frame.
		if err := f.Truncate(r.end); err != nil {
			s.release()
			return nil, fmt.Errorf("wal: truncate torn tail: %w", err)
		}
		if err := f.Sync(); err != nil {
			s.release()
			return nil, fmt.Errorf("wal: truncate torn tail: %w", err)
		}
		size = r.end
	}
	s.size.Store(size)
	s.idx, s.dense, s.next, s.firstTime, s.lastTime = r.idx, r.dense, r.next, r.firstTime, r.lastTime
	if !last && !r.damaged {
		if err := writeIndex(l.dir, s); err != nil {
			s.release()
			return nil, err
		}
		s.mm = mapFile(f, size)
	}
	if last {
		preallocate(f, l.opts.SegmentSize)
		l.mapActive(s)
	}
	return s, nil
}

// readStart reads the persisted start marker (0 when absent).
func readStart(dir string) (uint64, error) {
	b, err := os.ReadFile(filepath.Join(dir, startFile))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("wal: read start marker: %w", err)
	}
	if len(b) != 20 || string(b[:4]) != "sbws" || crc32.Checksum(b[:16], castagnoli) != binary.LittleEndian.Uint32(b[16:]) {
		return 0, fmt.Errorf("%w: start marker damaged", ErrCorrupt)
	}
	if b[4] != formatVersion {
		return 0, fmt.Errorf("%w: start marker has version %d, this package reads version %d", ErrVersion, b[4], formatVersion)
	}
	return binary.LittleEndian.Uint64(b[8:]), nil
}

// writeStart durably replaces the start marker.
func writeStart(dir string, off uint64) error {
	b := make([]byte, 16, 20)
	copy(b, "sbws")
	b[4] = formatVersion
	binary.LittleEndian.PutUint64(b[8:], off)
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	p := filepath.Join(dir, startFile)
	f, err := os.OpenFile(p+".tmp", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("wal: write start marker: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(p+".tmp", p)
	}
	if err != nil {
		return fmt.Errorf("wal: write start marker: %w", err)
	}
	return syncDir(dir)
}
