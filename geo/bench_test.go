package geo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

// Benchmarks run on points clustered in cities (the proximity-service workload): 500 city
// centres, points normally distributed around them with a 10 km standard deviation, query
// centres drawn from the same distribution. n=1M is skipped under -short.

func benchSizes() []int {
	if testing.Short() {
		return []int{10_000}
	}
	return []int{100_000, 1_000_000}
}

type cityGen struct {
	r      *rand.Rand
	cities []Point
}

func newCityGen(seed uint64) *cityGen {
	g := &cityGen{r: rand.New(rand.NewPCG(seed, 1))}
	for range 500 {
		g.cities = append(g.cities, Point{Lat: g.r.Float64()*120 - 55, Lng: g.r.Float64()*360 - 180})
	}
	return g
}

func (g *cityGen) next() Point {
	c := g.cities[g.r.IntN(len(g.cities))]
	sigma := 10e3 / EarthRadius / degToRad
	lat := c.Lat + g.r.NormFloat64()*sigma
	return clampPoint(lat, c.Lng+g.r.NormFloat64()*sigma/math.Cos(lat*degToRad))
}

func cityPoints(n int) []Point {
	g := newCityGen(1)
	pts := make([]Point, n)
	for i := range pts {
		pts[i] = g.next()
	}
	return pts
}

var indexKinds = []struct {
	name string
	make func() Index
}{
	{"geohash", func() Index { x, _ := NewGeohash(GeohashConfig{}); return x }},
	{"quadtree", func() Index { x, _ := NewQuadtree(QuadtreeConfig{}); return x }},
	{"s2", func() Index { x, _ := NewS2(S2Config{}); return x }},
}

// built caches one index per kind and size across benchmarks (a 1M build takes seconds).
var built sync.Map

func benchIndex(b *testing.B, kind int, n int) Index {
	key := fmt.Sprint(kind, "/", n)
	if x, ok := built.Load(key); ok {
		return x.(Index)
	}
	idx := indexKinds[kind].make()
	for i, p := range cityPoints(n) {
		if err := idx.Set(uint64(i), p); err != nil {
			b.Fatal(err)
		}
	}
	built.Store(key, idx)
	return idx
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkBuild inserts n points into an empty index; it reports the cost per point and the
// live heap per million points.
func BenchmarkBuild(b *testing.B) {
	for kind, k := range indexKinds {
		for _, n := range benchSizes() {
			b.Run(fmt.Sprintf("%s/n=%s", k.name, sizeName(n)), func(b *testing.B) {
				pts := cityPoints(n)
				b.ReportAllocs()
				var mem float64
				for range b.N {
					b.StopTimer()
					before := heapInUse()
					b.StartTimer()
					idx := indexKinds[kind].make()
					for i, p := range pts {
						_ = idx.Set(uint64(i), p)
					}
					b.StopTimer()
					mem = float64(heapInUse()-before) / float64(n) * 1e6 / (1 << 20)
					runtime.KeepAlive(idx)
					b.StartTimer()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/point")
				b.ReportMetric(mem, "MiB/Mpoints")
			})
		}
	}
}

// BenchmarkSet moves existing points by up to ~100 m, the nearby-friends update.
func BenchmarkSet(b *testing.B) {
	for kind, k := range indexKinds {
		for _, n := range benchSizes() {
			b.Run(fmt.Sprintf("%s/n=%s", k.name, sizeName(n)), func(b *testing.B) {
				idx := benchIndex(b, kind, n)
				r := rand.New(rand.NewPCG(2, 2))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					id := uint64(r.IntN(n))
					p, _ := idx.Get(id)
					p = clampPoint(p.Lat+(r.Float64()-0.5)*1e-3, p.Lng+(r.Float64()-0.5)*1e-3)
					if err := idx.Set(id, p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkRadius(b *testing.B) {
	for kind, k := range indexKinds {
		for _, n := range benchSizes() {
			for _, meters := range []float64{500, 5000, 50000} {
				b.Run(fmt.Sprintf("%s/n=%s/r=%s", k.name, sizeName(n), radiusName(meters)), func(b *testing.B) {
					idx := benchIndex(b, kind, n)
					g := newCityGen(1) // same cities as the data
					g.r = rand.New(rand.NewPCG(3, 3))
					centers := make([]Point, 1024)
					for i := range centers {
						centers[i] = g.next()
					}
					var dst []Result
					hits := 0
					b.ReportAllocs()
					b.ResetTimer()
					for i := range b.N {
						dst, _ = idx.Radius(centers[i%len(centers)], meters, 0, dst[:0])
						hits += len(dst)
					}
					b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
				})
			}
		}
	}
}

func BenchmarkNearest(b *testing.B) {
	for kind, k := range indexKinds {
		for _, n := range benchSizes() {
			b.Run(fmt.Sprintf("%s/n=%s/k=10", k.name, sizeName(n)), func(b *testing.B) {
				idx := benchIndex(b, kind, n)
				g := newCityGen(1)
				g.r = rand.New(rand.NewPCG(4, 4))
				centers := make([]Point, 1024)
				for i := range centers {
					centers[i] = g.next()
				}
				var dst []Result
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					dst, _ = idx.Nearest(centers[i%len(centers)], 10, dst[:0])
				}
			})
		}
	}
}

func sizeName(n int) string {
	if n >= 1_000_000 {
		return fmt.Sprintf("%dM", n/1_000_000)
	}
	return fmt.Sprintf("%dk", n/1000)
}

func radiusName(m float64) string {
	if m >= 1000 {
		return fmt.Sprintf("%gkm", m/1000)
	}
	return fmt.Sprintf("%gm", m)
}
