// Package exact is the arithmetic that ratelimit's in-memory limiters and
// ratelimit/redislimit share, so that both decide alike to the nanosecond:
// saturating int64 time arithmetic, and the float64 steps of
// golang.org/x/time/rate's token bucket, in its order of operations.
package exact

import (
	"math"
	"math/bits"
	"time"
)

// Never is a wait that cannot end: math.MaxInt64 nanoseconds.
const Never = math.MaxInt64

// AddSat is a+b, saturating at the int64 bounds instead of wrapping.
func AddSat(a, b int64) int64 {
	s := a + b
	if (s > a) != (b > 0) {
		if b > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return s
}

// SubSat is a−b, saturating at the int64 bounds.
func SubSat(a, b int64) int64 {
	if b == math.MinInt64 {
		if a >= 0 {
			return math.MaxInt64
		}
		return a - b
	}
	return AddSat(a, -b)
}

// MulSat is a·b, saturating at the int64 bounds.
func MulSat(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	hi, lo := bits.Mul64(abs(a), abs(b))
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

func abs(x int64) uint64 {
	if x < 0 {
		return uint64(^x) + 1
	}
	return uint64(x)
}

// FloorDiv is floor(a/b) for b > 0, so that windows before 1970 are aligned
// like those after.
func FloorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// MulDiv returns floor(a·b/c) and whether a·b mod c is non-zero, for c > 0;
// it saturates to MaxUint64 when the quotient does not fit.
func MulDiv(a, b, c uint64) (q uint64, inexact bool) {
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return math.MaxUint64, true
	}
	q, r := bits.Div64(hi, lo, c)
	return q, r != 0
}

// UnixNano is t in nanoseconds since the Unix epoch, saturating outside the
// years 1678–2262 instead of returning time.Time.UnixNano's undefined value.
func UnixNano(t time.Time) int64 {
	const maxSec = math.MaxInt64 / int64(time.Second)
	s := t.Unix()
	if s > maxSec {
		return math.MaxInt64
	}
	if s < -maxSec-1 {
		return math.MinInt64
	}
	ns := int64(t.Nanosecond())
	if s < 0 { // s·1e9 alone may not fit: (s+1)·1e9 + (ns−1e9) is the same sum
		return AddSat((s+1)*int64(time.Second), ns-int64(time.Second))
	}
	return AddSat(s*int64(time.Second), ns)
}

// FirstTrue returns the smallest d >= lo for which p(d) holds, given that p
// is monotone (false, then true) and p(math.MaxInt64) holds. est is a guess
// (from float64 arithmetic) that makes the usual case one or two calls of p.
// Where p breaks the precondition the answer is still a deterministic
// function of p, so two callers with the same p agree.
func FirstTrue(lo, est int64, p func(int64) bool) int64 {
	est = max(est, lo)
	// A bracket (bad, good] around the answer, galloping from est.
	var bad, good int64
	if p(est) {
		good, bad = est, lo-1
		for step := int64(1); ; step *= 2 {
			c := SubSat(good, step)
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
		bad, good = est, math.MaxInt64
		for step := int64(1); ; step *= 2 {
			c := AddSat(bad, step)
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

// Refill is x/time/rate's advance: the tokens at instant t of a bucket that
// held tokens at last (math.MinInt64: never used, as x/time/rate's zero
// time.Time, centuries ago), computed with the same float64 operations in
// the same order so that it rounds the same. An instant before last counts
// as last.
func Refill(tokens float64, last, t int64, rate float64, burst int) float64 {
	// The usual case on a busy key, 0 <= t−last < 1s (the subtraction
	// wraps otherwise), skips the general elapsed: below a second
	// Duration.Seconds is float64(0) + float64(ns)/1e9, which is
	// float64(ns)/1e9 to the bit. This path is small enough for the
	// compiler to inline.
	var secs float64
	if e := t - last; last != math.MinInt64 && uint64(e) < uint64(time.Second) {
		secs = float64(e) / 1e9
	} else {
		secs = elapsedSeconds(last, t)
	}
	tokens += secs * rate
	// x/time/rate's clamp; unlike min it need not order NaNs and zeros,
	// which cannot occur here.
	if b := float64(burst); tokens > b {
		tokens = b
	}
	return tokens
}

// elapsedSeconds is x/time/rate's elapsed time from last to t in seconds:
// none when t is before last, and nearly 300 years (MaxInt64 ns) since
// never (last math.MinInt64).
func elapsedSeconds(last, t int64) float64 {
	last = min(last, t)
	var elapsed time.Duration = math.MaxInt64
	if last != math.MinInt64 {
		elapsed = time.Duration(SubSat(t, last))
	}
	return elapsed.Seconds()
}

// Wait is x/time/rate's durationFromTokens(-tokens) for a bucket left
// holding tokens: 0 for tokens >= 0, else the float64 wait truncated to
// whole nanoseconds, Never when it does not fit.
func Wait(tokens, rate float64) int64 {
	if tokens >= 0 {
		return 0
	}
	duration := (-tokens / rate) * float64(time.Second)
	if duration > float64(math.MaxInt64) {
		return Never
	}
	return int64(duration)
}

// ResetAfter is the time until a bucket holding tokens is full: the float64
// estimate (burst−tokens)·nsPerToken rounded up to a whole nanosecond, at
// least 1, or 0 when already full. It may differ by a nanosecond from the
// instant Refill reaches burst; RetryAfter is the exact promise.
func ResetAfter(tokens float64, burst int, nsPerToken float64) int64 {
	b := float64(burst)
	if tokens >= b {
		return 0
	}
	x := (b - tokens) * nsPerToken
	if !(x < math.MaxInt64) {
		return Never
	}
	ns := int64(x)
	if float64(ns) < x {
		ns++ // round up without math.Ceil's call
	}
	return max(ns, 1)
}

// Allows reports whether n tokens can be taken at t from a bucket that held
// tokens at last: x/time/rate's test, the truncated wait is not positive.
func Allows(tokens float64, last int64, n int, t int64, rate float64, burst int) bool {
	return Wait(Refill(tokens, last, t, rate, burst)-float64(n), rate) <= 0
}

// Retry is the first wait w >= 1 after which a request for n, denied at t
// by a bucket that held tokens at last, would be allowed; Never when none
// fits. It is found with the decision's own arithmetic, so it is never
// early. est, x/time/rate's truncated wait, is almost always the answer,
// which two tests confirm (allowed at est, not at est−1) before the
// general search.
func Retry(tokens float64, last int64, n int, t, est int64, rate float64, burst int) int64 {
	at := func(w int64) bool { return Allows(tokens, last, n, AddSat(t, w), rate, burst) }
	if est >= 1 && est < math.MaxInt64 && at(est) && (est == 1 || !at(est-1)) {
		return est
	}
	return FirstTrue(1, est, at)
}

// FillTime is the time an empty bucket takes to hold burst tokens again by
// Refill's arithmetic: the token bucket's window.
func FillTime(rate float64, burst int) int64 {
	return FirstTrue(0, f2i(float64(burst)/rate*1e9), func(d int64) bool {
		return Refill(0, 0, d, rate, burst) >= float64(burst)
	})
}

// Remaining is floor(tokens) clamped to [0, burst].
func Remaining(tokens float64, burst int) int {
	if tokens <= 0 {
		return 0
	}
	return min(int(tokens), burst)
}

// f2i converts an estimate to int64, saturating (NaN gives 0).
func f2i(x float64) int64 {
	switch {
	case x != x:
		return 0
	case x >= math.MaxInt64:
		return math.MaxInt64
	case x <= math.MinInt64:
		return math.MinInt64
	}
	return int64(x)
}
