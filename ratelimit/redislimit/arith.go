package redislimit

import "github.com/sysblocks/sysblocks/ratelimit/internal/exact"

// ceilMs rounds ns up to whole milliseconds (0 for ns <= 0).
func ceilMs(ns int64) int64 {
	if ns <= 0 {
		return 0
	}
	return ns/1e6 + int64(min(ns%1e6, 1))
}

// Lua numbers are float64, exact only below 2^53, so integers that may be
// larger travel split.

// splitInstant splits a Unix-ns instant into whole seconds (floor) and
// nanoseconds in [0, 1e9), both exact in Lua.
func splitInstant(t int64) (sec, nsec int64) {
	s := exact.FloorDiv(t, 1e9)
	return s, t - s*1e9
}

// joinInstant is the inverse of splitInstant.
func joinInstant(sec, nsec int64) int64 { return sec*1e9 + nsec }

// indexShift splits a window index k into k>>indexShift (at most 2^37 in
// magnitude) and its low indexShift bits, both exact in Lua and ordered as k
// is when compared hi first.
const indexShift = 26

func splitIndex(k int64) (hi, lo int64) { return k >> indexShift, k & (1<<indexShift - 1) }

func joinIndex(hi, lo int64) int64 { return hi<<indexShift | lo }

// limbShift splits a duration in ns (< 2^63) into three 21-bit limbs for
// the exact products of the sliding window's script.
const limbShift = 21

func limbs(x uint64) [3]int64 {
	const m = 1<<limbShift - 1
	return [3]int64{int64(x & m), int64(x >> limbShift & m), int64(x >> (2 * limbShift))}
}
