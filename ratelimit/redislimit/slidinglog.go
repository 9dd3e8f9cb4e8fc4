package redislimit

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sysblocks/sysblocks/ratelimit"
	"github.com/sysblocks/sysblocks/ratelimit/internal/exact"
)

// slScript decides one request of a sliding log. The key is a hash: field
// "sl" marks it, "ls" and "ln" hold the latest instant the key has seen
// (split into seconds and nanoseconds), "sum" the total n of the log, "h"
// and "t" the sequence numbers of its oldest and one past its newest event,
// and each event i is field i, "<sec> <nsec> <n>". Events are in time order
// (instants never run backwards for a key), so expiry pops from the head and
// a request pushes at the tail, merging with an event at the same instant:
// O(1) amortised, like the in-memory ring. A denial walks from the head to
// the event whose expiry makes room, as the in-memory limiter does.
//
// ARGV: n (0: only slide), limit, now's sec and nsec, window's sec and nsec,
// margin ms.
// Reply: {allowed, sum, events, retry event's sec, nsec, newest event's sec,
// nsec} (the instants "" when absent), or {-1} for a foreign value.
var slScript = redis.NewScript(`
local k = KEYS[1]
local n, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local ns, nn = tonumber(ARGV[3]), tonumber(ARGV[4])
local wsec, wnsec = tonumber(ARGV[5]), tonumber(ARGV[6])
local typ = redis.call('TYPE', k)['ok']
if typ ~= 'none' and typ ~= 'hash' then return {-1} end
local ts, tn, sum, head, tail = ns, nn, 0, 0, 0
if typ == 'hash' then
  local h = redis.call('HMGET', k, 'sl', 'ls', 'ln', 'sum', 'h', 't')
  local ls, ln = tonumber(h[2]), tonumber(h[3])
  sum, head, tail = tonumber(h[4]), tonumber(h[5]), tonumber(h[6])
  if h[1] ~= '1' or not (ls and ln and sum and head and tail) then return {-1} end
  if ls > ts or (ls == ts and ln > tn) then ts, tn = ls, ln end
end
local function ev(i)
  local v = redis.call('HGET', k, string.format('%d', i))
  if not v then return nil end
  local a, b, c = string.match(v, '^(-?%d+) (%d+) (%d+)$')
  return tonumber(a), tonumber(b), tonumber(c)
end
-- cut = t − window, saturating at the earliest Unix nanosecond.
local cs, cn = ts - wsec, tn - wnsec
if cn < 0 then cn = cn + 1e9; cs = cs - 1 end
if cs < -9223372037 or (cs == -9223372037 and cn < 145224192) then cs, cn = -9223372037, 145224192 end
while head < tail do
  local es, en, e = ev(head)
  if not e then return {-1} end
  if es > cs or (es == cs and en > cn) then break end
  sum = sum - e
  redis.call('HDEL', k, string.format('%d', head))
  head = head + 1
end
if head == tail then head, tail = 0, 0 end
local allowed, rs, rn = 0, '', ''
if n > 0 and sum + n <= limit then
  allowed = 1
  local es, en, e
  if head < tail then es, en, e = ev(tail - 1) end
  if e and es == ts and en == tn then
    redis.call('HSET', k, string.format('%d', tail - 1), string.format('%d %d %d', ts, tn, e + n))
  else
    redis.call('HSET', k, string.format('%d', tail), string.format('%d %d %d', ts, tn, n))
    tail = tail + 1
  end
  sum = sum + n
elseif n > 0 then
  local need = sum + n - limit
  for i = head, tail - 1 do
    local es, en, e = ev(i)
    need = need - e
    if need <= 0 then rs, rn = string.format('%d', es), string.format('%d', en) break end
  end
end
redis.call('HSET', k, 'sl', '1', 'ls', string.format('%d', ts), 'ln', string.format('%d', tn),
  'sum', string.format('%d', sum), 'h', string.format('%d', head), 't', string.format('%d', tail))
local ws, wn, ms = '', '', 0
if head < tail then
  local es, en = ev(tail - 1)
  ws, wn = string.format('%d', es), string.format('%d', en)
  ms = math.ceil((es + wsec - ns) * 1000 + (en + wnsec - nn) / 1e6) + 1
  if ms < 0 then ms = 0 end
end
ms = ms + tonumber(ARGV[7])
if ms < 1 then ms = 1 end
if ms > 1e15 then ms = 1e15 end
redis.call('PEXPIRE', k, string.format('%d', ms))
return {allowed, sum, tail - head, rs, rn, ws, wn}
`)

