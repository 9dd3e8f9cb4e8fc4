package redislimit

import (
	"context"
	"math"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sysblocks/sysblocks/ratelimit"
	"github.com/sysblocks/sysblocks/ratelimit/internal/exact"
)

// swScript decides one request of a sliding-window counter. The key holds
// "sw <hi> <lo> <cur> <prev>": the index k of the current window (split as
// splitIndex splits it) and the counts of windows k and k−1. The test
// prev·rest <= (limit−cur−n)·window, with rest the part of the previous
// window the sliding window still covers, is done exactly: the products
// reach 2^103, so they are computed in 21-bit limbs, each partial product
// below 2^53 where float64 is exact. A key seen in a later window moves to
// it (the counts shift) even when the request is not counted, as the
// in-memory state does; a key whose window is later than now's keeps it and
// its expiry.
//
// ARGV: k's hi and lo, (k−1)'s hi and lo, limit, n (0: only read), rest's
// three limbs, window's three limbs (low first), ttl ms.
// Reply: {allowed, hi, lo, cur, prev}, or {-1} for a foreign value.
var swScript = redis.NewScript(`
local B = 2097152
local function mul(a, x)
  local a1 = math.floor(a / B)
  local a0 = a - a1 * B
  local p = {a0 * x[1], a0 * x[2] + a1 * x[1], a0 * x[3] + a1 * x[2], a1 * x[3], 0}
  for i = 1, 4 do
    local q = math.floor(p[i] / B)
    p[i] = p[i] - q * B
    p[i + 1] = p[i + 1] + q
  end
  return p
end
local function le(p, q)
  for i = 5, 1, -1 do
    if p[i] ~= q[i] then return p[i] < q[i] end
  end
  return true
end
local khi, klo = tonumber(ARGV[1]), tonumber(ARGV[2])
local phi, plo = tonumber(ARGV[3]), tonumber(ARGV[4])
local limit, n = tonumber(ARGV[5]), tonumber(ARGV[6])
local rest = {tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])}
local w = {tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])}
local s = redis.pcall('GET', KEYS[1])
if type(s) == 'table' then return {-1} end
local hi, lo, cur, prev, mode = ARGV[1], ARGV[2], 0, 0, 'moved'
if s then
  local a, b, c, d = string.match(s, '^sw (-?%d+) (%d+) (%d+) (%d+)$')
  if not d then return {-1} end
  local whi, wlo = tonumber(a), tonumber(b)
  if whi == khi and wlo == klo then
    cur, prev, mode = tonumber(c), tonumber(d), 'same'
  elseif whi == phi and wlo == plo then
    prev = tonumber(c)
  elseif whi > khi or (whi == khi and wlo > klo) then
    hi, lo, cur, prev, mode, rest = a, b, tonumber(c), tonumber(d), 'later', w
  end
end
local free = limit - cur - n
local ok = n > 0 and free >= 0 and le(mul(prev, rest), mul(free, w))
if ok then cur = cur + n end
if ok or mode == 'moved' then
  local v = 'sw ' .. hi .. ' ' .. lo .. ' ' .. string.format('%d %d', cur, prev)
  if mode == 'later' then
    redis.call('SET', KEYS[1], v, 'KEEPTTL')
  else
    redis.call('SET', KEYS[1], v, 'PX', ARGV[13])
  end
end
if ok then return {1, hi, lo, cur, prev} end
return {0, hi, lo, cur, prev}
`)

// SlidingWindow is the sliding-window counter (Cloudflare's) kept in Redis:
// per key, the counts of the current and the previous epoch-aligned window,
// the previous one weighted by the part of it the sliding window still
// covers. It decides exactly as ratelimit.SlidingWindow does for the same
// instants (the weighted comparison is exact integer arithmetic in both).
//
// A SlidingWindow is safe for concurrent use. Create it with
// NewSlidingWindow; the zero value is not usable.
type SlidingWindow struct {
	core[winPolicy]
}

var _ ratelimit.Limiter = (*SlidingWindow)(nil)

// NewSlidingWindow returns a sliding-window-counter limiter allowing about
// limit requests per key in any interval of length window, kept in Redis
// through client. limit must be in [1, ratelimit.MaxLimit] and window
// positive; otherwise the error wraps ratelimit.ErrInvalidLimit or
// ratelimit.ErrInvalidWindow. It does not contact Redis.
func NewSlidingWindow(client redis.Scripter, limit int, window time.Duration, opts ...Option) (*SlidingWindow, error) {
	c, err := newCore(client, swScript, "ratelimit:sw:", ratelimit.Policy{Limit: limit, Window: window}, newWinPolicy, opts)
	if err != nil {
		return nil, err
	}
	return &SlidingWindow{c}, nil
}

