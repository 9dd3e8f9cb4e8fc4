package geo

import (
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sysblocks/sysblocks/internal/testseed"
)

func TestDistance(t *testing.T) {
	tests := []struct {
		name string
		a, b Point
		want float64
		tol  float64
	}{
		{"same point", Point{12.5, -7}, Point{12.5, -7}, 0, 0},
		{"one degree of equator", Point{0, 0}, Point{0, 1}, EarthRadius * math.Pi / 180, 1e-6},
		{"antipodes", Point{0, 0}, Point{0, 180}, EarthRadius * math.Pi, 1e-6},
		{"pole to pole", Point{90, 0}, Point{-90, 0}, EarthRadius * math.Pi, 1e-6},
		{"across the antimeridian", Point{0, 179.5}, Point{0, -179.5}, EarthRadius * math.Pi / 180, 1e-6},
		{"pole, any longitude", Point{90, 0}, Point{90, 123}, 0, 1e-6},
		{"-180 is 180", Point{10, -180}, Point{10, 180}, 0, 1e-6},
		{"Paris-London", Point{48.8566, 2.3522}, Point{51.5074, -0.1278}, 343556, 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.InDelta(t, tc.want, Distance(tc.a, tc.b), tc.tol)
			require.Equal(t, Distance(tc.a, tc.b), Distance(tc.b, tc.a), "symmetric")
		})
	}
}

func TestConfigValidation(t *testing.T) {
	_, err := NewGeohash(GeohashConfig{MaxCells: -1})
	require.ErrorIs(t, err, ErrInvalidConfig)
	_, err = NewGeohash(GeohashConfig{MaxCells: 1025})
	require.ErrorIs(t, err, ErrInvalidConfig)
	_, err = NewQuadtree(QuadtreeConfig{LeafSize: -5})
	require.ErrorIs(t, err, ErrInvalidConfig)
	_, err = NewQuadtree(QuadtreeConfig{MaxDepth: 61})
	require.ErrorIs(t, err, ErrInvalidConfig)
	_, err = NewS2(S2Config{MaxCells: 1001})
	require.ErrorIs(t, err, ErrInvalidConfig)
	cfg := QuadtreeConfig{}
	q, err := NewQuadtree(cfg)
	require.NoError(t, err)
	require.Equal(t, 100, q.leafSize)
	require.Equal(t, QuadtreeConfig{}, cfg, "caller's config untouched")
}

func TestBadInputChangesNothing(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	bad := []struct {
		name string
		p    Point
	}{
		{"NaN lat", Point{nan, 0}},
		{"NaN lng", Point{0, nan}},
		{"+Inf lat", Point{inf, 0}},
		{"-Inf lng", Point{0, -inf}},
		{"lat > 90", Point{90.0000001, 0}},
		{"lat < -90", Point{-91, 0}},
		{"lng > 180", Point{0, 180.0000001}},
		{"lng < -180", Point{0, -181}},
	}
	for _, x := range newIndexes(t) {
		t.Run(x.name, func(t *testing.T) {
			idx := x.idx
			require.NoError(t, idx.Set(1, Point{10, 20}))
			for _, tc := range bad {
				require.ErrorIs(t, idx.Set(1, tc.p), ErrInvalidPoint, tc.name)
				require.ErrorIs(t, idx.Set(2, tc.p), ErrInvalidPoint, tc.name)
				_, err := idx.Radius(tc.p, 10, 0, nil)
				require.ErrorIs(t, err, ErrInvalidPoint, tc.name)
				_, err = idx.Nearest(tc.p, 1, nil)
				require.ErrorIs(t, err, ErrInvalidPoint, tc.name)
				_, err = idx.Box(tc.p, Point{90, 180}, nil)
				require.ErrorIs(t, err, ErrInvalidPoint, tc.name)
				_, err = idx.Box(Point{-90, -180}, tc.p, nil)
				require.ErrorIs(t, err, ErrInvalidPoint, tc.name)
			}
			for _, r := range []float64{-1, -1e-300, nan, inf, -inf} {
				_, err := idx.Radius(Point{}, r, 0, nil)
				require.ErrorIs(t, err, ErrInvalidRadius, "radius %v", r)
			}
			for _, k := range []int{0, -1} {
				_, err := idx.Nearest(Point{}, k, nil)
				require.ErrorIs(t, err, ErrInvalidK)
			}
			_, err := idx.Box(Point{10, 0}, Point{9, 1}, nil)
			require.ErrorIs(t, err, ErrInvalidBox)
			require.Equal(t, 1, idx.Len())
			p, ok := idx.Get(1)
			require.True(t, ok)
			require.Equal(t, Point{10, 20}, p)
			_, ok = idx.Get(2)
			require.False(t, ok)
			rs, err := idx.Radius(Point{10, 20}, 0, 0, nil)
			require.NoError(t, err)
			require.Equal(t, []Result{{ID: 1, Point: Point{10, 20}}}, rs)
		})
	}
}

