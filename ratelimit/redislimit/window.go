package redislimit

import (
	"strconv"
	"time"

	"github.com/sysblocks/sysblocks/ratelimit"
	"github.com/sysblocks/sysblocks/ratelimit/internal/exact"
)

// winPolicy is the policy of the window limiters.
type winPolicy struct {
	limit    int64
	window   int64  // ns
	limitArg any    // boxed once
	wLimbs   [3]any // window in 21-bit limbs, for the sliding window
	wSec     any    // window in whole seconds and nanoseconds, for the sliding log
	wNsec    any
}

func newWinPolicy(p ratelimit.Policy) (winPolicy, error) {
	if err := checkLimit("limit", p.Limit); err != nil {
		return winPolicy{}, err
	}
	if err := checkWindow(p.Window); err != nil {
		return winPolicy{}, err
	}
	l := limbs(uint64(p.Window))
	return winPolicy{limit: int64(p.Limit), window: int64(p.Window), limitArg: strconv.Itoa(p.Limit),
		wLimbs: [3]any{l[0], l[1], l[2]}, wSec: int64(p.Window / 1e9), wNsec: int64(p.Window % 1e9)}, nil
}

// start returns the start of window k, saturating.
func (p *winPolicy) start(k int64) int64 { return exact.MulSat(k, p.window) }

func (p *winPolicy) base() ratelimit.Decision {
	return ratelimit.Decision{Limit: int(p.limit), Window: time.Duration(p.window)}
}

// ttlMs is the time to live of a key written at t whose state is equivalent
// to a fresh key's from the instant idle on: idle−t plus the margin, in
// milliseconds, at least 1.
func ttlMs(idle, t, marginMs int64) int64 {
	return min(max(ceilMs(exact.SubSat(idle, t))+marginMs, 1), maxTTL)
}

// winReply reads a window script's reply {allowed, hi, lo, counts...}.
func winReply(key string, res []any, counts int) (allowed bool, k int64, c [2]int64, err error) {
	if len(res) != 3+counts {
		return false, 0, c, corrupt(key, "a value the limiter did not write")
	}
	a, ok1 := res[0].(int64)
	hs, ok2 := res[1].(string)
	ls, ok3 := res[2].(string)
	hi, err1 := strconv.ParseInt(hs, 10, 64)
	lo, err2 := strconv.ParseInt(ls, 10, 64)
	if !ok1 || !ok2 || !ok3 || err1 != nil || err2 != nil {
		return false, 0, c, corrupt(key, "a value the limiter did not write")
	}
	for i := 0; i < counts; i++ {
		v, ok := res[3+i].(int64)
		if !ok {
			return false, 0, c, corrupt(key, "a value the limiter did not write")
		}
		c[i] = v
	}
	return a == 1, joinIndex(hi, lo), c, nil
}

// settle marks a denial whose wait cannot be expressed as Never, as
// ratelimit does.
func settle(d ratelimit.Decision) ratelimit.Decision {
	if !d.Allowed && d.RetryAfter <= 0 {
		d.RetryAfter = ratelimit.Never
	}
	return d
}
