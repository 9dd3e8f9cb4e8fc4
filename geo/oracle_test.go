package geo

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// model is the brute-force oracle: a map scanned in full for every query.
type model map[uint64]Point

func (m model) radius(c Point, meters float64, limit int) []Result {
	var rs []Result
	for id, p := range m {
		if d := Distance(c, p); d <= meters {
			rs = append(rs, Result{ID: id, Point: p, Distance: d})
		}
	}
	slices.SortFunc(rs, func(a, b Result) int {
		if c := cmp.Compare(a.Distance, b.Distance); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if limit > 0 && len(rs) > limit {
		rs = rs[:limit]
	}
	return rs
}

func (m model) nearest(c Point, k int) []Result {
	return m.radius(c, math.Inf(1), k)
}

// inBox is the box rule written independently of region: inclusive edges, longitudes
// [min, 180] ∪ [-180, max] when min.Lng > max.Lng, and -180 ≡ 180.
func inBox(sw, ne, p Point) bool {
	if p.Lat < sw.Lat || p.Lat > ne.Lat {
		return false
	}
	in := func(x float64) bool {
		if sw.Lng <= ne.Lng {
			return sw.Lng <= x && x <= ne.Lng
		}
		return x >= sw.Lng || x <= ne.Lng
	}
	return in(p.Lng) || (p.Lng == -180 && in(180)) || (p.Lng == 180 && in(-180))
}

func (m model) box(sw, ne Point) []Result {
	var rs []Result
	for id, p := range m {
		if inBox(sw, ne, p) {
			rs = append(rs, Result{ID: id, Point: p})
		}
	}
	slices.SortFunc(rs, func(a, b Result) int { return cmp.Compare(a.ID, b.ID) })
	return rs
}

// diffResults returns "" when got equals want exactly, else a description of the first
// difference.
func diffResults(got, want []Result) string {
	for i := 0; i < len(got) || i < len(want); i++ {
		switch {
		case i >= len(got):
			return fmt.Sprintf("missing result %d: %+v (got %d, want %d results)", i, want[i], len(got), len(want))
		case i >= len(want):
			return fmt.Sprintf("extra result %d: %+v (got %d, want %d results)", i, got[i], len(got), len(want))
		case got[i] != want[i]:
			return fmt.Sprintf("result %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	return ""
}

// A gen draws points and queries from one of several distributions.
type gen struct {
	r      *rand.Rand
	cities []Point
}

func newGen(seed uint64) *gen {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	for range 12 {
		g.cities = append(g.cities, g.uniform())
	}
	// Cities next to the hard places.
	g.cities = append(g.cities, Point{89.9, 10}, Point{-89.95, -170}, Point{10, 179.99}, Point{-5, -179.995})
	return g
}

func (g *gen) uniform() Point {
	return Point{Lat: math.Asin(2*g.r.Float64()-1) / degToRad, Lng: g.r.Float64()*360 - 180}
}

func clampPoint(lat, lng float64) Point {
	lat = min(max(lat, -90), 90)
	for lng > 180 {
		lng -= 360
	}
	for lng < -180 {
		lng += 360
	}
	return Point{lat, lng}
}

// city draws a point within a few kilometres to tens of kilometres of a city centre.
func (g *gen) city() Point {
	c := g.cities[g.r.IntN(len(g.cities))]
	sigma := []float64{500, 5000, 30000}[g.r.IntN(3)] / EarthRadius / degToRad
	lat := c.Lat + g.r.NormFloat64()*sigma
	return clampPoint(lat, c.Lng+g.r.NormFloat64()*sigma/max(math.Cos(lat*degToRad), 0.01))
}

func (g *gen) pole() Point {
	lat := 90 - g.r.ExpFloat64()*0.3
	if g.r.IntN(8) == 0 {
		lat = 90
	}
	if g.r.IntN(2) == 0 {
		lat = -lat
	}
	return clampPoint(lat, g.r.Float64()*360-180)
}

func (g *gen) antimeridian() Point {
	lng := 180 - g.r.ExpFloat64()*0.2
	switch g.r.IntN(8) {
	case 0:
		lng = 180
	case 1:
		lng = -180
	}
	if g.r.IntN(2) == 0 {
		lng = -lng
	}
	return clampPoint(g.r.Float64()*160-80, lng)
}

// grid draws a point on geohash / quadtree cell boundaries (multiples of 45/2^m degrees).
func (g *gen) grid() Point {
	step := 45 / float64(uint64(1)<<g.r.IntN(20))
	return clampPoint(math.Round((g.r.Float64()*180-90)/step)*step, math.Round((g.r.Float64()*360-180)/step)*step)
}

func (g *gen) point() Point {
	switch g.r.IntN(10) {
	case 0, 1:
		return g.uniform()
	case 2, 3, 4, 5:
		return g.city()
	case 6:
		return g.pole()
	case 7:
		return g.antimeridian()
	default:
		return g.grid()
	}
}

// radius draws metres log-uniformly from 1 m to 5,000 km, with the special values mixed in.
func (g *gen) radius() float64 {
	switch g.r.IntN(20) {
	case 0:
		return 0
	case 1:
		return math.Pi * EarthRadius // half the circumference: everything
	case 2:
		return 3 * math.Pi * EarthRadius // beyond
	}
	return math.Exp(g.r.Float64() * math.Log(5e6))
}
