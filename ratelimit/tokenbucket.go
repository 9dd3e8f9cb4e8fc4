package ratelimit

import (
	"math"
	"time"
)

// TokenBucket is a per-key token bucket that decides exactly as
// golang.org/x/time/rate's Limiter.AllowN decides for the same rate, burst and
// instants: each key's bucket starts full with burst tokens and refills at
// rate tokens per second. See the package documentation for why its token
// count is a float64 like x/time/rate's rather than an integer.
//
// A TokenBucket is safe for concurrent use; calls for keys in different
// shards do not contend. Create it with NewTokenBucket; the zero value is not
// usable.
type TokenBucket struct {
	store[tbState, tbPolicy]
}

var _ Limiter = (*TokenBucket)(nil)

type tbPolicy struct {
	rate       float64
	burst      int
	window     time.Duration // time to refill from empty: burst/rate, rounded up
	nsPerToken float64       // 1e9/rate, for the ResetAfter estimate
	// A shortfall above shortHi tokens is surely worth 1ns of refill or
	// more, one below shortLo surely less (see fits).
	shortHi, shortLo float64
}

// tbState is x/time/rate's Limiter state: the instant of the last allowed
// event (Unix ns; math.MinInt64 for never, x/time/rate's zero time) and the
// token count at that instant, which may be slightly negative.
type tbState struct {
	last   int64
	tokens float64
}

// NewTokenBucket returns a token bucket limiter with rate tokens per second
// and burst tokens of capacity per key. rate must be in (0, MaxRate] and burst
// in [1, MaxLimit]; otherwise the error wraps ErrInvalidRate or ErrInvalidLimit.
func NewTokenBucket(rate float64, burst int, opts ...Option) (*TokenBucket, error) {
	tb := &TokenBucket{}
	err := tb.setup(opts, Policy{Rate: rate, Limit: burst}, newTBPolicy,
		func(st *tbState, p *tbPolicy, _ int64) {
			*st = tbState{last: math.MinInt64, tokens: float64(p.burst)}
		},
		func(st *tbState, p *tbPolicy, now int64) bool {
			return p.advance(st, now) >= float64(p.burst)
		})
	if err != nil {
		return nil, err
	}
	return tb, nil
}

func newTBPolicy(p Policy) (tbPolicy, error) {
	if err := checkRate(p.Rate); err != nil {
		return tbPolicy{}, err
	}
	if err := checkLimit("burst", p.Limit); err != nil {
		return tbPolicy{}, err
	}
	tp := tbPolicy{rate: p.Rate, burst: p.Limit, nsPerToken: 1e9 / p.Rate,
		shortHi: 2 * p.Rate / 1e9, shortLo: 0.5 * p.Rate / 1e9}
	empty := tbState{last: 0, tokens: 0}
	tp.window = time.Duration(firstTrue(0, f2i(float64(p.Limit)/p.Rate*1e9), func(d int64) bool {
		return tp.advance(&empty, d) >= float64(p.Limit)
	}))
	return tp, nil
}

// Allow is AllowN(key, 1, now) with now from the limiter's clock.
func (tb *TokenBucket) Allow(key string) Decision {
	return tb.allowAt(key, 1, tb.cfg.unixNow())
}

// AllowN reports whether n tokens may be taken from key's bucket at now and
// takes them if so. It allows exactly when x/time/rate's AllowN(now, n) would:
// when n <= burst and the bucket holds n tokens, or falls short by less than
// one nanosecond of refill (x/time/rate truncates the wait to whole
// nanoseconds). Like x/time/rate, an instant earlier than the last allowed
// one sees no refill, and an event allowed at such an instant moves the
// bucket's clock back to it.
//
// n <= 0 or n > burst yields Allowed false and RetryAfter Never without
// changing state. Cost: O(1), no allocation for a known key.
func (tb *TokenBucket) AllowN(key string, n int, now time.Time) Decision {
	return tb.allowAt(key, n, unixNano(now))
}

// allowAt is AllowN at t (Unix ns), calling the decision directly rather
// than through store.decide's function value so that it inlines.
func (tb *TokenBucket) allowAt(key string, n int, t int64) Decision {
	sh, e := tb.lookup(key, t)
	d := e.pol.allowN(&e.st, n, t)
	sh.mu.Unlock()
	return settle(d)
}

