package geo

import (
	"math"
	"sync"

	"github.com/golang/geo/s2"
	"github.com/google/btree"
)

// item is one point in an ordered store: its cell key (a 64-bit geohash or a leaf s2.CellID),
// its ID (the tie-breaker that makes equal keys distinct) and its exact position.
type item struct {
	key, id uint64
	p       Point
}

func itemLess(a, b item) bool {
	if a.key != b.key {
		return a.key < b.key
	}
	return a.id < b.id
}

// cellRef names a cell of a hierarchical key space: all keys in keyRange(c).
type cellRef struct {
	key   uint64
	level uint8
}

// target is a query centre in the forms the lower-bound functions need.
type target struct {
	p      Point
	cosLat float64
	pt     s2.Point
}

func newTarget(p Point) target {
	return target{p: p, cosLat: max(0, math.Cos(p.Lat*degToRad)), pt: s2.PointFromLatLng(s2.LatLngFromDegrees(p.Lat, p.Lng))}
}

// cellSpace is a hierarchy of cells whose key ranges nest: the geohash bit-prefix tree or the
// S2 cell tree. It drives the best-first nearest-neighbour search.
type cellSpace interface {
	roots(dst []cellRef) []cellRef
	// children returns the sub-cells of c, or none at the finest level.
	children(c cellRef, dst []cellRef) []cellRef
	// keyRange returns the inclusive key range of c.
	keyRange(c cellRef) (lo, hi uint64)
	// lowerBound returns metres that no point in c is closer than (a padded exact bound).
	lowerBound(c cellRef, t *target) float64
}

// leafScan is the cell population below which the nearest-neighbour search stops subdividing
// and measures every point.
const leafScan = 32

// store is the ordered structure shared by GeohashIndex and S2Index: a B-tree of items by
// (key, id) plus a map from ID to position. Writers hold mu exclusively, readers shared.
type store struct {
	mu    sync.RWMutex
	tree  *btree.BTreeG[item]
	pos   map[uint64]Point
	key   func(Point) uint64
	space cellSpace
}

func newStore(key func(Point) uint64, space cellSpace) store {
	return store{
		tree:  btree.NewG(32, itemLess),
		pos:   make(map[uint64]Point),
		key:   key,
		space: space,
	}
}

func (s *store) set(id uint64, p Point) error {
	if err := checkPoint(p); err != nil {
		return err
	}
	k := s.key(p)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.pos[id]; ok {
		s.tree.Delete(item{key: s.key(old), id: id})
	}
	s.tree.ReplaceOrInsert(item{key: k, id: id, p: p})
	s.pos[id] = p
	return nil
}

func (s *store) remove(id uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.pos[id]
	if !ok {
		return false
	}
	s.tree.Delete(item{key: s.key(old), id: id})
	delete(s.pos, id)
	return true
}

func (s *store) get(id uint64) (Point, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.pos[id]
	return p, ok
}

func (s *store) len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.pos)
}

// scan calls fn for the items with lo <= key <= hi in order until fn returns false.
// The caller holds mu.
func (s *store) scan(lo, hi uint64, fn func(item) bool) {
	s.tree.AscendGreaterOrEqual(item{key: lo}, func(it item) bool {
		return it.key <= hi && fn(it)
	})
}

// radius appends the points of the given (disjoint) cells that lie within meters of c.
// pre is a conservative region that rejects most candidates before the haversine.
func (s *store) radius(cells []cellRef, c Point, meters float64, pre *region, limit int, dst []Result) []Result {
	base := len(dst)
	s.mu.RLock()
	for _, cell := range cells {
		lo, hi := s.space.keyRange(cell)
		s.scan(lo, hi, func(it item) bool {
			if pre.contains(it.p) {
				if d := Distance(c, it.p); d <= meters {
					dst = append(dst, Result{ID: it.id, Point: it.p, Distance: d})
				}
			}
			return true
		})
	}
	s.mu.RUnlock()
	return finishRadius(dst, base, limit)
}

// box appends the points of the given (disjoint) cells that lie inside the exact region.
func (s *store) box(cells []cellRef, exact *region, dst []Result) []Result {
	base := len(dst)
	s.mu.RLock()
	for _, cell := range cells {
		lo, hi := s.space.keyRange(cell)
		s.scan(lo, hi, func(it item) bool {
			if exact.contains(it.p) {
				dst = append(dst, Result{ID: it.id, Point: it.p})
			}
			return true
		})
	}
	s.mu.RUnlock()
	return finishBox(dst, base)
}

// nearest is a best-first search over the cell hierarchy: cells leave the frontier in order of
// their lower bound, a cell holding more than leafScan points is split, a smaller one is
// measured point by point, and the search stops when the next lower bound exceeds the k-th
// best distance found. Every point that could tie or beat the k-th is measured, so the result
// is exact under Distance.
func (s *store) nearest(c Point, k int, dst []Result) []Result {
	t := newTarget(c)
	base := len(dst)
	top := topK{rs: dst[base:base], k: k}
	var (
		fr      frontier[cellRef]
		kidsBuf [6]cellRef
		scratch = make([]item, 0, leafScan+1)
	)
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, r := range s.space.roots(kidsBuf[:0]) {
		fr.push(s.space.lowerBound(r, &t), r)
	}
	offer := func(it item) bool {
		top.offer(Result{ID: it.id, Point: it.p, Distance: Distance(c, it.p)})
		return true
	}
	for len(fr) > 0 {
		e := fr.pop()
		if top.full() && e.lb > top.worst() {
			break
		}
		lo, hi := s.space.keyRange(e.v)
		scratch = scratch[:0]
		s.scan(lo, hi, func(it item) bool {
			scratch = append(scratch, it)
			return len(scratch) <= leafScan
		})
		if len(scratch) <= leafScan {
			for _, it := range scratch {
				offer(it)
			}
			continue
		}
		kids := s.space.children(e.v, kidsBuf[:0])
		if len(kids) == 0 { // finest level, many points on one spot
			s.scan(lo, hi, offer)
			continue
		}
		for _, ch := range kids {
			lb := s.space.lowerBound(ch, &t)
			if !top.full() || lb <= top.worst() {
				fr.push(lb, ch)
			}
		}
	}
	return append(dst[:base], top.sorted()...)
}
