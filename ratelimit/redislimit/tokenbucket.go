package redislimit

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sysblocks/sysblocks/ratelimit"
	"github.com/sysblocks/sysblocks/ratelimit/internal/exact"
)

// tbScript decides one request of a token bucket. The key holds
// "tb <sec> <nsec> <tokens>": x/time/rate's state, the instant of the last
// allowed event split into whole seconds and nanoseconds (exact in Lua's
// float64 numbers) and the token count then, printed with 17 significant
// digits so that it reads back bit for bit. The refill repeats x/time/rate's
// float64 operations in its order: (sec + nsec/1e9)·rate, added to tokens,
// capped at burst. A missing key is a full bucket.
//
// ARGV: rate, burst, n (0: only read), now's sec, now's nsec, margin ms.
// Reply: {allowed, stored state or ""}, or {-1} for a foreign value.
var tbScript = redis.NewScript(`
local rate, burst, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local ts, tn = tonumber(ARGV[4]), tonumber(ARGV[5])
local s = redis.pcall('GET', KEYS[1])
local tokens = burst
if type(s) == 'table' then return {-1} end
if s then
  local a, b, c = string.match(s, '^tb (-?%d+) (%d+) (%S+)$')
  local ls, ln = tonumber(a), tonumber(b)
  tokens = tonumber(c)
  if not (ls and ln and tokens) then return {-1} end
  if ts < ls or (ts == ls and tn < ln) then ls, ln = ts, tn end
  local ds, dn = ts - ls, tn - ln
  if dn < 0 then dn = dn + 1e9; ds = ds - 1 end
  if ds > 9223372036 or (ds == 9223372036 and dn > 854775807) or
     (ls == -9223372037 and ln == 145224192) then
    ds, dn = 9223372036, 854775807
  end
  tokens = tokens + (ds + dn / 1e9) * rate
  if tokens > burst then tokens = burst end
else
  s = ''
end
if n <= 0 then return {0, s} end
local after = tokens - n
if after < 0 and (-after / rate) * 1e9 >= 1 then return {0, s} end
local ms = math.ceil((burst - after) / rate * 1000) + tonumber(ARGV[6])
if ms > 1e15 then ms = 1e15 end
redis.call('SET', KEYS[1], 'tb ' .. ARGV[4] .. ' ' .. ARGV[5] .. ' ' .. string.format('%.17g', after),
  'PX', string.format('%d', ms))
return {1, s}
`)

// TokenBucket is a token bucket per key kept in Redis, deciding exactly as
// ratelimit.TokenBucket (and so golang.org/x/time/rate's Limiter.AllowN)
// decides for the same rate, burst and instants: the script keeps
// x/time/rate's state and repeats its float64 arithmetic, and the Decision's
// other fields are derived in Go as ratelimit.TokenBucket derives them.
//
// A TokenBucket is safe for concurrent use, from any number of processes
// sharing the Redis server: each decision is one atomic script. Create it
// with NewTokenBucket; the zero value is not usable.
type TokenBucket struct {
	core[tbPolicy]
}

var _ ratelimit.Limiter = (*TokenBucket)(nil)

// NewTokenBucket returns a token bucket limiter with rate tokens per second
// and burst tokens of capacity per key, kept in Redis through client (a
// *redis.Client, *redis.ClusterClient or *redis.Ring). rate must be in
// (0, ratelimit.MaxRate] and burst in [1, ratelimit.MaxLimit]; otherwise the
// error wraps ratelimit.ErrInvalidRate or ratelimit.ErrInvalidLimit. It does
// not contact Redis.
func NewTokenBucket(client redis.Scripter, rate float64, burst int, opts ...Option) (*TokenBucket, error) {
	c, err := newCore(client, tbScript, "ratelimit:tb:", ratelimit.Policy{Rate: rate, Limit: burst}, newTBPolicy, opts)
	if err != nil {
		return nil, err
	}
	return &TokenBucket{c}, nil
}

type tbPolicy struct {
	rate       float64
	burst      int
	rateArg    any // the script's arguments, boxed once
	burstArg   any
	window     time.Duration
	nsPerToken float64
}

func newTBPolicy(p ratelimit.Policy) (tbPolicy, error) {
	if err := checkRate(p.Rate); err != nil {
		return tbPolicy{}, err
	}
	if err := checkLimit("burst", p.Limit); err != nil {
		return tbPolicy{}, err
	}
	tp := tbPolicy{rate: p.Rate, burst: p.Limit, nsPerToken: 1e9 / p.Rate,
		rateArg: strconv.FormatFloat(p.Rate, 'g', -1, 64), burstArg: strconv.Itoa(p.Limit)}
	tp.window = time.Duration(exact.FillTime(p.Rate, p.Limit))
	return tp, nil
}

// tbState is a bucket's state as the script read it: the last allowed
// instant (Unix ns) and the tokens then; a missing key is fresh.
type tbState struct {
	fresh  bool
	last   int64
	tokens float64
}