func TestHardPlaces(t *testing.T) {
	pts := map[uint64]Point{
		1: {90, 0}, 2: {90, 77}, 3: {-90, -180}, 4: {0, 180}, 5: {0, -180}, 6: {0, 179.9999999},
		7: {45, 0}, 8: {45, 0}, 9: {-45, 90}, 10: {89.9999999, 180}, 11: {0, 0}, 12: {22.5, -11.25},
	}
	queries := []struct {
		c      Point
		meters float64
	}{
		{Point{90, 180}, 0}, {Point{90, -33}, 1}, {Point{-90, 0}, 0}, {Point{-90, 45}, 1},
		{Point{0, -180}, 0}, {Point{0, 180}, 1}, {Point{0, -179.9999}, 20}, {Point{45, 0}, 0},
		{Point{0, 0}, math.Pi * EarthRadius}, {Point{0, 0}, math.Pi*EarthRadius - 1},
		{Point{0, 0}, 1e9}, {Point{22.5, -11.25}, 0}, {Point{22.5, -11.25000001}, 1},
		{Point{89, 90}, 200e3}, {Point{-1, 179}, 300e3},
	}
	m := model(pts)
	for _, x := range newIndexes(t) {
		for id, p := range pts {
			require.NoError(t, x.idx.Set(id, p))
		}
		for _, q := range queries {
			got, err := x.idx.Radius(q.c, q.meters, 0, nil)
			require.NoError(t, err)
			require.Empty(t, diffResults(got, m.radius(q.c, q.meters, 0)), "%s Radius %+v", x.name, q)
			for k := 1; k <= len(pts)+1; k++ {
				got, err = x.idx.Nearest(q.c, k, nil)
				require.NoError(t, err)
				require.Empty(t, diffResults(got, m.nearest(q.c, k)), "%s Nearest %+v k=%d", x.name, q.c, k)
			}
		}
		for _, b := range [][2]Point{
			{{-90, -180}, {90, 180}}, {{-10, 170}, {10, -170}}, {{-10, 180}, {10, 180}},
			{{-10, -180}, {10, -180}}, {{89, 0}, {90, 10}}, {{45, 0}, {45, 0}}, {{-90, 180}, {90, -180}},
		} {
			got, err := x.idx.Box(b[0], b[1], nil)
			require.NoError(t, err)
			require.Empty(t, diffResults(got, m.box(b[0], b[1])), "%s Box %+v", x.name, b)
		}
	}
}

// TestCoincidentPoints piles more points on one spot than a quadtree leaf holds.
func TestCoincidentPoints(t *testing.T) {
	for _, x := range newIndexes(t) {
		m := model{}
		for id := range uint64(300) {
			p := Point{51.5, -0.12}
			if id%3 == 0 {
				p = Point{51.5 + float64(id)*1e-12, -0.12}
			}
			m[id] = p
			require.NoError(t, x.idx.Set(id, p))
		}
		got, err := x.idx.Nearest(Point{51.5, -0.12}, 50, nil)
		require.NoError(t, err)
		require.Empty(t, diffResults(got, m.nearest(Point{51.5, -0.12}, 50)), x.name)
		got, err = x.idx.Radius(Point{51.5, -0.12}, 0, 0, nil)
		require.NoError(t, err)
		require.Empty(t, diffResults(got, m.radius(Point{51.5, -0.12}, 0, 0)), x.name)
		for id := range uint64(290) {
			require.True(t, x.idx.Remove(id))
			delete(m, id)
		}
		checkInvariants(t, x.idx, m)
	}
}

