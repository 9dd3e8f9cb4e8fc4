package ratelimit

import (
	"math"
	"math/bits"
	"time"
)

func abs64(x int64) uint64 {
	if x < 0 {
		return uint64(^x) + 1
	}
	return uint64(x)
}

// Saturating int64 arithmetic: time arithmetic here never wraps around.

func addSat(a, b int64) int64 {
	s := a + b
	if (s > a) != (b > 0) {
		if b > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return s
}

func subSat(a, b int64) int64 {
	if b == math.MinInt64 {
		if a >= 0 {
			return math.MaxInt64
		}
		return a - b
	}
	return addSat(a, -b)
}

func mulSat(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	hi, lo := bits.Mul64(abs64(a), abs64(b))
	neg := (a < 0) != (b < 0)
	if hi != 0 || lo > math.MaxInt64 {
		if neg {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	if neg {
		return -int64(lo)
	}
	return int64(lo)
}

// firstTrue returns the smallest d >= lo for which p(d) holds, given that p
// is monotone (false then true) and p(math.MaxInt64) holds. est is a guess
// (from float64 arithmetic) that makes the usual case one or two calls of p.
func firstTrue(lo, est int64, p func(int64) bool) int64 {
	if est < lo {
		est = lo
	}
	// Find a bracket (bad, good] around the answer by galloping from est.
	var bad, good int64
	if p(est) {
		good = est
		bad = lo - 1
		for step := int64(1); ; step *= 2 {
			c := subSat(good, step)
			if c < lo {
				break
			}
			if !p(c) {
				bad = c
				break
			}
			good = c
			if step > math.MaxInt64/4 {
				break
			}
		}
	} else {
		bad = est
		good = math.MaxInt64
		for step := int64(1); ; step *= 2 {
			c := addSat(bad, step)
			if p(c) {
				good = c
				break
			}
			bad = c
			if c == math.MaxInt64 || step > math.MaxInt64/4 {
				break
			}
		}
	}
	for good-bad > 1 {
		mid := bad + (good-bad)/2
		if p(mid) {
			good = mid
		} else {
			bad = mid
		}
	}
	return good
}

// unixNano converts t to nanoseconds since the Unix epoch, saturating outside
// the years 1678–2262 instead of returning time.Time.UnixNano's undefined value.
func unixNano(t time.Time) int64 {
	const maxSec = math.MaxInt64 / int64(time.Second)
	s := t.Unix()
	if s > maxSec {
		return math.MaxInt64
	}
	if s < -maxSec-1 {
		return math.MinInt64
	}
	return addSat(s*int64(time.Second), int64(t.Nanosecond()))
}

// floorDiv is floor(a/b) for b > 0, so that windows before 1970 are aligned too.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// ceilSeconds rounds d up to whole seconds (0 for d <= 0).
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}

// mulDiv returns floor(a·b/c) and whether a·b mod c is non-zero, for c > 0;
// it saturates to MaxUint64 when the quotient does not fit.
func mulDiv(a, b, c uint64) (q uint64, inexact bool) {
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return math.MaxUint64, true
	}
	q, r := bits.Div64(hi, lo, c)
	return q, r != 0
}

// mulLE reports whether a·b <= c·d, exactly.
func mulLE(a, b, c, d uint64) bool {
	h1, l1 := bits.Mul64(a, b)
	h2, l2 := bits.Mul64(c, d)
	return h1 < h2 || (h1 == h2 && l1 <= l2)
}
