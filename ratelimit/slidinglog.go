package ratelimit

import (
	"math"
	"time"

	"github.com/sysblocks/sysblocks/ratelimit/internal/exact"
)

// SlidingLog keeps, per key, the log of allowed requests of the last window
// and allows a request only if the requests in the window ending at its
// instant, (now−window, now], plus it stay within limit. Hence no interval of
// length window ever holds more than limit allowed requests: the exact
// sliding window, at a memory cost of one 16-byte record per allowed call
// (calls at the same instant share one) still in the window, at most limit
// records per key.
//
// A SlidingLog is safe for concurrent use. Create it with NewSlidingLog; the
// zero value is not usable.
type SlidingLog struct {
	store[slState, winPolicy]
}

var _ Limiter = (*SlidingLog)(nil)

type slEvent struct {
	at int64 // Unix ns
	n  int64
}

// slState is a ring buffer of allowed events, oldest at head.
type slState struct {
	buf   []slEvent
	head  int
	count int
	sum   int64 // total n in the ring
	last  int64 // latest instant the key has seen: time never runs back
}

// NewSlidingLog returns a sliding-log limiter allowing limit requests per key
// in any interval of length window. limit must be in [1, MaxLimit] and
// window positive.
func NewSlidingLog(limit int, window time.Duration, opts ...Option) (*SlidingLog, error) {
	sl := &SlidingLog{}
	err := sl.setup(opts, Policy{Limit: limit, Window: window}, newWinPolicy,
		func(st *slState, _ *winPolicy, _ int64) {
			st.head, st.count, st.sum, st.last = 0, 0, 0, math.MinInt64 // keep buf for reuse
		},
		func(st *slState, p *winPolicy, now int64) bool {
			return st.count == 0 || st.newest().at <= exact.SubSat(now, p.window)
		})
	if err != nil {
		return nil, err
	}
	return sl, nil
}

// Allow is AllowN(key, 1, now) with now from the limiter's clock.
func (sl *SlidingLog) Allow(key string) (d Decision) {
	sl.decide(key, 1, sl.cfg.unixNow(), &d)
	return d
}

// AllowN reports whether n more requests fit in the window (now−window, now]
// and logs them if so. An instant before the latest one the key has seen is
// taken as that one (time never runs backwards for a key). n <= 0 or
// n > limit yields Allowed false and RetryAfter Never. Cost: O(1) amortised
// (expiry pops what it drops); RetryAfter on a denial walks the log, O(log
// length). No allocation for a known key once its log has grown.
func (sl *SlidingLog) AllowN(key string, n int, now time.Time) (d Decision) {
	sl.decide(key, n, exact.UnixNano(now), &d)
	return d
}

func (st *slState) at(i int) *slEvent { return &st.buf[(st.head+i)%len(st.buf)] }
func (st *slState) newest() *slEvent  { return st.at(st.count - 1) }

func (st *slState) push(at, n int64) {
	if st.count > 0 {
		if e := st.newest(); e.at == at {
			e.n += n
			st.sum += n
			return
		}
	}
	if st.count == len(st.buf) {
		nb := make([]slEvent, max(4, 2*len(st.buf)))
		for i := 0; i < st.count; i++ {
			nb[i] = *st.at(i)
		}
		st.buf, st.head = nb, 0
	}
	*st.at(st.count) = slEvent{at: at, n: n}
	st.count++
	st.sum += n
}

// decide is AllowN at t (Unix ns), writing the decision to d. Allow and
// AllowN pass their named result: a Decision received from a call and
// returned would be copied through the stack (see TokenBucket.decide).
func (sl *SlidingLog) decide(key string, n int, t int64, d *Decision) {
	e, p := sl.lookup(key, t)
	p.slide(&e.st, n, t, d)
	e.mu.Unlock()
	d.settle()
}

func (p *winPolicy) slide(st *slState, n int, now int64, d *Decision) {
	t := max(now, st.last)
	st.last = t
	cut := exact.SubSat(t, p.window)
	for st.count > 0 && st.buf[st.head].at <= cut {
		st.sum -= st.buf[st.head].n
		st.head = (st.head + 1) % len(st.buf)
		st.count--
	}
	*d = Decision{Limit: int(p.limit), Window: time.Duration(p.window)}
	switch {
	case n <= 0 || int64(n) > p.limit:
		d.RetryAfter = Never
	case st.sum+int64(n) <= p.limit:
		st.push(t, int64(n))
		d.Allowed = true
	default:
		// Wait until enough of the oldest events leave the window.
		need := st.sum + int64(n) - p.limit
		for i := 0; i < st.count; i++ {
			e := st.at(i)
			if need -= e.n; need <= 0 {
				d.RetryAfter = time.Duration(exact.SubSat(exact.AddSat(e.at, p.window), now))
				break
			}
		}
	}
	d.Remaining = int(p.limit - st.sum)
	if st.count > 0 {
		d.ResetAfter = time.Duration(exact.SubSat(exact.AddSat(st.newest().at, p.window), now))
	}
}