// advance is x/time/rate's advance: the tokens at instant t, computed with
// the same float64 operations in the same order, so that it rounds the same.
func (p *tbPolicy) advance(st *tbState, t int64) float64 {
	last := st.last
	if t < last {
		last = t
	}
	var elapsed time.Duration
	if last == math.MinInt64 {
		elapsed = math.MaxInt64 // x/time/rate's zero time.Time is centuries ago
	} else {
		elapsed = time.Duration(subSat(t, last))
	}
	delta := elapsed.Seconds() * p.rate
	tokens := st.tokens + delta
	if burst := float64(p.burst); tokens > burst {
		tokens = burst
	}
	return tokens
}

// wait is x/time/rate's durationFromTokens(-tokens) for tokens < 0: the
// float64 wait truncated to whole nanoseconds.
func (p *tbPolicy) wait(tokens float64) time.Duration {
	if tokens >= 0 {
		return 0
	}
	duration := (-tokens / p.rate) * float64(time.Second)
	if duration > float64(math.MaxInt64) {
		return Never
	}
	return time.Duration(duration)
}

func (p *tbPolicy) allowN(st *tbState, n int, t int64) Decision {
	tokens := p.advance(st, t)
	d := Decision{Limit: p.burst, Window: p.window}
	if n <= 0 || n > p.burst {
		d.RetryAfter = Never
		d.Remaining, d.ResetAfter = p.remaining(tokens), p.resetAfter(tokens)
		return d
	}
	after := tokens - float64(n)
	if p.fits(after) {
		st.last, st.tokens = t, after
		d.Allowed = true
		d.Remaining, d.ResetAfter = p.remaining(after), p.resetAfter(after)
		return d
	}
	d.RetryAfter = time.Duration(p.retryAfter(st, n, t, int64(p.wait(after))))
	d.Remaining, d.ResetAfter = p.remaining(tokens), p.resetAfter(tokens)
	return d
}

// allowsAt reports whether n tokens could be taken from st at t (the test of
// allowN, without taking them).
func (p *tbPolicy) allowsAt(st *tbState, n int, t int64) bool {
	return p.fits(p.advance(st, t) - float64(n))
}

// fits reports whether a bucket holding tokens after a take is allowed,
// p.wait(tokens) <= 0, without wait's division unless the shortfall is
// within a factor of two of one nanosecond of refill: the float64 wait of a
// shortfall above shortHi is at least 2(1-ε) > 1ns, below shortLo at most
// 0.5(1+ε) < 1ns.
func (p *tbPolicy) fits(tokens float64) bool {
	switch short := -tokens; {
	case short <= 0:
		return true
	case short > p.shortHi:
		return false
	case short < p.shortLo:
		return true
	}
	return p.wait(tokens) <= 0
}

// retryAfter is the first wait w >= 1 after which a request for n denied at
// t would be allowed, found with the decision's own arithmetic so that it is
// never early. est is x/time/rate's truncated wait; the answer is almost
// always est itself, which two tests confirm (allowed at est, not at est-1)
// before the general search.
func (p *tbPolicy) retryAfter(st *tbState, n int, t, est int64) int64 {
	if est >= 1 && est < math.MaxInt64 && p.allowsAt(st, n, addSat(t, est)) &&
		(est == 1 || !p.allowsAt(st, n, addSat(t, est-1))) {
		return est
	}
	return firstTrue(1, est, func(w int64) bool { return p.allowsAt(st, n, addSat(t, w)) })
}

// remaining is floor(tokens) clamped to [0, burst].
func (p *tbPolicy) remaining(tokens float64) int {
	if tokens <= 0 {
		return 0
	}
	return min(int(tokens), p.burst)
}

// resetAfter is the time from t until the bucket, holding tokens at t, is
// full: the float64 estimate (burst-tokens)·(1e9/rate) rounded up, which may
// differ from the instant the arithmetic of advance reaches burst by a
// nanosecond (a header rounds it up to seconds anyway; RetryAfter, the
// promise, is exact). A multiplication rather than a division keeps it off
// the critical path of the decision.
func (p *tbPolicy) resetAfter(tokens float64) time.Duration {
	burst := float64(p.burst)
	if tokens >= burst {
		return 0
	}
	x := (burst - tokens) * p.nsPerToken
	if !(x < math.MaxInt64) {
		return Never
	}
	ns := int64(x)
	if float64(ns) < x {
		ns++ // round up without math.Ceil's call
	}
	return time.Duration(max(ns, 1))
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