func TestEmptyAndAppend(t *testing.T) {
	for _, x := range newIndexes(t) {
		got, err := x.idx.Nearest(Point{1, 2}, 5, nil)
		require.NoError(t, err)
		require.Empty(t, got)
		require.False(t, x.idx.Remove(7))
		require.NoError(t, x.idx.Set(7, Point{1, 2}))
		prefix := []Result{{ID: 99}}
		got, err = x.idx.Radius(Point{1, 2}, 10, 0, prefix)
		require.NoError(t, err)
		require.Equal(t, []Result{{ID: 99}, {ID: 7, Point: Point{1, 2}}}, got, x.name)
		got, err = x.idx.Nearest(Point{1, 2}, 3, prefix[:1:1])
		require.NoError(t, err)
		require.Equal(t, []Result{{ID: 99}, {ID: 7, Point: Point{1, 2}}}, got, x.name)
		got, err = x.idx.Box(Point{0, 0}, Point{2, 2}, prefix[:1:1])
		require.NoError(t, err)
		require.Equal(t, []Result{{ID: 99}, {ID: 7, Point: Point{1, 2}}}, got, x.name)
	}
}

func TestGeohashCellKeys(t *testing.T) {
	g, err := NewGeohash(GeohashConfig{})
	require.NoError(t, err)
	sf := Point{37.7749, -122.4194}
	key, err := g.Key(sf, 5)
	require.NoError(t, err)
	require.Equal(t, "9q8yy", key)
	_, err = g.Key(sf, 13)
	require.ErrorIs(t, err, ErrInvalidKey)
	_, err = g.CellIDs("9q8a", nil) // 'a' is not in the geohash alphabet
	require.ErrorIs(t, err, ErrInvalidKey)
	_, err = g.CellIDs("0123456789bcd", nil)
	require.ErrorIs(t, err, ErrInvalidKey)

	// A cache built from CellIDs of the cells the query names, filtered by Distance, gives the
	// exact Radius answer.
	gen := newGen(7)
	m := model{}
	for id := range uint64(3000) {
		p := gen.point()
		m[id] = p
		require.NoError(t, g.Set(id, p))
	}
	all, err := g.CellIDs("", nil)
	require.NoError(t, err)
	require.Len(t, all, 3000)
	for range 200 {
		c, meters := gen.point(), gen.radius()
		keys, err := g.Cells(c, meters, nil)
		require.NoError(t, err)
		require.LessOrEqual(t, len(keys), 9)
		seen := map[string]bool{}
		var fromCache []Result
		for _, k := range keys {
			require.False(t, seen[k], "duplicate cell key %q", k)
			seen[k] = true
			require.Len(t, k, len(keys[0]))
			ids, err := g.CellIDs(k, nil)
			require.NoError(t, err)
			for _, id := range ids {
				if d := Distance(c, m[id]); d <= meters {
					fromCache = append(fromCache, Result{ID: id, Point: m[id], Distance: d})
				}
			}
		}
		require.Empty(t, diffResults(finishRadius(fromCache, 0, 0), m.radius(c, meters, 0)), "%+v %v %v", c, meters, keys)
	}
}

