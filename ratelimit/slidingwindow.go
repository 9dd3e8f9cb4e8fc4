package ratelimit

import (
	"math"
	"time"

	"github.com/sysblocks/sysblocks/ratelimit/internal/exact"
)

// SlidingWindow is the sliding-window counter (Cloudflare's): per key, the
// counts of the current and the previous epoch-aligned fixed window, with
// the previous one weighted by the part of it the sliding window still
// covers. It estimates the sliding log in O(1) memory per key; its error
// against the exact SlidingLog is measured in TestSlidingWindowError and
// quoted in the package documentation.
//
// A SlidingWindow is safe for concurrent use. Create it with
// NewSlidingWindow; the zero value is not usable.
type SlidingWindow struct {
	store[swState, winPolicy]
}

var _ Limiter = (*SlidingWindow)(nil)

type swState struct {
	win       int64 // index of the current window
	cur, prev int64 // counts of windows win and win−1
}

// NewSlidingWindow returns a sliding-window-counter limiter allowing about
// limit requests per key in any interval of length window. limit must be in
// [1, MaxLimit] and window positive.
func NewSlidingWindow(limit int, window time.Duration, opts ...Option) (*SlidingWindow, error) {
	sw := &SlidingWindow{}
	err := sw.setup(opts, Policy{Limit: limit, Window: window}, newWinPolicy,
		func(st *swState, _ *winPolicy, _ int64) { *st = swState{win: math.MinInt64} },
		func(st *swState, p *winPolicy, now int64) bool {
			k := exact.FloorDiv(now, p.window)
			return k >= exact.AddSat(st.win, 2) || (st.cur == 0 && (st.prev == 0 || k > st.win))
		})
	if err != nil {
		return nil, err
	}
	return sw, nil
}

// Allow is AllowN(key, 1, now) with now from the limiter's clock.
func (sw *SlidingWindow) Allow(key string) (d Decision) {
	sw.decide(key, 1, sw.cfg.unixNow(), &d)
	return d
}

// AllowN reports whether n more requests fit under the weighted count
// prev·(1−elapsed/window) + cur and counts them if so; the comparison is
// exact (128-bit integer products, no float64). An instant in a window
// earlier than the key's latest is taken as the start of the latest. n <= 0
// or n > limit yields Allowed false and RetryAfter Never. Cost: O(1), no
// allocation for a known key.
func (sw *SlidingWindow) AllowN(key string, n int, now time.Time) (d Decision) {
	sw.decide(key, n, exact.UnixNano(now), &d)
	return d
}

// decide is AllowN at t (Unix ns), writing the decision to d. Allow and
// AllowN pass their named result: a Decision received from a call and
// returned would be copied through the stack (see TokenBucket.decide).
func (sw *SlidingWindow) decide(key string, n int, t int64, d *Decision) {
	e, p := sw.lookup(key, t)
	p.weighted(&e.st, n, t, d)
	e.mu.Unlock()
	d.settle()
}

func (p *winPolicy) weighted(st *swState, n int, t int64, d *Decision) {
	k := exact.FloorDiv(t, p.window)
	if k < st.win {
		k = st.win
	}
	switch {
	case k == st.win:
	case k == exact.AddSat(st.win, 1):
		st.prev, st.cur = st.cur, 0
	default:
		st.prev, st.cur = 0, 0
	}
	st.win = k
	start := p.start(k)
	off := max(exact.SubSat(t, start), 0)
	w := uint64(p.window)
	rest := w - uint64(off) // part of the previous window still covered, ns
	*d = Decision{Limit: int(p.limit), Window: time.Duration(p.window)}
	free := p.limit - st.cur - int64(n) // room left for the previous window's weight
	switch {
	case n <= 0 || int64(n) > p.limit:
		d.RetryAfter = Never
	case free >= 0 && mulLE(uint64(st.prev), rest, uint64(free), w):
		st.cur += int64(n)
		d.Allowed = true
	case free >= 0:
		// Later in this window: prev·(w−off') <= free·w.
		q, _ := exact.MulDiv(uint64(free), w, uint64(st.prev))
		d.RetryAfter = time.Duration(exact.AddSat(start, int64(w-q)) - t)
	default:
		// In the next window cur becomes the previous one:
		// cur·(w−off') <= (limit−n)·w.
		q, _ := exact.MulDiv(uint64(p.limit-int64(n)), w, uint64(st.cur))
		d.RetryAfter = time.Duration(exact.SubSat(exact.AddSat(p.start(exact.AddSat(k, 1)), int64(w-q)), t))
	}
	// Remaining: limit − cur − ceil(prev·rest/w), at least 0.
	used, inexact := exact.MulDiv(uint64(st.prev), rest, w)
	if inexact {
		used++
	}
	d.Remaining = int(max(p.limit-st.cur-int64(used), 0))
	switch {
	case st.cur > 0:
		d.ResetAfter = time.Duration(exact.SubSat(p.start(exact.AddSat(k, 2)), t))
	case st.prev > 0 && rest > 0:
		d.ResetAfter = time.Duration(exact.SubSat(p.start(exact.AddSat(k, 1)), t))
	}
}
