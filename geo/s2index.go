package geo

import (
	"fmt"
	"math"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// S2Config configures an S2Index. The zero value is ready to use.
type S2Config struct {
	// MaxCells is the RegionCoverer's target number of cells covering a query cap or box.
	// More cells fit the query tighter (fewer points filtered) at the cost of more B-tree
	// seeks. 0 means 8; valid range 1..1000.
	MaxCells int
}

// S2Index is a proximity index on the S2 cell hierarchy (github.com/golang/geo/s2): each
// point is stored under its leaf CellID (CellIDFromLatLng) in a B-tree, so every S2 cell is one
// contiguous key range along the Hilbert curve. A Radius query covers the padded query Cap
// with a RegionCoverer and scans the covering's ranges; Nearest is a best-first search over
// the cell tree ordered by the exact cell-to-point distance (s2.Cell.Distance). The Go port of
// S2 has no point index or closest-point query of its own; this is that index.
//
// An S2Index is safe for concurrent use: queries run in parallel, a write excludes all other
// calls. The zero value is not usable; call NewS2.
type S2Index struct {
	s  store
	rc s2.RegionCoverer
}

var _ Index = (*S2Index)(nil)

// NewS2 returns an empty S2 index.
func NewS2(cfg S2Config) (*S2Index, error) {
	maxCells := cfg.MaxCells
	if maxCells == 0 {
		maxCells = 8
	}
	if maxCells < 1 || maxCells > 1000 {
		return nil, fmt.Errorf("%w: S2Config.MaxCells %d not in 1..1000", ErrInvalidConfig, cfg.MaxCells)
	}
	return &S2Index{
		s:  newStore(s2Key, s2Space{}),
		rc: s2.RegionCoverer{MinLevel: 0, MaxLevel: s2.MaxLevel, LevelMod: 1, MaxCells: maxCells},
	}, nil
}

// s2Key returns the leaf cell of p. A point is indexed by the one leaf that contains it, not
// by a covering (which can be two cells and would duplicate it).
func s2Key(p Point) uint64 {
	return uint64(s2.CellIDFromLatLng(s2.LatLngFromDegrees(p.Lat, p.Lng)))
}

// Set inserts id at p or moves it there. Cost O(log n). Invalid p returns ErrInvalidPoint and
// changes nothing.
func (x *S2Index) Set(id uint64, p Point) error { return x.s.set(id, p) }

// Remove deletes id and reports whether it was present. Cost O(log n).
func (x *S2Index) Remove(id uint64) bool { return x.s.remove(id) }

// Get returns the position of id. Cost O(1).
func (x *S2Index) Get(id uint64) (Point, bool) { return x.s.get(id) }

// Len returns the number of points.
func (x *S2Index) Len() int { return x.s.len() }

// Radius appends every point within meters of center, sorted by distance then ID; limit > 0
// keeps the first limit. Cost: one covering (MaxCells cells) plus O(log n + m) per cell.
func (x *S2Index) Radius(center Point, meters float64, limit int, dst []Result) ([]Result, error) {
	if err := checkRadiusQuery(center, meters); err != nil {
		return dst, err
	}
	pre := capRegion(center, meters)
	var cells []cellRef
	if a := paddedAngle(meters); a < math.Pi {
		c := s2.CapFromCenterAngle(s2.PointFromLatLng(s2.LatLngFromDegrees(center.Lat, center.Lng)), s1.Angle(a))
		cells = x.cover(c)
	} else {
		cells = s2Space{}.roots(nil)
	}
	return x.s.radius(cells, center, meters, &pre, limit, dst), nil
}

func (x *S2Index) cover(r s2.Region) []cellRef {
	cu := x.rc.Covering(r)
	cells := make([]cellRef, len(cu))
	for i, id := range cu {
		cells[i] = cellRef{key: uint64(id)}
	}
	return cells
}

// Nearest appends the k points nearest to center, sorted by distance then ID. k <= 0 returns
// ErrInvalidK. Cost roughly O((k + level)·log n).
func (x *S2Index) Nearest(center Point, k int, dst []Result) ([]Result, error) {
	if err := checkNearest(center, k); err != nil {
		return dst, err
	}
	return x.s.nearest(center, k, dst), nil
}

// Box appends the points in the box [min, max] (see Index.Box), sorted by ID. The scan covers
// the bounding cap of the box (as an s2.Rect, inverted across the antimeridian), not the Rect
// itself: s2.Rect.IntersectsCell in the Go port can reject a cell whose edge the rectangle's
// latitude edge crosses twice (found by TestDifferential: the box [44.5°, 77.9°] x
// [-130.2°, -75.6°] gets no face-4 cell although it dips below that face's top edge at 45°N,
// 90°W), and a missed cell would lose points. A cap covering is conservative; the exact filter
// then keeps only the points inside the box.
func (x *S2Index) Box(min, max Point, dst []Result) ([]Result, error) {
	if err := checkBox(min, max); err != nil {
		return dst, err
	}
	exact, pre := boxRegion(min, max, 0), boxRegion(min, max, degEps)
	bound := pre.s2Rect().CapBound()
	if a := bound.Radius().Radians() + padMeters/EarthRadius; a < math.Pi {
		bound = s2.CapFromCenterAngle(bound.Center(), s1.Angle(a))
	} else {
		bound = s2.FullCap()
	}
	return x.s.box(x.cover(bound), &exact, dst), nil
}

// s2Space is the S2 cell tree: six faces, four children per cell down to leaf level 30.
type s2Space struct{}

func (s2Space) roots(dst []cellRef) []cellRef {
	for f := 0; f < 6; f++ {
		dst = append(dst, cellRef{key: uint64(s2.CellIDFromFace(f))})
	}
	return dst
}

func (s2Space) children(c cellRef, dst []cellRef) []cellRef {
	id := s2.CellID(c.key)
	if id.IsLeaf() {
		return dst
	}
	for _, ch := range id.Children() {
		dst = append(dst, cellRef{key: uint64(ch)})
	}
	return dst
}

func (s2Space) keyRange(c cellRef) (lo, hi uint64) {
	id := s2.CellID(c.key)
	return uint64(id.RangeMin()), uint64(id.RangeMax())
}

func (s2Space) lowerBound(c cellRef, t *target) float64 {
	return lowerBoundMeters(s2.CellFromCellID(s2.CellID(c.key)).Distance(t.pt).Angle().Radians())
}
