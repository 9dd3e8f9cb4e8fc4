package geo

import (
	"errors"
	"math"
	"testing"
)

// fuzzIndexes builds every index over the same fixed mixed point set.
func fuzzIndexes(t *testing.T) ([]namedIndex, model) {
	idxs := newIndexes(t)
	g := newGen(1)
	m := model{}
	for id := range uint64(400) {
		p := g.point()
		m[id] = p
		for _, x := range idxs {
			if err := x.idx.Set(id, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	return idxs, m
}

// FuzzQuery checks Radius, Nearest and Box on arbitrary inputs against brute force: valid
// queries must match exactly, invalid ones must fail with the right sentinel.
func FuzzQuery(f *testing.F) {
	f.Add(0.0, 0.0, 1000.0, 5, -10.0, 170.0, 10.0, -170.0)
	f.Add(90.0, 180.0, 0.0, 1, 89.0, -180.0, 90.0, 180.0)
	f.Add(-90.0, -180.0, 2e7, 400, -90.0, -180.0, 90.0, 180.0)
	f.Add(89.9, 10.0, 5e6, 50, 0.0, 0.0, 0.0, 0.0)
	f.Add(10.0, 179.99, 3e3, 3, 9.0, 179.0, 11.0, -179.0)
	f.Add(math.NaN(), 0.0, -1.0, 0, 1.0, 0.0, 0.0, 0.0)
	f.Add(0.0, 0.0, math.Inf(1), -3, 0.0, 0.0, 0.0, 181.0)
	f.Add(22.5, -11.25, 1e-9, 2, 22.5, -11.25, 22.5, -11.25)
	var (
		idxs []namedIndex
		m    model
	)
	f.Fuzz(func(t *testing.T, lat, lng, meters float64, k int, lat1, lng1, lat2, lng2 float64) {
		if idxs == nil {
			idxs, m = fuzzIndexes(t)
		}
		c := Point{lat, lng}
		sw, ne := Point{lat1, lng1}, Point{lat2, lng2}
		k %= 1000
		for _, x := range idxs {
			got, err := x.idx.Radius(c, meters, k, nil)
			switch {
			case !c.Valid():
				expectErr(t, err, ErrInvalidPoint, x.name)
			case !(meters >= 0) || math.IsInf(meters, 0):
				expectErr(t, err, ErrInvalidRadius, x.name)
			case err != nil:
				t.Fatalf("%s.Radius: %v", x.name, err)
			default:
				if d := diffResults(got, m.radius(c, meters, k)); d != "" {
					t.Fatalf("%s.Radius(%+v, %v, %d): %s", x.name, c, meters, k, d)
				}
			}
			got, err = x.idx.Nearest(c, k, nil)
			switch {
			case !c.Valid():
				expectErr(t, err, ErrInvalidPoint, x.name)
			case k <= 0:
				expectErr(t, err, ErrInvalidK, x.name)
			case err != nil:
				t.Fatalf("%s.Nearest: %v", x.name, err)
			default:
				if d := diffResults(got, m.nearest(c, k)); d != "" {
					t.Fatalf("%s.Nearest(%+v, %d): %s", x.name, c, k, d)
				}
			}
			got, err = x.idx.Box(sw, ne, nil)
			switch {
			case !sw.Valid() || !ne.Valid():
				expectErr(t, err, ErrInvalidPoint, x.name)
			case sw.Lat > ne.Lat:
				expectErr(t, err, ErrInvalidBox, x.name)
			case err != nil:
				t.Fatalf("%s.Box: %v", x.name, err)
			default:
				if d := diffResults(got, m.box(sw, ne)); d != "" {
					t.Fatalf("%s.Box(%+v, %+v): %s", x.name, sw, ne, d)
				}
			}
		}
	})
}

// FuzzSet moves one point to arbitrary coordinates: invalid ones must be rejected without a
// trace, valid ones must be found again exactly where they were put.
func FuzzSet(f *testing.F) {
	f.Add(0.0, 0.0)
	f.Add(90.0, 180.0)
	f.Add(-90.0, -180.0)
	f.Add(math.NaN(), 1.0)
	f.Add(90.00000000000001, 0.0)
	f.Add(0.0, math.Inf(-1))
	f.Add(89.99999999999999, 179.99999999999997)
	f.Fuzz(func(t *testing.T, lat, lng float64) {
		p := Point{lat, lng}
		for _, x := range newIndexes(t) {
			if err := x.idx.Set(1, Point{1, 1}); err != nil {
				t.Fatal(err)
			}
			err := x.idx.Set(1, p)
			want := Point{1, 1}
			if p.Valid() {
				if err != nil {
					t.Fatalf("%s.Set(%+v): %v", x.name, p, err)
				}
				want = p
			} else {
				expectErr(t, err, ErrInvalidPoint, x.name)
			}
			if got, ok := x.idx.Get(1); !ok || got != want || x.idx.Len() != 1 {
				t.Fatalf("%s: Get = %+v, %v; Len %d; want %+v", x.name, got, ok, x.idx.Len(), want)
			}
			rs, err := x.idx.Radius(want, 0, 0, nil)
			if err != nil || len(rs) != 1 || rs[0].ID != 1 {
				t.Fatalf("%s: Radius 0 at %+v = %+v, %v", x.name, want, rs, err)
			}
			rs, err = x.idx.Nearest(want, 1, nil)
			if err != nil || len(rs) != 1 || rs[0].ID != 1 {
				t.Fatalf("%s: Nearest at %+v = %+v, %v", x.name, want, rs, err)
			}
		}
	})
}

func expectErr(t *testing.T, err, want error, name string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", name, err, want)
	}
}
