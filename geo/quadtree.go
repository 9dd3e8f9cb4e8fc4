package geo

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
)

// QuadtreeConfig configures a Quadtree. The zero value is ready to use.
type QuadtreeConfig struct {
	// LeafSize is the number of points a leaf holds before it splits into four. 0 means 100,
	// the design's figure; valid range 1..65536.
	LeafSize int
	// MaxDepth bounds the depth of the tree so that many points at one spot cannot split it
	// forever; a leaf at MaxDepth grows past LeafSize. 0 means 40 (cells of ~0.02 mm);
	// valid range 1..60.
	MaxDepth int
}

// Quadtree is an adaptive proximity index: the whole sphere in latitude/longitude
// ([-90, 90] x [-180, 180]) is a root cell, and a leaf that holds more than LeafSize points
// splits into four quadrants, so cells are small where points are dense (cities) and large
// where they are sparse. Radius descends into the cells that meet the query's padded bounding
// box (split in two across the antimeridian, all longitudes at a pole); Nearest is a best-first
// search ordered by the exact spherical distance from the centre to each cell
// (a haversine lower bound for the cell), not by planar degrees. A subtree that shrinks to
// LeafSize/2 points is merged back into a leaf. Each leaf keeps its points sorted by latitude
// so that a query scans only the latitude band it needs, and the index remembers each point's
// leaf so that a short move is an in-leaf update.
//
// A Quadtree is safe for concurrent use: queries run in parallel, a write excludes all other
// calls. The zero value is not usable; call NewQuadtree.
type Quadtree struct {
	mu       sync.RWMutex
	root     qnode
	pos      map[uint64]qref
	leafSize int
	maxDepth int
}

var _ Index = (*Quadtree)(nil)

type qentry struct {
	id uint64
	p  Point
}

// qref locates a point: its position and the leaf holding it, so that a move within the same
// leaf (the common case for nearby-friends updates) touches neither the tree nor the counts.
type qref struct {
	p    Point
	leaf *qnode
}

// qnode is a cell [minLat, maxLat] x [minLng, maxLng]: a leaf (kids == nil) with its points, or
// an inner node with four children indexed by (north<<1 | east). A point on a dividing line
// goes north / east, so each point has exactly one leaf (see owns). Nodes never move in
// memory (children are allocated as one array), so leaf pointers stay valid until a split or
// merge, which updates them.
type qnode struct {
	minLat, maxLat, minLng, maxLng float64
	parent                         *qnode
	kids                           *[4]qnode
	pts                            []qentry
	n                              int // points in the subtree
	depth                          int
}

// NewQuadtree returns an empty quadtree.
func NewQuadtree(cfg QuadtreeConfig) (*Quadtree, error) {
	leaf, depth := cfg.LeafSize, cfg.MaxDepth
	if leaf == 0 {
		leaf = 100
	}
	if depth == 0 {
		depth = 40
	}
	if leaf < 1 || leaf > 65536 {
		return nil, fmt.Errorf("%w: QuadtreeConfig.LeafSize %d not in 1..65536", ErrInvalidConfig, cfg.LeafSize)
	}
	if depth < 1 || depth > 60 {
		return nil, fmt.Errorf("%w: QuadtreeConfig.MaxDepth %d not in 1..60", ErrInvalidConfig, cfg.MaxDepth)
	}
	return &Quadtree{
		root:     qnode{minLat: -90, maxLat: 90, minLng: -180, maxLng: 180},
		pos:      make(map[uint64]qref),
		leafSize: leaf,
		maxDepth: depth,
	}, nil
}

// Set inserts id at p or moves it there. Cost O(LeafSize) for a move within the same leaf,
// O(depth + LeafSize) otherwise. Invalid p returns ErrInvalidPoint and changes nothing.
func (q *Quadtree) Set(id uint64, p Point) error {
	if err := checkPoint(p); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if old, ok := q.pos[id]; ok {
		if l := old.leaf; l.owns(p) {
			l.move(l.find(id, old.p), p)
			q.pos[id] = qref{p: p, leaf: l}
			return nil
		}
		q.remove(old.leaf, id, old.p)
	}
	q.insert(&q.root, qentry{id: id, p: p})
	return nil
}

