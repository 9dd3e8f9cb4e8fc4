package geo

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// EarthRadius is the IUGG mean Earth radius in metres, the radius of the sphere every distance in
// this package is measured on.
const EarthRadius = 6371008.8

// Sentinel errors. Every error returned by this package wraps exactly one of them.
var (
	// ErrInvalidPoint reports a coordinate that is NaN, infinite or out of range
	// (latitude outside [-90, 90], longitude outside [-180, 180]).
	ErrInvalidPoint = errors.New("geo: invalid point")
	// ErrInvalidRadius reports a radius that is negative, NaN or infinite.
	ErrInvalidRadius = errors.New("geo: invalid radius")
	// ErrInvalidK reports a Nearest call with k <= 0.
	ErrInvalidK = errors.New("geo: invalid k")
	// ErrInvalidBox reports a box whose south-west corner lies north of its north-east corner.
	ErrInvalidBox = errors.New("geo: invalid box")
	// ErrInvalidConfig reports a configuration value out of range.
	ErrInvalidConfig = errors.New("geo: invalid config")
	// ErrInvalidKey reports a malformed geohash cell key.
	ErrInvalidKey = errors.New("geo: invalid geohash key")
)

// Point is a position in degrees: Lat in [-90, 90] (north positive), Lng in [-180, 180] (east
// positive). Longitudes -180 and 180 name the same meridian; an index keeps the value it was
// given.
type Point struct{ Lat, Lng float64 }

// Valid reports whether p is finite and inside the coordinate ranges.
func (p Point) Valid() bool {
	// The comparisons are false for NaN, and ±Inf fails the range.
	return p.Lat >= -90 && p.Lat <= 90 && p.Lng >= -180 && p.Lng <= 180
}

func checkPoint(p Point) error {
	if !p.Valid() {
		return fmt.Errorf("%w: (%v, %v)", ErrInvalidPoint, p.Lat, p.Lng)
	}
	return nil
}

func checkRadius(meters float64) error {
	if !(meters >= 0) || math.IsInf(meters, 1) {
		return fmt.Errorf("%w: %v m", ErrInvalidRadius, meters)
	}
	return nil
}

// checkRadiusQuery validates the arguments of a Radius query.
func checkRadiusQuery(center Point, meters float64) error {
	if err := checkPoint(center); err != nil {
		return err
	}
	return checkRadius(meters)
}

const degToRad = math.Pi / 180

// Distance returns the great-circle distance between a and b in metres on a sphere of radius
// EarthRadius, by the haversine formula. It is the single definition of distance in this
// package: Radius includes a point exactly when Distance(center, point) <= meters, and Nearest
// orders by it. Cost: a handful of trigonometric calls (~30 ns).
func Distance(a, b Point) float64 {
	lat1, lat2 := a.Lat*degToRad, b.Lat*degToRad
	sLat := math.Sin((lat2 - lat1) / 2)
	sLng := math.Sin((b.Lng - a.Lng) * degToRad / 2)
	h := sLat*sLat + math.Cos(lat1)*math.Cos(lat2)*sLng*sLng
	if h > 1 {
		h = 1
	}
	return 2 * EarthRadius * math.Asin(math.Sqrt(h))
}

// Result is one hit of a query.
type Result struct {
	ID       uint64
	Point    Point
	Distance float64 // metres from the query centre (0 for Box, which has no centre)
}

// Index is a proximity index of points keyed by uint64 IDs. All implementations in this package
// return identical results for identical contents and queries.
type Index interface {
	// Set inserts id at p or moves it there.
	Set(id uint64, p Point) error
	// Remove deletes id and reports whether it was present.
	Remove(id uint64) bool
	// Get returns the position of id.
	Get(id uint64) (Point, bool)
	// Radius appends to dst every point with Distance(center, point) <= meters, sorted by
	// distance then ID, and returns the extended slice. limit > 0 keeps only the first limit
	// results; limit <= 0 means no limit.
	Radius(center Point, meters float64, limit int, dst []Result) ([]Result, error)
	// Nearest appends the k points nearest to center (by Distance, ties by ID), sorted, and
	// returns the extended slice. k <= 0 is ErrInvalidK.
	Nearest(center Point, k int, dst []Result) ([]Result, error)
	// Box appends the points inside the box with south-west corner min and north-east corner
	// max (edges inclusive), sorted by ID. min.Lng > max.Lng means the box crosses the
	// antimeridian: longitudes in [min.Lng, 180] or [-180, max.Lng].
	Box(min, max Point, dst []Result) ([]Result, error)
	// Len returns the number of points.
	Len() int
}

func compareResults(a, b Result) int {
	if c := cmp.Compare(a.Distance, b.Distance); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// finishRadius sorts the results appended after base and applies limit.
func finishRadius(dst []Result, base, limit int) []Result {
	slices.SortFunc(dst[base:], compareResults)
	if limit > 0 && len(dst)-base > limit {
		dst = dst[:base+limit]
	}
	return dst
}

func finishBox(dst []Result, base int) []Result {
	slices.SortFunc(dst[base:], func(a, b Result) int { return cmp.Compare(a.ID, b.ID) })
	return dst
}
