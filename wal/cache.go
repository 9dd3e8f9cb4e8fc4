package wal

import (
	"encoding/binary"
	"math"
)

// cacheView is what a Read from the read cache (Options.ReadCache) sees
// without taking the lock: the cached segments' dense tables and copies as
// they were when the view was published, at their full capacity.
//
// Why it is race-free: memory a view reaches is only ever written by
// appends, beyond the records readers can see, before Log.visible is
// advanced over them (so a reader that finds an offset below visible reads
// what was written before it looked). Nothing a view reaches is rewritten
// in place: TruncateBack gives a segment it cuts fresh tables and a fresh
// copy, a copy evicted or dropped is never reused, and growth of a table
// moves it. A reader can still hold a stale view, whose tables may lack
// what later appends wrote elsewhere; every change that makes a view stale
// bumps Log.cacheGen before the records it concerns become visible, and a
// reader that finds cacheGen changed after its read discards the result and
// takes the locked path.
type cacheView struct {
	gen  uint64
	segs []cachedSegment
}

// cachedSegment is one segment of a cacheView.
type cachedSegment struct {
	base, end uint64 // offsets [base, end) are in it; end is MaxUint64 for the active one
	recs      []recPos
	frames    []frameInfo
	mem       []byte
}

// publishCacheLocked publishes a new cache view after the set of cached
// segments, their tables or their copies changed. Call with l.mu held for
// writing, before the records the change concerns become visible.
func (l *Log) publishCacheLocked() {
	if l.opts.ReadCache == 0 {
		return
	}
	gen := l.cacheGen.Add(1)
	if l.closed.Load() {
		l.cache.Store(nil)
		return
	}
	v := &cacheView{gen: gen}
	for i, s := range l.segs {
		if s.mem == nil {
			continue
		}
		end := s.next
		if i == len(l.segs)-1 {
			end = math.MaxUint64
		}
		d := s.dense
		v.segs = append(v.segs, cachedSegment{
			base: s.base, end: end,
			recs: d.recs[:cap(d.recs)], frames: d.frames[:cap(d.frames)], mem: s.mem[:cap(s.mem)],
		})
	}
	l.cache.Store(v)
}

// readCached returns the data (copied to dst[:0]) and time of the record at
// offset from the read cache without locking, or ok false when the current view
// does not hold it or went stale during the read; the caller then takes
// the locked path, which also reports every error. Cost: a few atomic
// loads (plain loads on amd64 and arm64), the search of at most
// ReadCache+1 segments, one copy. It returns the parts of a Record rather
// than one: a Record passed back through two calls was reloaded by the
// caller in a way store forwarding cannot serve (measured: 45-53 ns per
// Read instead of 37 at 1k records).
func (l *Log) readCached(dst []byte, offset uint64) (data []byte, t int64, ok bool) {
	v := l.cache.Load()
	if v == nil || offset >= l.visible.Load() || offset < l.first.Load() {
		return nil, 0, false
	}
	for i := len(v.segs) - 1; i >= 0; i-- {
		cs := &v.segs[i]
		if offset < cs.base {
			continue
		}
		if offset >= cs.end || offset-cs.base >= uint64(len(cs.recs)) {
			return nil, 0, false
		}
		r := cs.recs[offset-cs.base]
		end := uint64(r.data) + uint64(r.size)
		if end > uint64(len(cs.mem)) {
			return nil, 0, false
		}
		switch {
		case r.frame == single && r.data >= frameHeaderSize:
			t = int64(binary.LittleEndian.Uint64(cs.mem[r.head()+16:]))
		case uint64(r.frame) < uint64(len(cs.frames)):
			t = cs.frames[r.frame].time
		default:
			return nil, 0, false
		}
		data = copyInto(dst, cs.mem[r.data:end])
		return data, t, l.cacheGen.Load() == v.gen
	}
	return nil, 0, false
}
