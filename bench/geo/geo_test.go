// Package geobench compares the sysblocks geo indexes with github.com/tidwall/rtree v1.10.0 on
// the same workload: 1M points clustered in cities (100k under -short), moves of ~50 m,
// Radius at 500 m / 5 km / 50 km and Nearest k=10, all answers exact under geo.Distance and
// sorted by distance. Run TestRatios with SYSBLOCKS_GEO_RATIOS=1 for a ratio table.
package geobench

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
	"github.com/sysblocks/sysblocks/geo"
	"github.com/tidwall/rtree"
)

const degToRad = math.Pi / 180

// rtreeIndex is tidwall/rtree used as a proximity index: points as degenerate rectangles in
// (lng, lat) degrees, a map for the old position of a moved point, Radius as a box search on
// the cap's bounding rectangle (two boxes across the antimeridian) filtered by geo.Distance,
// Nearest as Nearby with geo.Distance for items and a haversine lower bound for nodes.
type rtreeIndex struct {
	tr  rtree.RTreeG[uint64]
	pos map[uint64]geo.Point
}

func newRtree() *rtreeIndex { return &rtreeIndex{pos: make(map[uint64]geo.Point)} }

func (r *rtreeIndex) Set(id uint64, p geo.Point) {
	if old, ok := r.pos[id]; ok {
		o := [2]float64{old.Lng, old.Lat}
		r.tr.Delete(o, o, id)
	}
	q := [2]float64{p.Lng, p.Lat}
	r.tr.Insert(q, q, id)
	r.pos[id] = p
}

func (r *rtreeIndex) Radius(c geo.Point, meters float64, dst []geo.Result) []geo.Result {
	base := len(dst)
	collect := func(min, _ [2]float64, id uint64) bool {
		p := geo.Point{Lat: min[1], Lng: min[0]}
		if d := geo.Distance(c, p); d <= meters {
			dst = append(dst, geo.Result{ID: id, Point: p, Distance: d})
		}
		return true
	}
	a := (meters + 1) / geo.EarthRadius
	if a >= math.Pi {
		r.tr.Scan(collect)
	} else {
		rb := s2.CapFromCenterAngle(s2.PointFromLatLng(s2.LatLngFromDegrees(c.Lat, c.Lng)), s1.Angle(a)).RectBound()
		latLo, latHi := rb.Lat.Lo/degToRad, rb.Lat.Hi/degToRad
		lo, hi := rb.Lng.Lo/degToRad, rb.Lng.Hi/degToRad
		if rb.Lng.IsFull() {
			lo, hi = -180, 180
		}
		if lo <= hi {
			r.tr.Search([2]float64{lo, latLo}, [2]float64{hi, latHi}, collect)
		} else {
			r.tr.Search([2]float64{lo, latLo}, [2]float64{180, latHi}, collect)
			r.tr.Search([2]float64{-180, latLo}, [2]float64{hi, latHi}, collect)
		}
	}
	slices.SortFunc(dst[base:], byDistance)
	return dst
}

func (r *rtreeIndex) Nearest(c geo.Point, k int, dst []geo.Result) []geo.Result {
	cosLat := math.Cos(c.Lat * degToRad)
	r.tr.Nearby(
		func(min, max [2]float64, _ uint64, item bool) float64 {
			if item {
				return geo.Distance(c, geo.Point{Lat: min[1], Lng: min[0]})
			}
			return boxLowerBound(c, cosLat, min, max)
		},
		func(min, _ [2]float64, id uint64, d float64) bool {
			dst = append(dst, geo.Result{ID: id, Point: geo.Point{Lat: min[1], Lng: min[0]}, Distance: d})
			return len(dst) < k
		},
	)
	return dst
}

// boxLowerBound is a haversine lower bound in metres from c to a (lng, lat) box: the smallest
// latitude gap, the smallest longitude gap and the smallest cosine of a latitude in the box.
func boxLowerBound(c geo.Point, cosLat float64, min, max [2]float64) float64 {
	dLat := math.Max(0, math.Max(min[1]-c.Lat, c.Lat-max[1]))
	dLng := 0.0
	if c.Lng < min[0] || c.Lng > max[0] {
		dLng = math.Min(gap(c.Lng, min[0]), gap(c.Lng, max[0]))
	}
	if dLat == 0 && dLng == 0 {
		return 0
	}
	sLat, sLng := math.Sin(dLat*degToRad/2), math.Sin(dLng*degToRad/2)
	cosMin := math.Max(0, math.Min(math.Cos(min[1]*degToRad), math.Cos(max[1]*degToRad)))
	h := sLat*sLat + cosLat*cosMin*sLng*sLng
	return math.Max(0, 2*geo.EarthRadius*math.Asin(math.Sqrt(math.Min(h, 1)))-1)
}