// TestGeohashPrefixMissRate measures what the naive design misses: matching only the centre's
// geohash prefix at a precision whose cell is at least as large as the radius, without the
// neighbours. Our indexes miss nothing (TestDifferential); the naive search misses a large
// share of true results near cell edges.
func TestGeohashPrefixMissRate(t *testing.T) {
	gen := newGen(42)
	g, err := NewGeohash(GeohashConfig{})
	require.NoError(t, err)
	m := model{}
	for id := range uint64(10000) {
		p := gen.city()
		m[id] = p
		require.NoError(t, g.Set(id, p))
	}
	for _, meters := range []float64{500, 5000} {
		truth, missed := 0, 0
		for range 200 {
			c := gen.city()
			// Finest precision whose cell is >= meters tall and >= meters/cos(lat) wide.
			chars := 12
			for ; chars > 1; chars-- {
				bits := 5 * chars
				h := 180 / math.Exp2(float64(bits/2)) * degToRad * EarthRadius
				w := 360 / math.Exp2(float64(bits-bits/2)) * degToRad * EarthRadius * math.Cos(c.Lat*degToRad)
				if h >= meters && w >= meters {
					break
				}
			}
			key, err := g.Key(c, chars)
			require.NoError(t, err)
			ids, err := g.CellIDs(key, nil)
			require.NoError(t, err)
			inCell := map[uint64]bool{}
			for _, id := range ids {
				inCell[id] = true
			}
			exact := m.radius(c, meters, 0) // brute force
			got, err := g.Radius(c, meters, 0, nil)
			require.NoError(t, err)
			require.Empty(t, diffResults(got, exact))
			for _, r := range exact {
				truth++
				if !inCell[r.ID] {
					missed++
				}
			}
		}
		rate := float64(missed) / float64(truth)
		t.Logf("radius %v m: naive prefix-only search missed %d of %d true results (%.1f%%); GeohashIndex missed 0",
			meters, missed, truth, 100*rate)
		require.Greater(t, truth, 500)
		require.Greater(t, rate, 0.05, "the naive search should miss results near cell edges")
	}
}

// TestConcurrentReadersOneWriter runs queries in parallel with a writer (meaningful under -race)
// and checks the final state.
func TestConcurrentReadersOneWriter(t *testing.T) {
	for _, x := range newIndexes(t) {
		gen := newGen(3)
		m := model{}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for r := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rg := newGen(uint64(100 + r))
				var dst []Result
				for {
					select {
					case <-stop:
						return
					default:
					}
					var err error
					dst, err = x.idx.Radius(rg.point(), rg.radius(), 0, dst[:0])
					require.NoError(t, err)
					dst, err = x.idx.Nearest(rg.point(), 5, dst[:0])
					require.NoError(t, err)
				}
			}()
		}
		for id := range uint64(2000) {
			p := gen.point()
			require.NoError(t, x.idx.Set(id%700, p))
			m[id%700] = p
			if id%5 == 0 {
				x.idx.Remove(id % 300)
				delete(m, id%300)
			}
		}
		close(stop)
		wg.Wait()
		checkInvariants(t, x.idx, m)
	}
}

// TestRectLowerBound checks the pruning bound of Nearest: never above the Distance of any point
// of the rectangle (sampled, corners and edges included) and exact (0) inside.
func TestRectLowerBound(t *testing.T) {
	g := newGen(testseed.Seed(t))
	n := 20000
	if testseed.Long() {
		n = 500000
	}
	for range n {
		c := g.point()
		a, b := g.point(), g.point()
		latLo, latHi := min(a.Lat, b.Lat), max(a.Lat, b.Lat)
		lngLo, lngHi := min(a.Lng, b.Lng), max(a.Lng, b.Lng)
		if g.r.IntN(4) == 0 { // a small cell like the ones the search expands
			s := math.Exp(-g.r.Float64() * 12)
			latHi, lngHi = min(latLo+s, 90), min(lngLo+2*s, 180)
		}
		tg := newTarget(c)
		lb := rectLowerBound(&tg, latLo, latHi, lngLo, lngHi)
		for i := range 9 {
			u, v := g.r.Float64(), g.r.Float64()
			if i < 4 { // corners
				u, v = float64(i&1), float64(i>>1)
			}
			q := Point{latLo + u*(latHi-latLo), lngLo + v*(lngHi-lngLo)}
			if d := Distance(c, q); lb > d {
				t.Fatalf("bound %v m > Distance %v m: centre %+v, cell [%v, %v] x [%v, %v], point %+v",
					lb, d, c, latLo, latHi, lngLo, lngHi, q)
			}
		}
		if c.Lat >= latLo && c.Lat <= latHi && c.Lng >= lngLo && c.Lng <= lngHi {
			require.Zero(t, lb)
		}
	}
}
