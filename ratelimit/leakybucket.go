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
	var d Decision
	lb.take(key, 1, lb.cfg.unixNow(), &d)
	return d
}

// AllowN reports whether n requests fit in key's queue at now and queues
// them if so. n <= 0 or n > capacity yields Allowed false and RetryAfter
// Never. Cost: O(1), no allocation for a known key.
func (lb *LeakyBucket) AllowN(key string, n int, now time.Time) Decision {
	var d Decision
	lb.take(key, n, exact.UnixNano(now), &d)
	return d
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
	t := exact.UnixNano(now)
	var d Decision
	delay := lb.take(key, n, t, &d)
	switch {
	case d.RetryAfter == Never:
		return 0, fmt.Errorf("%w: %d for capacity %d", ErrInvalidN, n, d.Limit)
	case !d.Allowed:
		return 0, fmt.Errorf("%w: retry after %v", ErrQueueFull, d.RetryAfter)
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

func (lb *LeakyBucket) take(key string, n int, t int64, d *Decision) time.Duration {
	sh, e := lb.lookup(key, t)
	delay := e.pol.admit(&e.st, n, t, d)
	sh.mu.Unlock()
	d.settle()
	return delay
}

// admit queues n requests if they fit, writes the decision to d and returns the
// delay until the first of them may act.
func (p *lbPolicy) admit(st *lbState, n int, t int64, d *Decision) time.Duration {
	base := max(st.tat, t)
	*d = Decision{Limit: int(p.capacity), Window: time.Duration(p.full)}
	if n <= 0 || int64(n) > p.capacity {
		d.RetryAfter = Never
		p.fill(d, base, t)
		return 0
	}
	end := exact.AddSat(base, int64(n)*p.interval)
	if over := exact.SubSat(end, t) - p.full; over > 0 {
		d.RetryAfter = time.Duration(over)
		p.fill(d, base, t)
		return 0
	}
	st.tat = end
	d.Allowed = true
	p.fill(d, end, t)
	return time.Duration(base - t)
}

// fill sets Remaining and ResetAfter for a queue that empties at tat.
func (p *lbPolicy) fill(d *Decision, tat, t int64) {
	level := max(exact.SubSat(tat, t), 0)
	d.Remaining = int(max(p.full-level, 0) / p.interval)
	d.ResetAfter = time.Duration(level)
}