func gap(a, b float64) float64 {
	d := math.Abs(a - b)
	if d > 180 {
		d = 360 - d
	}
	return d
}

func byDistance(a, b geo.Result) int {
	if c := cmp.Compare(a.Distance, b.Distance); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// Workload: 500 city centres, points normally distributed around them (σ = 10 km), query
// centres from the same distribution — the same generator as geo's own benchmarks.

type cityGen struct {
	r      *rand.Rand
	cities []geo.Point
}

func newCityGen(seed uint64) *cityGen {
	g := &cityGen{r: rand.New(rand.NewPCG(1, 1))}
	for range 500 {
		g.cities = append(g.cities, geo.Point{Lat: g.r.Float64()*120 - 55, Lng: g.r.Float64()*360 - 180})
	}
	g.r = rand.New(rand.NewPCG(seed, seed))
	return g
}

func (g *cityGen) next() geo.Point {
	c := g.cities[g.r.IntN(len(g.cities))]
	sigma := 10e3 / geo.EarthRadius / degToRad
	lat := math.Min(math.Max(c.Lat+g.r.NormFloat64()*sigma, -90), 90)
	lng := c.Lng + g.r.NormFloat64()*sigma/math.Cos(lat*degToRad)
	return geo.Point{Lat: lat, Lng: math.Mod(lng+540, 360) - 180}
}

func points(n int, seed uint64) []geo.Point {
	g := newCityGen(seed)
	pts := make([]geo.Point, n)
	for i := range pts {
		pts[i] = g.next()
	}
	return pts
}

func benchN() int {
	if testing.Short() {
		return 100_000
	}
	return 1_000_000
}

// impl is one contestant with the operations the benchmarks need.
type impl struct {
	name    string
	set     func(id uint64, p geo.Point)
	radius  func(c geo.Point, m float64, dst []geo.Result) []geo.Result
	nearest func(c geo.Point, k int, dst []geo.Result) []geo.Result
}

func fromIndex(name string, idx geo.Index) impl {
	return impl{
		name: name,
		set:  func(id uint64, p geo.Point) { _ = idx.Set(id, p) },
		radius: func(c geo.Point, m float64, dst []geo.Result) []geo.Result {
			dst, _ = idx.Radius(c, m, 0, dst)
			return dst
		},
		nearest: func(c geo.Point, k int, dst []geo.Result) []geo.Result {
			dst, _ = idx.Nearest(c, k, dst)
			return dst
		},
	}
}

func fromRtree(r *rtreeIndex) impl {
	return impl{name: "rtree", set: r.Set, radius: r.Radius, nearest: r.Nearest}
}

var implNames = []string{"quadtree", "geohash", "s2", "rtree"}

func newImpl(name string) impl {
	switch name {
	case "quadtree":
		x, _ := geo.NewQuadtree(geo.QuadtreeConfig{})
		return fromIndex(name, x)
	case "geohash":
		x, _ := geo.NewGeohash(geo.GeohashConfig{})
		return fromIndex(name, x)
	case "s2":
		x, _ := geo.NewS2(geo.S2Config{})
		return fromIndex(name, x)
	default:
		return fromRtree(newRtree())
	}
}

var built sync.Map // name/n -> impl, built once per process

func builtImpl(name string, n int) impl {
	key := fmt.Sprint(name, "/", n)
	if x, ok := built.Load(key); ok {
		return x.(impl)
	}
	x := newImpl(name)
	for i, p := range points(n, 1) {
		x.set(uint64(i), p)
	}
	built.Store(key, x)
	return x
}

func BenchmarkBuild(b *testing.B) {
	n := benchN() / 10 // a full rebuild per iteration; 100k keeps it short
	pts := points(n, 1)
	for _, name := range implNames {
		b.Run(fmt.Sprintf("n=%dk/%s", n/1000, name), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				x := newImpl(name)
				for i, p := range pts {
					x.set(uint64(i), p)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/point")
		})
	}
}

func BenchmarkMove(b *testing.B) {
	n := benchN()
	for _, name := range implNames {
		b.Run(fmt.Sprintf("n=%dk/%s", n/1000, name), func(b *testing.B) { benchMove(b, builtImpl(name, n), n) })
	}
}

func benchMove(b *testing.B, x impl, n int) {
	r := rand.New(rand.NewPCG(2, 2))
	cur := points(n, 1) // positions as built; moves keep them current
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		id := r.IntN(n)
		p := cur[id]
		p.Lat = math.Min(math.Max(p.Lat+(r.Float64()-0.5)*1e-3, -90), 90)
		p.Lng = math.Min(math.Max(p.Lng+(r.Float64()-0.5)*1e-3, -180), 180)
		cur[id] = p
		x.set(uint64(id), p)
	}
}

