package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Errors returned by the constructors and by LeakyBucket.Take/Wait; match
// them with errors.Is.
var (
	// ErrInvalidRate: a rate that is not a finite number in (0, MaxRate].
	ErrInvalidRate = errors.New("ratelimit: invalid rate")
	// ErrInvalidLimit: a burst, capacity or limit that is not in [1, MaxLimit].
	ErrInvalidLimit = errors.New("ratelimit: invalid limit")
	// ErrInvalidWindow: a window that is not positive.
	ErrInvalidWindow = errors.New("ratelimit: invalid window")
	// ErrInvalidOption: an option with a value out of range.
	ErrInvalidOption = errors.New("ratelimit: invalid option")
	// ErrInvalidN: a request for n <= 0 or n greater than the key's limit,
	// which no amount of waiting can grant.
	ErrInvalidN = errors.New("ratelimit: invalid n")
	// ErrQueueFull: the leaky bucket's queue has no room for the request now.
	ErrQueueFull = errors.New("ratelimit: queue full")
)

const (
	// MaxRate is the largest accepted rate: one event per nanosecond. It
	// keeps the token bucket's exact integer arithmetic within 128 bits.
	MaxRate = 1e9
	// MaxLimit is the largest accepted burst, capacity or limit (2^40).
	MaxLimit = 1 << 40
	// Never is Decision.RetryAfter for a request that can never be allowed:
	// n <= 0, n greater than the limit, or a wait past the end of the
	// representable Unix nanoseconds (the year 2262).
	Never = time.Duration(math.MaxInt64)
)

// Decision is the outcome of one call to Allow or AllowN.
type Decision struct {
	Allowed    bool
	Limit      int           // the policy's limit for the window / burst
	Remaining  int           // what is left right now
	RetryAfter time.Duration // 0 when allowed; else how long until n would be allowed (Never if it cannot be)
	ResetAfter time.Duration // until the limiter is back to full
	// Window is the policy's window; for the buckets it is the time an empty
	// bucket takes to refill to Limit (Limit/rate, rounded up to 1ns).
	Window time.Duration
}

// Limiter is implemented by all five limiters in this package.
type Limiter interface {
	// Allow is AllowN(key, 1, now) with now from the limiter's clock.
	Allow(key string) Decision
	// AllowN reports whether n events for key may happen at now, and
	// consumes them if so. n <= 0 or n > the key's limit yields
	// Allowed false and RetryAfter Never, without changing any state.
	AllowN(key string, n int, now time.Time) Decision
}

// Policy is a per-key override of a limiter's parameters (see WithOverride).
// TokenBucket and LeakyBucket read Rate and Limit (burst or capacity); the
// window limiters read Limit and Window.
type Policy struct {
	Limit  int
	Rate   float64
	Window time.Duration
}

// Option configures a limiter at construction.
type Option func(*config)

type config struct {
	now       func() time.Time
	customNow bool       // WithClock was given
	mono      *monoClock // the default clock; nil when WithClock is used
	maxKeys   int
	shards    int
	overrides map[string]Policy
}

// WithClock replaces the default clock as the source of now for Allow (and
// for LeakyBucket.Wait's reservation); AllowN always uses the instant it is
// given. The default clock is time.Now's wall clock advanced by the
// monotonic clock between re-reads once a second (one clock read per call
// instead of time.Now's two), so a wall-clock step takes effect within 1s.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now, c.customNow = now, true }
}

// WithMaxKeys bounds the number of keys a limiter tracks (0, the default,
// means unbounded; even then keys that are idle and unused for 10s are swept
// as new keys arrive, at O(1) amortised cost). Memory then stays flat under a flood of distinct keys:
// a new key evicts an idle one (one whose state equals a fresh key's, so
// forgetting it changes no decision) or, when a sample of 8 keys holds no
// idle one, the least recently used key of the sample. Evicting a busy key
// forgets its usage, so set MaxKeys well above the expected live keys.
func WithMaxKeys(n int) Option {
	return func(c *config) { c.maxKeys = n }
}

// WithShards sets the number of shards keys are spread over (rounded up to
// a power of two; default 256). Adding a key locks its shard.
func WithShards(n int) Option {
	return func(c *config) { c.shards = n }
}

// WithOverride gives key its own policy instead of the limiter's default.
// The policy is validated by the constructor like the default one.
func WithOverride(key string, p Policy) Option {
	return func(c *config) {
		if c.overrides == nil {
			c.overrides = make(map[string]Policy)
		}
		c.overrides[key] = p
	}
}

func buildConfig(opts []Option) (config, error) {
	c := config{shards: 256}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	switch {
	case c.customNow && c.now == nil:
		return c, fmt.Errorf("%w: nil clock", ErrInvalidOption)
	case !c.customNow:
		c.now, c.mono = time.Now, newMonoClock()
	}
	if c.maxKeys < 0 {
		return c, fmt.Errorf("%w: MaxKeys %d < 0", ErrInvalidOption, c.maxKeys)
	}
	if c.shards < 1 || c.shards > 1<<16 {
		return c, fmt.Errorf("%w: shards %d not in [1, 65536]", ErrInvalidOption, c.shards)
	}
	n := 1
	for n < c.shards {
		n *= 2
	}
	c.shards = n
	return c, nil
}

func checkLimit(what string, n int) error {
	if n < 1 || int64(n) > MaxLimit {
		return fmt.Errorf("%w: %s %d not in [1, %d]", ErrInvalidLimit, what, n, int64(MaxLimit))
	}
	return nil
}

func checkRate(r float64) error {
	if !(r > 0 && r <= MaxRate) { // also rejects NaN
		return fmt.Errorf("%w: %v not in (0, %v]", ErrInvalidRate, r, float64(MaxRate))
	}
	return nil
}

func checkWindow(w time.Duration) error {
	if w <= 0 {
		return fmt.Errorf("%w: %v", ErrInvalidWindow, w)
	}
	return nil
}

// newPolicies validates the default policy and the overrides with mk.
func newPolicies[P any](c config, def Policy, mk func(Policy) (P, error)) (*P, map[string]*P, error) {
	d, err := mk(def)
	if err != nil {
		return nil, nil, err
	}
	over := make(map[string]*P, len(c.overrides))
	for k, p := range c.overrides {
		v, err := mk(p)
		if err != nil {
			return nil, nil, fmt.Errorf("override for key %q: %w", k, err)
		}
		over[k] = &v
	}
	return &d, over, nil
}

// settle marks a denial whose wait cannot be expressed (it saturated at the
// end of representable time) as Never.
func (d *Decision) settle() {
	if !d.Allowed && d.RetryAfter <= 0 {
		d.RetryAfter = Never
	}
}
