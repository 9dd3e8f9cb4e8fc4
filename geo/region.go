package geo

import (
	"math"

	"github.com/golang/geo/r1"
	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// Pre-filters (cells, boxes, covering caps) must never drop a point that the exact test keeps.
// They are therefore computed for a slightly larger query: padMeters plus a relative 1e-9 on
// the radius, and degEps on every coordinate bound. The largest rounding error of the haversine
// Distance is ~0.1 m (near antipodes, where asin is ill-conditioned); everywhere else it is
// far below a millimetre, so a 1 m pad is conservative by an order of magnitude. The exact
// filter that decides membership is always Distance(center, p) <= meters.
const (
	padMeters = 1.0
	degEps    = 1e-9
)

// paddedAngle returns the angle in radians of a cap that surely holds every point within meters.
func paddedAngle(meters float64) float64 {
	return meters/EarthRadius*(1+1e-9) + padMeters/EarthRadius
}

// lowerBoundMeters turns an angular distance into a lower bound in metres that is never above
// the Distance of any point at or beyond that angle.
func lowerBoundMeters(rad float64) float64 {
	return max(0, rad*EarthRadius*(1-1e-9)-padMeters)
}

// region is a latitude band times a longitude interval in degrees. The longitude interval is
// unwrapped: lngLo <= lngHi < lngLo+360, with lngLo possibly below -180 or lngHi above 180,
// so an interval crossing the antimeridian needs no special case; allLng means every longitude.
type region struct {
	latLo, latHi float64
	lngLo, lngHi float64
	allLng       bool
}

var fullRegion = region{latLo: -90, latHi: 90, allLng: true}

// capRegion returns a conservative region around every point within meters of c.
func capRegion(c Point, meters float64) region {
	a := paddedAngle(meters)
	if a >= math.Pi {
		return fullRegion
	}
	rb := s2.CapFromCenterAngle(s2.PointFromLatLng(s2.LatLngFromDegrees(c.Lat, c.Lng)), s1.Angle(a)).RectBound()
	r := region{latLo: rb.Lat.Lo/degToRad - degEps, latHi: rb.Lat.Hi/degToRad + degEps}
	if rb.Lng.IsFull() {
		r.allLng = true
		return r
	}
	lo, hi := rb.Lng.Lo, rb.Lng.Hi
	if lo > hi { // s2 marks an interval crossing the antimeridian by inverting it
		hi += 2 * math.Pi
	}
	r.lngLo, r.lngHi = lo/degToRad-degEps, hi/degToRad+degEps
	r.allLng = r.lngHi-r.lngLo >= 360
	return r
}

// boxRegion returns the exact region of a box query (pad = 0) or a padded pre-filter of it.
func boxRegion(sw, ne Point, pad float64) region {
	r := region{latLo: sw.Lat - pad, latHi: ne.Lat + pad, lngLo: sw.Lng - pad, lngHi: ne.Lng + pad}
	if sw.Lng > ne.Lng {
		r.lngHi += 360
	}
	r.allLng = r.lngHi-r.lngLo >= 360
	return r
}

func (r *region) containsLng(x float64) bool {
	if r.allLng {
		return true
	}
	return (x >= r.lngLo && x <= r.lngHi) ||
		(x+360 >= r.lngLo && x+360 <= r.lngHi) ||
		(x-360 >= r.lngLo && x-360 <= r.lngHi)
}

func (r *region) contains(p Point) bool {
	return p.Lat >= r.latLo && p.Lat <= r.latHi && r.containsLng(p.Lng)
}

// intersects reports whether the closed rectangle [latLo, latHi] x [lngLo, lngHi]
// (with -180 <= lngLo <= lngHi <= 180) meets r.
func (r *region) intersects(latLo, latHi, lngLo, lngHi float64) bool {
	if latHi < r.latLo || latLo > r.latHi {
		return false
	}
	if r.allLng {
		return true
	}
	for _, s := range [3]float64{0, 360, -360} {
		if lngHi+s >= r.lngLo && lngLo+s <= r.lngHi {
			return true
		}
	}
	return false
}

// s2Rect converts r to an s2.Rect that contains it, closed over the poles.
func (r *region) s2Rect() s2.Rect {
	lat := r1.Interval{Lo: max(r.latLo*degToRad, -math.Pi/2), Hi: min(r.latHi*degToRad, math.Pi/2)}
	lng := s1.FullInterval()
	if !r.allLng {
		lo, hi := r.lngLo, r.lngHi
		if lo < -180 {
			lo += 360
		}
		if hi > 180 {
			hi -= 360
		}
		lng = s1.IntervalFromEndpoints(lo*degToRad, hi*degToRad)
	}
	return s2.Rect{Lat: lat, Lng: lng}.PolarClosure()
}

// rectLowerBound returns a lower bound in metres on Distance(t.p, q) for every q in the closed
// degree rectangle [latLo, latHi] x [lngLo, lngHi] (-180 <= lngLo <= lngHi <= 180). It is the
// haversine of the smallest latitude gap, the smallest (wrapped) longitude gap and the smallest
// cosine of a latitude in the rectangle: each term of the haversine sum is monotone in its
// argument, so no point of the rectangle can have a smaller sum. It is a true spherical bound
// (tight when the centre's longitude is inside the rectangle) and costs a few trigonometric
// calls, a fraction of s2.Rect.DistanceToLatLng.
func rectLowerBound(t *target, latLo, latHi, lngLo, lngHi float64) float64 {
	dLat := max(0, latLo-t.p.Lat, t.p.Lat-latHi)
	dLng := 0.0
	if x := t.p.Lng; !(x >= lngLo && x <= lngHi) && !(x+360 >= lngLo && x+360 <= lngHi) && !(x-360 >= lngLo && x-360 <= lngHi) {
		dLng = min(lngGap(x, lngLo), lngGap(x, lngHi))
	}
	if dLat == 0 && dLng == 0 {
		return 0
	}
	sLat := math.Sin(dLat * degToRad / 2)
	sLng := math.Sin(dLng * degToRad / 2)
	cosMin := max(0, min(math.Cos(latLo*degToRad), math.Cos(latHi*degToRad)))
	h := sLat*sLat + t.cosLat*cosMin*sLng*sLng
	return lowerBoundMeters(2 * math.Asin(math.Sqrt(min(h, 1))))
}

// lngGap returns the angle in degrees between two meridians, in [0, 180].
func lngGap(a, b float64) float64 {
	d := math.Abs(a - b)
	if d > 180 {
		d = 360 - d
	}
	return d
}