var radii = []float64{500, 5000, 50000}

func BenchmarkRadius(b *testing.B) {
	n := benchN()
	for _, m := range radii {
		for _, name := range implNames {
			b.Run(fmt.Sprintf("n=%dk/r=%gm/%s", n/1000, m, name), func(b *testing.B) { benchRadius(b, builtImpl(name, n), m) })
		}
	}
}

func benchRadius(b *testing.B, x impl, m float64) {
	centers := points(1024, 3)
	var dst []geo.Result
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		dst = x.radius(centers[i%len(centers)], m, dst[:0])
	}
}

func BenchmarkNearest(b *testing.B) {
	n := benchN()
	for _, name := range implNames {
		b.Run(fmt.Sprintf("n=%dk/k=10/%s", n/1000, name), func(b *testing.B) { benchNearest(b, builtImpl(name, n)) })
	}
}

func benchNearest(b *testing.B, x impl) {
	centers := points(1024, 4)
	var dst []geo.Result
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		dst = x.nearest(centers[i%len(centers)], 10, dst[:0])
	}
}

// TestPeerAgrees checks that the rtree contestant does the same work: identical Radius answers
// and the same k nearest distances as the quadtree.
func TestPeerAgrees(t *testing.T) {
	const n = 20000
	q := newImpl("quadtree")
	r := newImpl("rtree")
	for i, p := range points(n, 1) {
		q.set(uint64(i), p)
		r.set(uint64(i), p)
	}
	for i, c := range points(300, 5) {
		m := radii[i%len(radii)]
		want, got := q.radius(c, m, nil), r.radius(c, m, nil)
		if !slices.Equal(want, got) {
			t.Fatalf("Radius(%+v, %v): rtree %d results, quadtree %d", c, m, len(got), len(want))
		}
		want, got = q.nearest(c, 10, nil), r.nearest(c, 10, nil)
		if len(want) != len(got) {
			t.Fatalf("Nearest(%+v): %d vs %d", c, len(got), len(want))
		}
		for j := range want {
			if want[j].Distance != got[j].Distance {
				t.Fatalf("Nearest(%+v)[%d]: rtree %v m, quadtree %v m", c, j, got[j].Distance, want[j].Distance)
			}
		}
	}
}

// TestRatios prints ns/op of each index and its ratio to rtree for every workload, measuring
// the contestants alternately (rounds times) and taking medians, which is fairer on a busy
// machine than separate benchmark runs. Opt-in: SYSBLOCKS_GEO_RATIOS=1 (takes minutes at 1M;
// add -short for 100k).
func TestRatios(t *testing.T) {
	if os.Getenv("SYSBLOCKS_GEO_RATIOS") != "1" {
		t.Skip("set SYSBLOCKS_GEO_RATIOS=1")
	}
	n, rounds := benchN(), 3
	type workload struct {
		name string
		run  func(b *testing.B, x impl)
	}
	wls := []workload{{"move", func(b *testing.B, x impl) { benchMove(b, x, n) }}}
	for _, m := range radii {
		wls = append(wls, workload{fmt.Sprintf("radius %gm", m), func(b *testing.B, x impl) { benchRadius(b, x, m) }})
	}
	wls = append(wls, workload{"nearest k=10", benchNearest})
	var out strings.Builder
	fmt.Fprintf(&out, "n=%d, median of %d alternating rounds, ns/op (ratio to rtree; < 1 is faster)\n", n, rounds)
	fmt.Fprintf(&out, "%-14s", "workload")
	for _, name := range implNames {
		fmt.Fprintf(&out, " %20s", name)
	}
	out.WriteString("\n")
	for _, wl := range wls {
		samples := map[string][]float64{}
		for range rounds {
			for _, name := range implNames {
				x := builtImpl(name, n)
				res := testing.Benchmark(func(b *testing.B) { wl.run(b, x) })
				samples[name] = append(samples[name], float64(res.NsPerOp()))
			}
		}
		peer := median(samples["rtree"])
		fmt.Fprintf(&out, "%-14s", wl.name)
		for _, name := range implNames {
			v := median(samples[name])
			fmt.Fprintf(&out, " %11.0f (%5.2fx)", v, v/peer)
		}
		out.WriteString("\n")
	}
	t.Log("\n" + out.String())
}

func median(xs []float64) float64 {
	sort.Float64s(xs)
	return xs[len(xs)/2]
}
