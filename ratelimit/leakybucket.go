package ratelimit

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/sysblocks/sysblocks/ratelimit/internal/exact"
)

// LeakyBucket is a per-key leaky bucket (GCRA, virtual scheduling) in
// integer nanoseconds: each key's queue holds up to capacity requests and
// drains one request per interval, where interval is 1/rate rounded up to a
// whole nanosecond (so the drain is never faster than rate).
//
// Used through AllowN it is a meter: a request is admitted when the queue has
// room for it, and then counts as queued. Used through Take or Wait it is a
// shaper: the admitted request is told how long to wait for its slot, so
// calls come out evenly spaced by interval whatever their arrival pattern.
//
// A LeakyBucket is safe for concurrent use. Create it with NewLeakyBucket;
// the zero value is not usable.
type LeakyBucket struct {
	store[lbState, lbPolicy]
}

var _ Limiter = (*LeakyBucket)(nil)

type lbPolicy struct {
	interval int64 // ns per request
	capacity int64
	full     int64 // capacity·interval: the queue's length in time
}

// lbState is the theoretical arrival time: the instant (Unix ns) at which
// the key's queue will be empty; before it, the queue holds
// (tat-now)/interval requests.
type lbState struct {
	tat int64
	// Pads an entry to one 64-byte cache line: a 48-byte entry would
	// straddle two lines every other slot, and a hot key's lock and state
	// would then move between cores as two lines.
	_ [2]int64
}

// NewLeakyBucket returns a leaky bucket limiter draining rate requests per
// second with room for capacity queued requests per key. rate must be in
// (0, MaxRate] and capacity in [1, MaxLimit], and capacity/rate must be
// under 73 years (so the queue's length fits in int64 nanoseconds with room).
func NewLeakyBucket(rate float64, capacity int, opts ...Option) (*LeakyBucket, error) {
	lb := &LeakyBucket{}
	err := lb.setup(opts, Policy{Rate: rate, Limit: capacity}, newLBPolicy,
		func(st *lbState, _ *lbPolicy, _ int64) { st.tat = math.MinInt64 },
		func(st *lbState, _ *lbPolicy, now int64) bool { return st.tat <= now })
	if err != nil {
		return nil, err
	}
	return lb, nil
}

func newLBPolicy(p Policy) (lbPolicy, error) {
	if err := checkRate(p.Rate); err != nil {
		return lbPolicy{}, err
	}
	if err := checkLimit("capacity", p.Limit); err != nil {
		return lbPolicy{}, err
	}
	iv := math.Ceil(float64(time.Second) / p.Rate)
	if iv*float64(p.Limit) > math.MaxInt64/4 {
		return lbPolicy{}, fmt.Errorf("%w: capacity %d at rate %v spans over 73 years", ErrInvalidRate, p.Limit, p.Rate)
	}
	interval := max(int64(iv), 1)
	return lbPolicy{interval: interval, capacity: int64(p.Limit), full: interval * int64(p.Limit)}, nil
}

// Allow is AllowN(key, 1, now) with now from the limiter's clock.
func (lb *LeakyBucket) Allow(key string) Decision {
	ok, rem, retry, reset, _, p := lb.take(key, 1, lb.cfg.unixNow())
	return Decision{Allowed: ok, Limit: int(p.capacity), Remaining: rem, RetryAfter: retry, ResetAfter: reset, Window: time.Duration(p.full)}
}

// AllowN reports whether n requests fit in key's queue at now and queues
// them if so. n <= 0 or n > capacity yields Allowed false and RetryAfter
// Never. Cost: O(1), no allocation for a known key.
func (lb *LeakyBucket) AllowN(key string, n int, now time.Time) Decision {
	ok, rem, retry, reset, _, p := lb.take(key, n, exact.UnixNano(now))
	return Decision{Allowed: ok, Limit: int(p.capacity), Remaining: rem, RetryAfter: retry, ResetAfter: reset, Window: time.Duration(p.full)}
}

// Take is TakeN(key, 1, now) with now from the limiter's clock.
func (lb *LeakyBucket) Take(key string) (time.Duration, error) {
	return lb.TakeN(key, 1, lb.cfg.now())
}

// TakeN queues n requests for key at now and returns how long the caller
// must wait before acting: 0 for an empty queue, then interval, 2·interval…
// for requests arriving together. It fails with an error wrapping
// ErrQueueFull when the queue has no room (nothing is queued then), or
// ErrInvalidN for n <= 0 or n > capacity. Cost: O(1).
func (lb *LeakyBucket) TakeN(key string, n int, now time.Time) (time.Duration, error) {
	ok, _, retry, _, delay, p := lb.take(key, n, exact.UnixNano(now))
	switch {
	case retry == Never:
		return 0, fmt.Errorf("%w: %d for capacity %d", ErrInvalidN, n, p.capacity)
	case !ok:
		return 0, fmt.Errorf("%w: retry after %v", ErrQueueFull, retry)
	}
	return delay, nil
}

// Wait queues one request for key and blocks until its slot comes or ctx is
// done. It returns ErrQueueFull (wrapped) at once when the queue is full,
// and ctx.Err() if ctx ends first; the slot is not given back then, so a
// cancelled waiter still delays those queued behind it.
func (lb *LeakyBucket) Wait(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	delay, err := lb.Take(key)
	if err != nil || delay <= 0 {
		return err
	}
	tm := time.NewTimer(delay)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// take is AllowN at t (Unix ns), returning the decision's fields, the
// delay until the first request admitted may act, and the key's policy (see
// TokenBucket.decide for why scalars). Only the queue's end is read and
// updated under the entry lock; the decision's fields are derived after.
func (lb *LeakyBucket) take(key string, n int, t int64) (ok bool, rem int, retry, reset, delay time.Duration, p *lbPolicy) {
	e, p := lb.lookup(key, t) // p is immutable: safe to use after the unlock
	ok, base, end := p.admit(&e.st, n, t)
	e.mu.Unlock()
	tat := base
	switch {
	case ok:
		tat, delay = end, time.Duration(base-t)
	case n <= 0 || int64(n) > p.capacity:
		retry = Never
	default:
		if retry = time.Duration(exact.SubSat(end, t) - p.full); retry <= 0 {
			retry = Never // the wait saturated (settle)
		}
	}
	level := max(exact.SubSat(tat, t), 0)
	return ok, int(max(p.full-level, 0) / p.interval), retry, time.Duration(level), delay, p
}

// admit queues n requests if they fit and reports whether they did, with
// the instants the queue empties before them (base) and with them (end; base
// for an invalid n).
func (p *lbPolicy) admit(st *lbState, n int, t int64) (ok bool, base, end int64) {
	base = max(st.tat, t)
	if n <= 0 || int64(n) > p.capacity {
		return false, base, base
	}
	end = exact.AddSat(base, int64(n)*p.interval)
	if exact.SubSat(end, t)-p.full > 0 {
		return false, base, end
	}
	st.tat = end
	return true, base, end
}