// Remove deletes id and reports whether it was present. Cost O(depth + LeafSize).
func (q *Quadtree) Remove(id uint64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	old, ok := q.pos[id]
	if !ok {
		return false
	}
	q.remove(old.leaf, id, old.p)
	delete(q.pos, id)
	return true
}

// Get returns the position of id. Cost O(1).
func (q *Quadtree) Get(id uint64) (Point, bool) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	r, ok := q.pos[id]
	return r.p, ok
}

// Len returns the number of points.
func (q *Quadtree) Len() int {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return len(q.pos)
}

func (n *qnode) child(p Point) *qnode {
	i := 0
	if p.Lat >= (n.minLat+n.maxLat)/2 {
		i = 2
	}
	if p.Lng >= (n.minLng+n.maxLng)/2 {
		i |= 1
	}
	return &n.kids[i]
}

// owns reports whether descending from the root by child would reach n: the cell is
// half-open towards north and east except at the edges of the world.
func (n *qnode) owns(p Point) bool {
	return p.Lat >= n.minLat && (p.Lat < n.maxLat || n.maxLat == 90) &&
		p.Lng >= n.minLng && (p.Lng < n.maxLng || n.maxLng == 180)
}

// search returns the index of the first point in leaf n with latitude >= lat (leaves are sorted
// by latitude, so a query scans only the band it needs).
func (n *qnode) search(lat float64) int {
	i, j := 0, len(n.pts)
	for i < j {
		h := int(uint(i+j) >> 1)
		if n.pts[h].p.Lat < lat {
			i = h + 1
		} else {
			j = h
		}
	}
	return i
}

// find returns the index of id, known to be in leaf n at p.
func (n *qnode) find(id uint64, p Point) int {
	for i := n.search(p.Lat); i < len(n.pts); i++ {
		if n.pts[i].id == id {
			return i
		}
	}
	panic("geo: quadtree leaf lost a point") // unreachable: pos and the tree agree
}

// move sets the position of point i of leaf n to p and restores the latitude order by
// shifting it past its new neighbours: a short move crosses few of them.
func (n *qnode) move(i int, p Point) {
	pts := n.pts
	pts[i].p = p
	for ; i > 0 && pts[i-1].p.Lat > p.Lat; i-- {
		pts[i-1], pts[i] = pts[i], pts[i-1]
	}
	for ; i+1 < len(pts) && pts[i+1].p.Lat < p.Lat; i++ {
		pts[i+1], pts[i] = pts[i], pts[i+1]
	}
}

// add inserts e into leaf n, keeping the latitude order.
func (n *qnode) add(e qentry) {
	n.pts = slices.Insert(n.pts, n.search(e.p.Lat), e)
}

func (q *Quadtree) insert(n *qnode, e qentry) {
	for n.kids != nil {
		n.n++
		n = n.child(e.p)
	}
	n.n++
	n.add(e)
	q.pos[e.id] = qref{p: e.p, leaf: n}
	if len(n.pts) > q.leafSize && n.depth < q.maxDepth {
		q.split(n)
	}
}

func (q *Quadtree) split(n *qnode) {
	midLat, midLng := (n.minLat+n.maxLat)/2, (n.minLng+n.maxLng)/2
	d := n.depth + 1
	n.kids = &[4]qnode{
		{minLat: n.minLat, maxLat: midLat, minLng: n.minLng, maxLng: midLng, parent: n, depth: d},
		{minLat: n.minLat, maxLat: midLat, minLng: midLng, maxLng: n.maxLng, parent: n, depth: d},
		{minLat: midLat, maxLat: n.maxLat, minLng: n.minLng, maxLng: midLng, parent: n, depth: d},
		{minLat: midLat, maxLat: n.maxLat, minLng: midLng, maxLng: n.maxLng, parent: n, depth: d},
	}
	pts := n.pts
	n.pts, n.n = nil, 0
	for _, e := range pts {
		q.insert(n, e)
	}
}

// remove deletes id from leaf, updates the counts up to the root and merges the highest
// subtree that fell to LeafSize/2 points back into one leaf.
func (q *Quadtree) remove(leaf *qnode, id uint64, p Point) {
	i := leaf.find(id, p)
	leaf.pts = slices.Delete(leaf.pts, i, i+1)
	var merge *qnode
	for n := leaf; n != nil; n = n.parent {
		n.n--
		if n.kids != nil && n.n <= q.leafSize/2 {
			merge = n
		}
	}
	if merge != nil {
		merge.pts = merge.collect(make([]qentry, 0, q.leafSize))
		slices.SortFunc(merge.pts, func(a, b qentry) int { return cmp.Compare(a.p.Lat, b.p.Lat) })
		merge.kids = nil
		for _, e := range merge.pts {
			q.pos[e.id] = qref{p: e.p, leaf: merge}
		}
	}
}

