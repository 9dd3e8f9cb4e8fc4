package ratelimit

import (
	"math"
	"time"

	"github.com/sysblocks/sysblocks/ratelimit/internal/exact"
)

// FixedWindow counts requests per key in fixed windows aligned to the Unix
// epoch: window k covers [k·window, (k+1)·window) since 1970-01-01 UTC, so
// every instance agrees on the boundaries. It never allows more than limit in
// one window; like every fixed window it allows up to 2·limit across a
// boundary.
//
// A FixedWindow is safe for concurrent use. Create it with NewFixedWindow;
// the zero value is not usable.
type FixedWindow struct {
	store[fwState, winPolicy]
}

var _ Limiter = (*FixedWindow)(nil)

// winPolicy is the policy of the three window limiters.
type winPolicy struct {
	limit  int64
	window int64 // ns
}

func newWinPolicy(p Policy) (winPolicy, error) {
	if err := checkLimit("limit", p.Limit); err != nil {
		return winPolicy{}, err
	}
	if err := checkWindow(p.Window); err != nil {
		return winPolicy{}, err
	}
	return winPolicy{limit: int64(p.Limit), window: int64(p.Window)}, nil
}

// start returns the start of window k, saturating.
func (p *winPolicy) start(k int64) int64 { return exact.MulSat(k, p.window) }

type fwState struct {
	win   int64 // index of the window count belongs to
	count int64
	_     int64 // pads an entry to one 64-byte cache line (see inlineKey)
}

// NewFixedWindow returns a fixed-window limiter allowing limit requests per
// key in each window. limit must be in [1, MaxLimit] and window positive.
func NewFixedWindow(limit int, window time.Duration, opts ...Option) (*FixedWindow, error) {
	fw := &FixedWindow{}
	err := fw.setup(opts, Policy{Limit: limit, Window: window}, newWinPolicy,
		func(st *fwState, _ *winPolicy, _ int64) { *st = fwState{win: math.MinInt64} },
		func(st *fwState, p *winPolicy, now int64) bool {
			return st.count == 0 || st.win < exact.FloorDiv(now, p.window)
		})
	if err != nil {
		return nil, err
	}
	return fw, nil
}

// Allow is AllowN(key, 1, now) with now from the limiter's clock.
func (fw *FixedWindow) Allow(key string) Decision {
	ok, rem, retry, reset, p := fw.decide(key, 1, fw.cfg.unixNow())
	return Decision{Allowed: ok, Limit: int(p.limit), Remaining: rem, RetryAfter: retry, ResetAfter: reset, Window: time.Duration(p.window)}
}

// AllowN reports whether n more requests fit in the window holding now and
// counts them if so. An instant in a window earlier than the key's latest is
// counted in the latest (time never runs backwards for a key), so no window
// ever holds more than limit. n <= 0 or n > limit yields Allowed false and
// RetryAfter Never. Cost: O(1), no allocation for a known key.
func (fw *FixedWindow) AllowN(key string, n int, now time.Time) Decision {
	ok, rem, retry, reset, p := fw.decide(key, n, exact.UnixNano(now))
	return Decision{Allowed: ok, Limit: int(p.limit), Remaining: rem, RetryAfter: retry, ResetAfter: reset, Window: time.Duration(p.window)}
}

// decide is AllowN at t (Unix ns), returning the decision's fields and the
// key's policy (see TokenBucket.decide for why). Only the count is read and
// updated under the entry lock: the window of t (a division) is computed
// before it for the default policy, and the decision's fields after it.
func (fw *FixedWindow) decide(key string, n int, t int64) (ok bool, rem int, retry, reset time.Duration, p *winPolicy) {
	k := exact.FloorDiv(t, fw.def.window)
	e, p := fw.lookup(key, t) // p is immutable: safe to use after the unlock
	if p != fw.def {
		k = exact.FloorDiv(t, p.window)
	}
	ok, k, count := p.fixed(&e.st, n, k)
	e.mu.Unlock()
	left := time.Duration(exact.SubSat(p.start(exact.AddSat(k, 1)), t)) // until the window ends
	switch {
	case ok:
	case n <= 0 || int64(n) > p.limit || left <= 0:
		retry = Never
	default:
		retry = left
	}
	if count > 0 {
		reset = left
	}
	return ok, int(p.limit - count), retry, reset, p
}

// fixed counts n in window k of st if they fit (an earlier k counts as the
// key's latest window) and returns whether they did, the window counted in
// and its count.
func (p *winPolicy) fixed(st *fwState, n int, k int64) (bool, int64, int64) {
	if k < st.win {
		k = st.win
	}
	if k > st.win {
		st.win, st.count = k, 0
	}
	ok := n > 0 && int64(n) <= p.limit && st.count+int64(n) <= p.limit
	if ok {
		st.count += int64(n)
	}
	return ok, k, st.count
}
