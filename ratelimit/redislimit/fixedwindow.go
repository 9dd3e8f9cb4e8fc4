package redislimit

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sysblocks/sysblocks/ratelimit"
	"github.com/sysblocks/sysblocks/ratelimit/internal/exact"
)

// fwScript decides one request of a fixed window. The key holds "fw <hi>
// <lo> <count>": the index k of the window the count belongs to, split as
// splitIndex splits it (k may exceed 2^53), and the count. A key whose
// window is later than now's is counted in its own window (time never runs
// backwards for a key), keeping its expiry. A key seen in a new window
// moves to it, even by a request that is not counted, as the in-memory
// limiter's state does (so that a later instant in an earlier window counts
// in the new one); the expiry is then the window's end plus the margin.
//
// ARGV: k's hi, k's lo, limit, n (0: only read), ttl ms.
// Reply: {allowed, hi, lo, count}, or {-1} for a foreign value.
var fwScript = redis.NewScript(`
local khi, klo = tonumber(ARGV[1]), tonumber(ARGV[2])
local limit, n = tonumber(ARGV[3]), tonumber(ARGV[4])
local s = redis.pcall('GET', KEYS[1])
if type(s) == 'table' then return {-1} end
local hi, lo, count, keep = ARGV[1], ARGV[2], 0, false
if s then
  local a, b, c = string.match(s, '^fw (-?%d+) (%d+) (%d+)$')
  if not c then return {-1} end
  local whi, wlo = tonumber(a), tonumber(b)
  if whi > khi or (whi == khi and wlo >= klo) then
    hi, lo, count, keep = a, b, tonumber(c), true
  end
end
local ok = n > 0 and count + n <= limit
if ok then count = count + n end
if ok or not keep then
  local v = 'fw ' .. hi .. ' ' .. lo .. ' ' .. string.format('%d', count)
  if keep then
    redis.call('SET', KEYS[1], v, 'KEEPTTL')
  else
    redis.call('SET', KEYS[1], v, 'PX', ARGV[5])
  end
end
if ok then return {1, hi, lo, count} end
return {0, hi, lo, count}
`)

// FixedWindow counts requests per key in Redis in fixed windows aligned to
// the Unix epoch (window k covers [k·window, (k+1)·window) since 1970-01-01
// UTC), deciding exactly as ratelimit.FixedWindow does for the same
// instants, so in-memory and Redis limiters agree on the boundaries. It
// never allows more than limit in one window, whatever the number of
// processes sharing the Redis server.
//
// A FixedWindow is safe for concurrent use. Create it with NewFixedWindow;
// the zero value is not usable.
type FixedWindow struct {
	core[winPolicy]
}

var _ ratelimit.Limiter = (*FixedWindow)(nil)

// NewFixedWindow returns a fixed-window limiter allowing limit requests per
// key in each window, kept in Redis through client. limit must be in [1,
// ratelimit.MaxLimit] and window positive; otherwise the error wraps
// ratelimit.ErrInvalidLimit or ratelimit.ErrInvalidWindow. It does not
// contact Redis.
func NewFixedWindow(client redis.Scripter, limit int, window time.Duration, opts ...Option) (*FixedWindow, error) {
	c, err := newCore(client, fwScript, "ratelimit:fw:", ratelimit.Policy{Limit: limit, Window: window}, newWinPolicy, opts)
	if err != nil {
		return nil, err
	}
	return &FixedWindow{c}, nil
}

// Allow is AllowN(key, 1, now) with now from the limiter's clock.
func (fw *FixedWindow) Allow(key string) ratelimit.Decision {
	return fw.AllowN(key, 1, fw.cfg.clock())
}

// AllowN reports whether n more requests fit in key's window holding now
// and counts them if so, in one round trip bounded by the client's timeouts
// and WithTimeout; when Redis cannot decide, the error goes to the error
// handler and the failure policy answers. An instant in a window earlier
// than the key's latest is counted in the latest. n <= 0 or n > limit yields
// Allowed false and RetryAfter ratelimit.Never, counting nothing.
func (fw *FixedWindow) AllowN(key string, n int, now time.Time) ratelimit.Decision {
	return fw.allowN(key, n, now, fw.AllowNContext)
}

// AllowNContext is AllowN with the caller's context and the error: when
// Redis cannot decide it returns the error and the failure policy's
// Decision, and calls no error handler.
func (fw *FixedWindow) AllowNContext(ctx context.Context, key string, n int, now time.Time) (ratelimit.Decision, error) {
	p := fw.policy(key)
	t := exact.UnixNano(now)
	k := exact.FloorDiv(t, p.window)
	valid := n > 0 && int64(n) <= p.limit
	hi, lo := splitIndex(k)
	var nArg int
	if valid {
		nArg = n
	}
	ttl := ttlMs(p.start(exact.AddSat(k, 1)), t, fw.cfg.marginMs)
	res, err := fw.run(ctx, key, hi, lo, p.limitArg, nArg, ttl)
	var allowed bool
	var c [2]int64
	if err == nil {
		allowed, k, c, err = winReply(key, res, 1)
	}
	if err != nil {
		return fw.cfg.failDecision(valid, n, int(p.limit), time.Duration(p.window)), err
	}
	return p.fixed(k, c[0], allowed, valid, t), nil
}

// fixed builds the Decision ratelimit.FixedWindow gives, from the window and
// count after the script's decision.
func (p *winPolicy) fixed(k, count int64, allowed, valid bool, t int64) ratelimit.Decision {
	end := p.start(exact.AddSat(k, 1))
	d := p.base()
	switch {
	case !valid:
		d.RetryAfter = ratelimit.Never
	case allowed:
		d.Allowed = true
	default:
		d.RetryAfter = time.Duration(exact.SubSat(end, t))
	}
	d.Remaining = int(p.limit - count)
	if count > 0 {
		d.ResetAfter = time.Duration(exact.SubSat(end, t))
	}
	return settle(d)
}