func (n *qnode) collect(dst []qentry) []qentry {
	if n.kids == nil {
		return append(dst, n.pts...)
	}
	for i := range n.kids {
		dst = n.kids[i].collect(dst)
	}
	return dst
}

// Radius appends every point within meters of center, sorted by distance then ID; limit > 0
// keeps the first limit. Cost O(cells visited + points in them).
func (q *Quadtree) Radius(center Point, meters float64, limit int, dst []Result) ([]Result, error) {
	if err := checkRadiusQuery(center, meters); err != nil {
		return dst, err
	}
	pre := capRegion(center, meters)
	base := len(dst)
	q.mu.RLock()
	dst = q.root.radius(&pre, center, meters, dst)
	q.mu.RUnlock()
	return finishRadius(dst, base, limit), nil
}

func (n *qnode) radius(pre *region, c Point, meters float64, dst []Result) []Result {
	if !pre.intersects(n.minLat, n.maxLat, n.minLng, n.maxLng) {
		return dst
	}
	if n.kids != nil {
		for i := range n.kids {
			dst = n.kids[i].radius(pre, c, meters, dst)
		}
		return dst
	}
	for _, e := range n.pts[n.search(pre.latLo):] {
		if e.p.Lat > pre.latHi {
			break
		}
		if pre.containsLng(e.p.Lng) {
			if d := Distance(c, e.p); d <= meters {
				dst = append(dst, Result{ID: e.id, Point: e.p, Distance: d})
			}
		}
	}
	return dst
}

// Box appends the points in the box [min, max] (see Index.Box), sorted by ID.
func (q *Quadtree) Box(min, max Point, dst []Result) ([]Result, error) {
	if err := checkBox(min, max); err != nil {
		return dst, err
	}
	exact, pre := boxRegion(min, max, 0), boxRegion(min, max, degEps)
	base := len(dst)
	q.mu.RLock()
	dst = q.root.box(&pre, &exact, dst)
	q.mu.RUnlock()
	return finishBox(dst, base), nil
}

func (n *qnode) box(pre, exact *region, dst []Result) []Result {
	if !pre.intersects(n.minLat, n.maxLat, n.minLng, n.maxLng) {
		return dst
	}
	if n.kids != nil {
		for i := range n.kids {
			dst = n.kids[i].box(pre, exact, dst)
		}
		return dst
	}
	for _, e := range n.pts[n.search(exact.latLo):] {
		if e.p.Lat > exact.latHi {
			break
		}
		if exact.containsLng(e.p.Lng) {
			dst = append(dst, Result{ID: e.id, Point: e.p})
		}
	}
	return dst
}

// Nearest appends the k points nearest to center, sorted by distance then ID. k <= 0 returns
// ErrInvalidK. Cost roughly O((k/LeafSize + depth)·log) cells and their points.
func (q *Quadtree) Nearest(center Point, k int, dst []Result) ([]Result, error) {
	if err := checkNearest(center, k); err != nil {
		return dst, err
	}
	t := newTarget(center)
	base := len(dst)
	top := topK{rs: dst[base:base], k: k}
	var fr frontier[*qnode]
	q.mu.RLock()
	defer q.mu.RUnlock()
	fr.push(0, &q.root)
	for len(fr) > 0 {
		e := fr.pop()
		if top.full() && e.lb > top.worst() {
			break
		}
		n := e.v
		if n.kids == nil {
			for _, pe := range n.pts {
				top.offer(Result{ID: pe.id, Point: pe.p, Distance: Distance(center, pe.p)})
			}
			continue
		}
		for i := range n.kids {
			ch := &n.kids[i]
			if ch.n == 0 {
				continue
			}
			lb := rectLowerBound(&t, ch.minLat, ch.maxLat, ch.minLng, ch.maxLng)
			if !top.full() || lb <= top.worst() {
				fr.push(lb, ch)
			}
		}
	}
	return append(dst[:base], top.sorted()...), nil
}