// Allow is AllowN(key, 1, now) with now from the limiter's clock.
func (tb *TokenBucket) Allow(key string) ratelimit.Decision {
	return tb.AllowN(key, 1, tb.cfg.clock())
}

// AllowN reports whether n tokens may be taken from key's bucket at now and
// takes them if so, in one round trip to Redis, bounded by the client's
// timeouts and WithTimeout. When Redis cannot decide, the error goes to the
// error handler and the failure policy answers (WithFailOpen,
// WithFailClosed). n <= 0 or n > burst yields Allowed false and RetryAfter
// ratelimit.Never, changing nothing (it still reads the bucket, for
// Remaining and ResetAfter).
func (tb *TokenBucket) AllowN(key string, n int, now time.Time) ratelimit.Decision {
	return tb.allowN(key, n, now, tb.AllowNContext)
}

// AllowNContext is AllowN with the caller's context and the error: when
// Redis cannot decide it returns the error (wrapping ErrCorruptState for a
// foreign value at the key) and the Decision the failure policy gives, and
// calls no error handler. For n <= 0 or n > burst the Decision has
// RetryAfter ratelimit.Never even if the error is not nil.
func (tb *TokenBucket) AllowNContext(ctx context.Context, key string, n int, now time.Time) (ratelimit.Decision, error) {
	p := tb.policy(key)
	t := exact.UnixNano(now)
	valid := n > 0 && n <= p.burst
	sec, nsec := splitInstant(t)
	var nArg int
	if valid {
		nArg = n
	}
	res, err := tb.run(ctx, key, p.rateArg, p.burstArg, nArg, sec, nsec, tb.cfg.marginArg)
	var st tbState
	if err == nil {
		st, err = parseTB(key, res)
	}
	if err != nil {
		return tb.cfg.failDecision(valid, n, p.burst, p.window), err
	}
	return p.decide(st, res[0] == int64(1), n, valid, t), nil
}

func parseTB(key string, res []any) (tbState, error) {
	if len(res) != 2 {
		return tbState{}, corrupt(key, "a value the limiter did not write")
	}
	s, _ := res[1].(string)
	if s == "" {
		return tbState{fresh: true, last: math.MinInt64}, nil
	}
	f := strings.Fields(s)
	if len(f) != 4 || f[0] != "tb" {
		return tbState{}, corrupt(key, strconv.Quote(s))
	}
	sec, err1 := strconv.ParseInt(f[1], 10, 64)
	nsec, err2 := strconv.ParseInt(f[2], 10, 64)
	tokens, err3 := strconv.ParseFloat(f[3], 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return tbState{}, corrupt(key, strconv.Quote(s))
	}
	return tbState{last: joinInstant(sec, nsec), tokens: tokens}, nil
}

// decide builds the Decision the in-memory TokenBucket gives, from the state
// the script read and whether it allowed.
func (p *tbPolicy) decide(st tbState, allowed bool, n int, valid bool, t int64) ratelimit.Decision {
	tokens := p.advance(st, t)
	d := ratelimit.Decision{Limit: p.burst, Window: p.window}
	switch {
	case !valid:
		d.RetryAfter = ratelimit.Never
	case allowed:
		tokens -= float64(n)
		d.Allowed = true
	default:
		d.RetryAfter = time.Duration(p.retryAfter(st, n, t, int64(p.wait(tokens-float64(n)))))
		if d.RetryAfter <= 0 {
			d.RetryAfter = ratelimit.Never
		}
	}
	d.Remaining, d.ResetAfter = p.remaining(tokens), p.resetAfter(tokens)
	return d
}

// advance is x/time/rate's advance, as the script computes it.
func (p *tbPolicy) advance(st tbState, t int64) float64 {
	if st.fresh {
		return float64(p.burst)
	}
	return exact.Refill(st.tokens, st.last, t, p.rate, p.burst)
}

// wait is x/time/rate's durationFromTokens(-tokens).
func (p *tbPolicy) wait(tokens float64) time.Duration {
	return time.Duration(exact.Wait(tokens, p.rate))
}

// retryAfter is the first wait w >= 1 after which a request for n denied at
// t would be allowed, exactly as ratelimit's.
func (p *tbPolicy) retryAfter(st tbState, n int, t, est int64) int64 {
	if st.fresh {
		st.tokens, st.last = float64(p.burst), math.MinInt64 // as ratelimit's new bucket
	}
	return exact.Retry(st.tokens, st.last, n, t, est, p.rate, p.burst)
}

func (p *tbPolicy) remaining(tokens float64) int { return exact.Remaining(tokens, p.burst) }

// resetAfter is ratelimit's estimate of the time until the bucket is full.
func (p *tbPolicy) resetAfter(tokens float64) time.Duration {
	return time.Duration(exact.ResetAfter(tokens, p.burst, p.nsPerToken))
}
