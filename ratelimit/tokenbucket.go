package ratelimit

import (
	"math"
	"time"

	"github.com/sysblocks/sysblocks/ratelimit/internal/exact"
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
// token count at that instant, which may be slightly negative; and a memo,
// next1: the first instant at which this state allows n = 1 once a denial
// has searched it (see retryAfter), else math.MinInt64.
type tbState struct {
	last   int64
	tokens float64
	next1  int64
}

// NewTokenBucket returns a token bucket limiter with rate tokens per second
// and burst tokens of capacity per key. rate must be in (0, MaxRate] and burst
// in [1, MaxLimit]; otherwise the error wraps ErrInvalidRate or ErrInvalidLimit.
func NewTokenBucket(rate float64, burst int, opts ...Option) (*TokenBucket, error) {
	tb := &TokenBucket{}
	err := tb.setup(opts, Policy{Rate: rate, Limit: burst}, newTBPolicy,
		func(st *tbState, p *tbPolicy, _ int64) {
			*st = tbState{last: math.MinInt64, tokens: float64(p.burst), next1: math.MinInt64}
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
	tp.window = time.Duration(exact.FillTime(p.Rate, p.Limit))
	return tp, nil
}

// Allow is AllowN(key, 1, now) with now from the limiter's clock.
func (tb *TokenBucket) Allow(key string) Decision {
	var d Decision
	tb.allowAt(key, 1, tb.cfg.unixNow(), &d)
	return d
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
	var d Decision
	tb.allowAt(key, n, exact.UnixNano(now), &d)
	return d
}

// allowAt is AllowN at t (Unix ns), writing the decision to d: each
// Decision returned by value from a call and returned again made the
// compiler copy its 48 bytes through the stack, with 16-byte loads of
// 8-byte stores that the CPU cannot forward (a stall of ~10 cycles each;
// 12ns of an 80ns Allow when the decision was passed up three calls).
//
// Only the decision itself runs under the shard lock; the fields derived
// from the token count (Remaining, ResetAfter) are filled in after it is
// released, which shortens the critical section two goroutines on one hot
// key serialise on.
func (tb *TokenBucket) allowAt(key string, n int, t int64, d *Decision) {
	sh, e := tb.lookup(key, t)
	p := e.pol // immutable: safe to read after the unlock
	tokens := p.allowN(&e.st, n, t, d)
	sh.mu.Unlock()
	p.fill(d, tokens)
}

// advance is the tokens of st at instant t (x/time/rate's advance).
func (p *tbPolicy) advance(st *tbState, t int64) float64 {
	return exact.Refill(st.tokens, st.last, t, p.rate, p.burst)
}

// wait is x/time/rate's durationFromTokens(-tokens) for tokens < 0.
func (p *tbPolicy) wait(tokens float64) time.Duration {
	return time.Duration(exact.Wait(tokens, p.rate))
}

// allowN decides for n at t, updating st if allowed: it sets d.Allowed and
// d.RetryAfter and returns the tokens left, from which fill sets the rest.
func (p *tbPolicy) allowN(st *tbState, n int, t int64, d *Decision) float64 {
	tokens := p.advance(st, t)
	if n <= 0 || n > p.burst {
		d.Allowed, d.RetryAfter = false, Never
		return tokens
	}
	after := tokens - float64(n)
	if p.fits(after) {
		st.last, st.tokens, st.next1 = t, after, math.MinInt64
		d.Allowed, d.RetryAfter = true, 0
		return after
	}
	d.Allowed = false
	// retryAfter is at least 1, or MaxInt64 (Never) when the wait saturates.
	d.RetryAfter = time.Duration(p.retryAfter(st, n, t, after))
	return tokens
}

// fill sets the fields of d that follow from the policy and from the tokens
// left after the decision.
func (p *tbPolicy) fill(d *Decision, tokens float64) {
	d.Limit, d.Window = p.burst, p.window
	d.Remaining, d.ResetAfter = p.remaining(tokens), p.resetAfter(tokens)
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
// t, leaving after tokens, would be allowed. A state that does not change
// allows n from one fixed instant on (the tokens advance computes never
// decrease as t grows), so for n = 1 (Allow) that instant is kept in the
// state once searched: a client refused again before its wait is over, the
// flood case, gets next1−t by one subtraction. An allowed request, the
// only change of the state, forgets it.
func (p *tbPolicy) retryAfter(st *tbState, n int, t int64, after float64) int64 {
	if n == 1 && t < st.next1 {
		return st.next1 - t
	}
	w := p.searchRetry(st, n, t, int64(p.wait(after)))
	// A saturated wait (MaxInt64) is a bound, not an instant: t+w would
	// promise an early retry to a later, still-denied request.
	if n == 1 && w < math.MaxInt64 {
		if next := exact.AddSat(t, w); next < math.MaxInt64 {
			st.next1 = next
		}
	}
	return w
}

// searchRetry is retryAfter without the memo.
func (p *tbPolicy) searchRetry(st *tbState, n int, t, est int64) int64 {
	return exact.Retry(st.tokens, st.last, n, t, est, p.rate, p.burst)
}

func (p *tbPolicy) remaining(tokens float64) int { return exact.Remaining(tokens, p.burst) }

// resetAfter is the time until the bucket, holding tokens, is full: an
// estimate within a nanosecond (RetryAfter, the promise, is exact). Its
// multiplication by 1e9/rate rather than a division keeps it off the
// decision's critical path.
func (p *tbPolicy) resetAfter(tokens float64) time.Duration {
	return time.Duration(exact.ResetAfter(tokens, p.burst, p.nsPerToken))
}
