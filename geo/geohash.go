package geo

import (
	"fmt"
	"math"
	"slices"

	"github.com/mmcloughlin/geohash"
)

// GeohashConfig configures a GeohashIndex. The zero value is ready to use.
type GeohashConfig struct {
	// MaxCells bounds how many geohash cells one Radius or Box query scans: a query uses the
	// finest precision (1 to 12 characters) at which its padded bounding box touches at most
	// MaxCells cells, or the whole world if none does. 0 means 9, a cell and its eight
	// neighbours as in the design; valid range 1..1024.
	MaxCells int
}

// GeohashIndex is a proximity index keyed by geohash: each point is stored under its 64-bit
// integer geohash (github.com/mmcloughlin/geohash) in a B-tree, so every geohash cell of any
// precision is one contiguous key range. A Radius query picks a precision from the radius,
// scans the cells its padded bounding box touches (the cell and its neighbours) and filters by
// Distance; Nearest is a best-first search over the geohash bit-prefix tree.
//
// The cell keys are exposed (Key, Cells, CellIDs) so a caller can maintain a Redis-style cache
// "geohash -> IDs" as the proximity-service design does.
//
// A GeohashIndex is safe for concurrent use: queries run in parallel, a write excludes all
// other calls. The zero value is not usable; call NewGeohash.
type GeohashIndex struct {
	s        store
	maxCells int
}

var _ Index = (*GeohashIndex)(nil)

// NewGeohash returns an empty geohash index.
func NewGeohash(cfg GeohashConfig) (*GeohashIndex, error) {
	maxCells := cfg.MaxCells
	if maxCells == 0 {
		maxCells = 9
	}
	if maxCells < 1 || maxCells > 1024 {
		return nil, fmt.Errorf("%w: GeohashConfig.MaxCells %d not in 1..1024", ErrInvalidConfig, cfg.MaxCells)
	}
	return &GeohashIndex{s: newStore(geohashKey, geohashSpace{}), maxCells: maxCells}, nil
}

// geohashKey returns the 64-bit geohash of p. mmcloughlin/geohash maps latitude 90 and
// longitude 180 past the top of its 32-bit ranges (an implementation-defined float-to-uint32
// conversion that lands at -90 / -180 on amd64), so latitude is clamped just below 90 and
// longitude 180 is folded onto -180, the same meridian. The shift is far below padMeters.
func geohashKey(p Point) uint64 {
	lat, lng := min(p.Lat, 90-degEps), p.Lng
	if lng > 180-degEps {
		lng = -180
	}
	return geohash.EncodeInt(lat, lng)
}

// Set inserts id at p or moves it there. Cost O(log n). Invalid p returns ErrInvalidPoint and
// changes nothing.
func (g *GeohashIndex) Set(id uint64, p Point) error { return g.s.set(id, p) }

// Remove deletes id and reports whether it was present. Cost O(log n).
func (g *GeohashIndex) Remove(id uint64) bool { return g.s.remove(id) }

// Get returns the position of id. Cost O(1).
func (g *GeohashIndex) Get(id uint64) (Point, bool) { return g.s.get(id) }

// Len returns the number of points.
func (g *GeohashIndex) Len() int { return g.s.len() }

// Radius appends every point within meters of center, sorted by distance then ID; limit > 0
// keeps the first limit. Cost O(MaxCells·log n + m) for m points in the scanned cells.
func (g *GeohashIndex) Radius(center Point, meters float64, limit int, dst []Result) ([]Result, error) {
	if err := checkRadiusQuery(center, meters); err != nil {
		return dst, err
	}
	var buf [16]cellRef
	pre, cells, _ := g.radiusCells(center, meters, buf[:0])
	return g.s.radius(cells, center, meters, &pre, limit, dst), nil
}

// radiusCells returns the padded bounding region of a Radius query and the cells covering it.
func (g *GeohashIndex) radiusCells(center Point, meters float64, buf []cellRef) (region, []cellRef, int) {
	pre := capRegion(center, meters)
	cells, chars := geohashCover(buf, &pre, g.maxCells)
	return pre, cells, chars
}

// Nearest appends the k points nearest to center, sorted by distance then ID. k <= 0 returns
// ErrInvalidK. Cost roughly O((k + depth)·log n).
func (g *GeohashIndex) Nearest(center Point, k int, dst []Result) ([]Result, error) {
	if err := checkNearest(center, k); err != nil {
		return dst, err
	}
	return g.s.nearest(center, k, dst), nil
}

// Box appends the points in the box [min, max] (see Index.Box), sorted by ID.
func (g *GeohashIndex) Box(min, max Point, dst []Result) ([]Result, error) {
	if err := checkBox(min, max); err != nil {
		return dst, err
	}
	exact, pre := boxRegion(min, max, 0), boxRegion(min, max, degEps)
	var buf [16]cellRef
	cells, _ := geohashCover(buf[:0], &pre, g.maxCells)
	return g.s.box(cells, &exact, dst), nil
}

// Key returns the geohash of p with chars characters (1..12), the cell key of the design's
// geohash cache.
func (g *GeohashIndex) Key(p Point, chars int) (string, error) {
	if err := checkPoint(p); err != nil {
		return "", err
	}
	if chars < 1 || chars > 12 {
		return "", fmt.Errorf("%w: precision %d not in 1..12", ErrInvalidKey, chars)
	}
	return geohash.ConvertIntToString(geohashKey(p)>>(64-5*chars), uint(chars)), nil
}

