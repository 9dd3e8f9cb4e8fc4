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
// A TokenBucket is safe for concurrent use; calls for different keys do not
// contend (see the package documentation). Create it with NewTokenBucket;
// the zero value is not usable.
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
	ok, rem, retry, reset, p := tb.decide(key, 1, tb.cfg.unixNow())
	return Decision{Allowed: ok, Limit: p.burst, Remaining: rem, RetryAfter: retry, ResetAfter: reset, Window: p.window}
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
	ok, rem, retry, reset, p := tb.decide(key, n, exact.UnixNano(now))
	return Decision{Allowed: ok, Limit: p.burst, Remaining: rem, RetryAfter: retry, ResetAfter: reset, Window: p.window}
}

// decide is AllowN at t (Unix ns), returning the decision's fields and the
// key's policy. Allow and AllowN build their Decision from these scalars in
// their return statement rather than receive one from a call: a Decision
// (six fields, too many for the compiler to keep in registers) that a
// function receives from a call, or from an inlined helper, and returns is
// copied through the stack with 16-byte loads of 8-byte stores, which the
// CPU cannot forward (a stall of ~10 cycles each; 5ns of a 60ns Allow).
//
// Only the decision itself runs under the entry lock, which
// shortens the critical section two goroutines on one hot key serialise
// on: the fields derived from the token count (Remaining, ResetAfter) are
// computed after it is released, and so is the token count itself for a
// request the denial memo refuses (retryAfter), the flood case: that state
// does not change, so a copy of it serves.
func (tb *TokenBucket) decide(key string, n int, t int64) (ok bool, rem int, retry, reset time.Duration, p *tbPolicy) {
	e, p := tb.lookup(key, t) // p is immutable: safe to use after the unlock
	var tokens float64
	if n == 1 && t < e.st.next1 {
		st := e.st
		e.mu.Unlock()
		retry, tokens = time.Duration(st.next1-t), p.advance(&st, t)
	} else {
		ok, retry, tokens = p.allowN(&e.st, n, t)
		e.mu.Unlock()
	}
	return ok, p.remaining(tokens), retry, p.resetAfter(tokens), p
}

// advance is the tokens of st at instant t (x/time/rate's advance).
func (p *tbPolicy) advance(st *tbState, t int64) float64 {
	return exact.Refill(st.tokens, st.last, t, p.rate, p.burst)
}

// wait is x/time/rate's durationFromTokens(-tokens) for tokens < 0.
func (p *tbPolicy) wait(tokens float64) time.Duration {
	return time.Duration(exact.Wait(tokens, p.rate))
}

// allowN decides for n at t, updating st if allowed. It returns the
// decision, its RetryAfter and the tokens left, from which the caller
// derives Remaining and ResetAfter.
func (p *tbPolicy) allowN(st *tbState, n int, t int64) (bool, time.Duration, float64) {
	tokens := p.advance(st, t)
	if n <= 0 || n > p.burst {
		return false, Never, tokens
	}
	after := tokens - float64(n)
	if p.fits(after) {
		st.last, st.tokens, st.next1 = t, after, math.MinInt64
		return true, 0, after
	}
	// retryAfter is at least 1, or MaxInt64 (Never) when the wait saturates.
	return false, time.Duration(p.retryAfter(st, n, t, after)), tokens
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
// state once searched: allowAt refuses a client that asks again before its
// wait is over, the flood case, with next1−t, one subtraction, without
// calling allowN. An allowed request, the only change of the state,
// forgets it.
func (p *tbPolicy) retryAfter(st *tbState, n int, t int64, after float64) int64 {
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