// Allow is AllowN(key, 1, now) with now from the limiter's clock.
func (sw *SlidingWindow) Allow(key string) ratelimit.Decision {
	return sw.AllowN(key, 1, sw.cfg.clock())
}

// AllowN reports whether n more requests fit under key's weighted count
// prev·(1−elapsed/window) + cur and counts them if so, in one round trip
// bounded by the client's timeouts and WithTimeout; when Redis cannot
// decide, the error goes to the error handler and the failure policy
// answers. An instant in a window earlier than the key's latest is taken as
// the start of the latest. n <= 0 or n > limit yields Allowed false and
// RetryAfter ratelimit.Never, counting nothing.
func (sw *SlidingWindow) AllowN(key string, n int, now time.Time) ratelimit.Decision {
	return sw.allowN(key, n, now, sw.AllowNContext)
}

// AllowNContext is AllowN with the caller's context and the error: when
// Redis cannot decide it returns the error and the failure policy's
// Decision, and calls no error handler.
func (sw *SlidingWindow) AllowNContext(ctx context.Context, key string, n int, now time.Time) (ratelimit.Decision, error) {
	p := sw.policy(key)
	t := exact.UnixNano(now)
	k := exact.FloorDiv(t, p.window)
	valid := n > 0 && int64(n) <= p.limit
	var nArg int
	if valid {
		nArg = n
	}
	hi, lo := splitIndex(k)
	var phi, plo int64
	if k == math.MinInt64 { // no window k−1: a pair no key holds
		phi, plo = k>>indexShift-1, 0
	} else {
		phi, plo = splitIndex(k - 1)
	}
	off := max(exact.SubSat(t, p.start(k)), 0)
	rest := limbs(uint64(p.window) - uint64(off))
	ttl := ttlMs(p.start(exact.AddSat(k, 2)), t, sw.cfg.marginMs)
	res, err := sw.run(ctx, key, hi, lo, phi, plo, p.limitArg, nArg,
		rest[0], rest[1], rest[2], p.wLimbs[0], p.wLimbs[1], p.wLimbs[2], ttl)
	var allowed bool
	var c [2]int64
	if err == nil {
		allowed, k, c, err = winReply(key, res, 2)
	}
	if err != nil {
		return sw.cfg.failDecision(valid, n, int(p.limit), time.Duration(p.window)), err
	}
	return p.weighted(k, c[0], c[1], allowed, n, valid, t), nil
}

// weighted builds the Decision ratelimit.SlidingWindow gives, from the
// window and counts after the script's decision.
func (p *winPolicy) weighted(k, cur, prev int64, allowed bool, n int, valid bool, t int64) ratelimit.Decision {
	start := p.start(k)
	off := max(exact.SubSat(t, start), 0)
	w := uint64(p.window)
	rest := w - uint64(off)
	d := p.base()
	switch free := p.limit - cur - int64(n); {
	case !valid:
		d.RetryAfter = ratelimit.Never
	case allowed:
		d.Allowed = true
	case free >= 0 && prev > 0:
		// Later in this window: prev·(w−off') <= free·w.
		q, _ := exact.MulDiv(uint64(free), w, uint64(prev))
		d.RetryAfter = time.Duration(exact.AddSat(start, int64(w-q)) - t)
	case free < 0 && cur > 0:
		// In the next window cur becomes the previous one.
		q, _ := exact.MulDiv(uint64(p.limit-int64(n)), w, uint64(cur))
		d.RetryAfter = time.Duration(exact.SubSat(exact.AddSat(p.start(exact.AddSat(k, 1)), int64(w-q)), t))
	default: // a denial the counts do not explain: the script never replies so
		d.RetryAfter = ratelimit.Never
	}
	used, inexact := exact.MulDiv(uint64(prev), rest, w)
	if inexact {
		used++
	}
	d.Remaining = int(max(p.limit-cur-int64(used), 0))
	switch {
	case cur > 0:
		d.ResetAfter = time.Duration(exact.SubSat(p.start(exact.AddSat(k, 2)), t))
	case prev > 0 && rest > 0:
		d.ResetAfter = time.Duration(exact.SubSat(p.start(exact.AddSat(k, 1)), t))
	}
	return settle(d)
}