// Cells appends the keys of the geohash cells a Radius(center, meters) query scans: the cell of
// center and its neighbours at the precision chosen from the radius (all of the same length).
// Reading those keys from a "geohash -> IDs" cache and filtering by Distance gives the exact
// answer. An empty key stands for the whole world (radius too large for any precision).
func (g *GeohashIndex) Cells(center Point, meters float64, dst []string) ([]string, error) {
	if err := checkRadiusQuery(center, meters); err != nil {
		return dst, err
	}
	var buf [16]cellRef
	_, cells, chars := g.radiusCells(center, meters, buf[:0])
	for _, c := range cells {
		if chars == 0 {
			dst = append(dst, "")
			continue
		}
		dst = append(dst, geohash.ConvertIntToString(c.key, uint(chars)))
	}
	return dst, nil
}

// CellIDs appends, sorted, the IDs of the points whose geohash starts with key (0 to 12
// characters of the geohash alphabet; "" is the whole world): the value of the cache entry for
// key. Cost O(log n + m).
func (g *GeohashIndex) CellIDs(key string, dst []uint64) ([]uint64, error) {
	if len(key) > 12 || geohash.Validate(key) != nil {
		return dst, fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	h, bits := geohash.ConvertStringToInt(key)
	lo, hi := geohashSpace{}.keyRange(cellRef{key: h, level: uint8(bits)})
	base := len(dst)
	g.s.mu.RLock()
	g.s.scan(lo, hi, func(it item) bool {
		dst = append(dst, it.id)
		return true
	})
	g.s.mu.RUnlock()
	slices.Sort(dst[base:])
	return dst, nil
}

// geohashCover appends the cells covering r at the finest precision (in characters) where they
// number at most maxCells, and returns that precision; 0 means the whole world. Cells are
// enumerated by row and column, so each appears once even where small precisions make the
// eight neighbours repeat, and rows beyond a pole are never produced.
func geohashCover(dst []cellRef, r *region, maxCells int) ([]cellRef, int) {
	for chars := 12; chars >= 1; chars-- {
		bits := 5 * chars
		latBits := bits / 2
		nLat, nLng := 1<<latBits, 1<<(bits-latBits)
		h, w := 180/float64(nLat), 360/float64(nLng)
		i0 := clampIndex((r.latLo+90)/h, nLat)
		i1 := clampIndex((r.latHi+90)/h, nLat)
		j0, cols := 0, nLng
		if !r.allLng {
			j0 = int(math.Floor((r.lngLo + 180) / w))
			cols = min(int(math.Floor((r.lngHi+180)/w))-j0+1, nLng)
		}
		if int64(i1-i0+1)*int64(cols) > int64(maxCells) { // int64: the product overflows a 32-bit int
			continue
		}
		for i := i0; i <= i1; i++ {
			lat := -90 + (float64(i)+0.5)*h
			for j := 0; j < cols; j++ {
				col := ((j0+j)%nLng + nLng) % nLng
				lng := -180 + (float64(col)+0.5)*w
				dst = append(dst, cellRef{key: geohash.EncodeIntWithPrecision(lat, lng, uint(bits)), level: uint8(bits)})
			}
		}
		return dst, chars
	}
	return append(dst, cellRef{}), 0
}

func clampIndex(x float64, n int) int {
	return int(min(max(math.Floor(x), 0), float64(n-1)))
}

// geohashSpace is the binary prefix tree of 64-bit geohashes: a cell is a prefix of level
// bits, alternately halving longitude and latitude.
type geohashSpace struct{}

func (geohashSpace) roots(dst []cellRef) []cellRef { return append(dst, cellRef{}) }

func (geohashSpace) children(c cellRef, dst []cellRef) []cellRef {
	if c.level >= 64 {
		return dst
	}
	step := min(2, 64-int(c.level))
	for i := uint64(0); i < 1<<step; i++ {
		dst = append(dst, cellRef{key: c.key<<step | i, level: c.level + uint8(step)})
	}
	return dst
}

func (geohashSpace) keyRange(c cellRef) (lo, hi uint64) {
	if c.level == 0 {
		return 0, math.MaxUint64
	}
	shift := 64 - uint(c.level)
	lo = c.key << shift
	return lo, lo | (1<<shift - 1)
}

func (geohashSpace) lowerBound(c cellRef, t *target) float64 {
	if c.level == 0 {
		return 0
	}
	b := geohash.BoundingBoxIntWithPrecision(c.key, uint(c.level))
	return rectLowerBound(t, b.MinLat, b.MaxLat, b.MinLng, b.MaxLng)
}

func checkNearest(center Point, k int) error {
	if err := checkPoint(center); err != nil {
		return err
	}
	if k <= 0 {
		return fmt.Errorf("%w: %d", ErrInvalidK, k)
	}
	return nil
}

func checkBox(min, max Point) error {
	if err := checkPoint(min); err != nil {
		return fmt.Errorf("box south-west corner: %w", err)
	}
	if err := checkPoint(max); err != nil {
		return fmt.Errorf("box north-east corner: %w", err)
	}
	if min.Lat > max.Lat {
		return fmt.Errorf("%w: south latitude %v above north latitude %v", ErrInvalidBox, min.Lat, max.Lat)
	}
	return nil
}