// SlidingLog keeps, per key in Redis, the log of allowed requests of the
// last window, and allows a request only if the requests in (now−window,
// now] plus it stay within limit: no interval of length window ever holds
// more than limit allowed requests, across all processes sharing the server.
// It decides exactly as ratelimit.SlidingLog does for the same instants. A
// key costs one Redis hash with one field per distinct allowed instant still
// in the window (at most limit).
//
// A SlidingLog is safe for concurrent use. Create it with NewSlidingLog; the
// zero value is not usable.
type SlidingLog struct {
	core[winPolicy]
}

var _ ratelimit.Limiter = (*SlidingLog)(nil)

// NewSlidingLog returns a sliding-log limiter allowing limit requests per
// key in any interval of length window, kept in Redis through client. limit
// must be in [1, ratelimit.MaxLimit] and window positive; otherwise the error
// wraps ratelimit.ErrInvalidLimit or ratelimit.ErrInvalidWindow. It does not
// contact Redis.
func NewSlidingLog(client redis.Scripter, limit int, window time.Duration, opts ...Option) (*SlidingLog, error) {
	c, err := newCore(client, slScript, "ratelimit:sl:", ratelimit.Policy{Limit: limit, Window: window}, newWinPolicy, opts)
	if err != nil {
		return nil, err
	}
	return &SlidingLog{c}, nil
}

// Allow is AllowN(key, 1, now) with now from the limiter's clock.
func (sl *SlidingLog) Allow(key string) ratelimit.Decision {
	return sl.AllowN(key, 1, sl.cfg.clock())
}

// AllowN reports whether n more requests fit in key's window (now−window,
// now] and logs them if so, in one round trip bounded by the client's
// timeouts and WithTimeout; when Redis cannot decide, the error goes to the
// error handler and the failure policy answers. An instant before the latest
// one the key has seen is taken as that one. n <= 0 or n > limit yields
// Allowed false and RetryAfter ratelimit.Never, logging nothing. Cost in
// Redis: O(1) amortised, plus a walk of the log on a denial.
func (sl *SlidingLog) AllowN(key string, n int, now time.Time) ratelimit.Decision {
	return sl.allowN(key, n, now, sl.AllowNContext)
}

// AllowNContext is AllowN with the caller's context and the error: when
// Redis cannot decide it returns the error and the failure policy's
// Decision, and calls no error handler.
func (sl *SlidingLog) AllowNContext(ctx context.Context, key string, n int, now time.Time) (ratelimit.Decision, error) {
	p := sl.policy(key)
	t := exact.UnixNano(now)
	valid := n > 0 && int64(n) <= p.limit
	var nArg int
	if valid {
		nArg = n
	}
	sec, nsec := splitInstant(t)
	res, err := sl.run(ctx, key, nArg, p.limitArg, sec, nsec, p.wSec, p.wNsec, sl.cfg.marginArg)
	var r slReply
	if err == nil {
		r, err = parseSL(key, res)
	}
	if err != nil {
		return sl.cfg.failDecision(valid, n, int(p.limit), time.Duration(p.window)), err
	}
	d := p.base()
	switch {
	case !valid:
		d.RetryAfter = ratelimit.Never
	case r.allowed:
		d.Allowed = true
	case r.hasRetry:
		d.RetryAfter = time.Duration(exact.SubSat(exact.AddSat(r.retry, p.window), t))
	}
	d.Remaining = int(p.limit - r.sum)
	if r.events > 0 {
		d.ResetAfter = time.Duration(exact.SubSat(exact.AddSat(r.newest, p.window), t))
	}
	return settle(d), nil
}

type slReply struct {
	allowed       bool
	sum, events   int64
	hasRetry      bool
	retry, newest int64 // Unix ns
}

func parseSL(key string, res []any) (slReply, error) {
	bad := corrupt(key, "a value the limiter did not write")
	if len(res) != 7 {
		return slReply{}, bad
	}
	var r slReply
	a, ok1 := res[0].(int64)
	sum, ok2 := res[1].(int64)
	events, ok3 := res[2].(int64)
	if !ok1 || !ok2 || !ok3 {
		return slReply{}, bad
	}
	r.allowed, r.sum, r.events = a == 1, sum, events
	instant := func(i int) (int64, bool, error) {
		s, _ := res[i].(string)
		ns, _ := res[i+1].(string)
		if s == "" {
			return 0, false, nil
		}
		sec, err1 := strconv.ParseInt(s, 10, 64)
		nsec, err2 := strconv.ParseInt(ns, 10, 64)
		if err1 != nil || err2 != nil {
			return 0, false, bad
		}
		return joinInstant(sec, nsec), true, nil
	}
	var err error
	if r.retry, r.hasRetry, err = instant(3); err != nil {
		return slReply{}, err
	}
	if r.newest, _, err = instant(5); err != nil {
		return slReply{}, err
	}
	return r, nil
}
