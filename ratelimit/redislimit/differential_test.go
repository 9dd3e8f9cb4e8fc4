package redislimit_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/sysblocks/sysblocks/internal/testseed"
	"github.com/sysblocks/sysblocks/ratelimit"
	"github.com/sysblocks/sysblocks/ratelimit/internal/exact"
	"github.com/sysblocks/sysblocks/ratelimit/redislimit"
)

// The in-memory limiters of package ratelimit are the oracle: for the same
// policy, keys, n and instants a Redis limiter must return the same Decision,
// field for field. The expiry margin is an hour so that Redis never expires
// a key while the simulated clock, far faster than the real one, still
// needs it.
var testMargin = redislimit.WithExpiryMargin(time.Hour)

// pair is a Redis limiter and its in-memory oracle.
type pair struct {
	name      string
	got, want ratelimit.Limiter
	limit     int
	unit      int64 // a typical step between instants, ns
}

func traceCounts() (traces, steps int) {
	if testseed.Long() {
		return 400, 3000
	}
	return 40, 500
}

// randRate draws rates of every kind: whole, decimal fractions float64
// cannot represent, awkward ratios, and random floats across decades.
func randRate(rng *rand.Rand) float64 {
	switch rng.IntN(6) {
	case 0:
		return float64(1 + rng.IntN(1000))
	case 1:
		return float64(1+rng.IntN(100)) / 10
	case 2:
		return 1 / float64(1+rng.IntN(50))
	case 3:
		return float64(1+rng.IntN(7)) / 3
	case 4:
		return math.Pow(10, rng.Float64()*12-3) // 1e-3 .. 1e9
	default:
		return rng.Float64()*100 + 1e-9
	}
}

// randWindow draws windows from a nanosecond to centuries, and limits from 1
// to ratelimit.MaxLimit.
func randWindow(rng *rand.Rand) (limit int, window time.Duration) {
	limit = 1 + rng.IntN(10)
	switch rng.IntN(8) {
	case 0:
		limit = 1 + rng.IntN(1000)
	case 1:
		limit = min(ratelimit.MaxLimit, math.MaxInt) - rng.IntN(3)
	}
	switch rng.IntN(7) {
	case 0:
		window = time.Duration(1 + rng.IntN(20))
	case 1:
		window = time.Duration(1+rng.IntN(1000)) * time.Millisecond
	case 2:
		window = time.Duration(1+rng.IntN(60)) * time.Second
	case 3:
		window = time.Duration(rng.Int64N(math.MaxInt64) + 1)
	case 4:
		window = time.Duration(1+rng.IntN(3)) << 61
	default:
		window = time.Duration(1 + rng.Int64N(int64(time.Hour)))
	}
	return limit, window
}

// randBase draws the first instant of a trace: today, before 1970, or near
// either end of the representable Unix nanoseconds.
func randBase(rng *rand.Rand) int64 {
	switch rng.IntN(8) {
	case 0:
		return -rng.Int64N(1e18)
	case 1:
		return math.MaxInt64 - rng.Int64N(int64(time.Hour))
	case 2:
		return math.MinInt64 + rng.Int64N(int64(time.Hour))
	}
	return 1_700_000_000_000_000_000 + rng.Int64N(1e17)
}

// instant turns a Unix-ns value into a time.Time; values at the ends stand
// for instants beyond the representable range, which both limiters clamp.
func instant(rng *rand.Rand, ns int64) time.Time {
	switch {
	case ns == math.MaxInt64 && rng.IntN(2) == 0:
		return time.Unix(1<<40, 0)
	case ns == math.MinInt64 && rng.IntN(2) == 0:
		return time.Unix(-1<<40, 0)
	}
	return time.Unix(0, ns)
}

// runTrace drives both limiters of p with one random trace over three keys
// and requires equal Decisions at every step.
func runTrace(t *testing.T, seed uint64, tr int, rng *rand.Rand, p pair, steps int, st *traceStats) {
	now := randBase(rng)
	var pending time.Duration
	keys := []string{"a", "b", "ovr"}
	for s := 0; s < steps; s++ {
		switch c := rng.IntN(20); {
		case c < 10:
			now = exact.AddSat(now, int64(rng.Float64()*float64(p.unit)*2))
		case c < 14 && pending > 0 && pending != ratelimit.Never:
			now = exact.AddSat(exact.AddSat(now, int64(pending)), int64(rng.IntN(3))-1)
		case c < 15:
			now = exact.AddSat(now, -rng.Int64N(p.unit+1))
		case c < 16:
			now = exact.AddSat(now, int64(rng.IntN(4))*p.unit)
		default:
			// the same instant again
		}
		key := keys[rng.IntN(len(keys))]
		n := 1 + rng.IntN(min(p.limit, 5))
		switch rng.IntN(40) {
		case 0:
			n = p.limit + rng.IntN(3)
		case 1:
			n = -rng.IntN(2)
		case 2:
			n = 1 + rng.IntN(p.limit)
		}
		at := instant(rng, now)
		want := p.want.AllowN(key, n, at)
		got := p.got.AllowN(key, n, at)
		require.Equal(t, want, got, "seed %d %s trace %d step %d: key %q n %d at %d", seed, p.name, tr, s, key, n, now)
		pending = got.RetryAfter
		switch {
		case got.Allowed:
			st.allowed++
		case got.RetryAfter == ratelimit.Never:
			st.never++
		default:
			st.denied++
		}
	}
}

// traceStats shows that the traces exercise every outcome.
type traceStats struct{ allowed, denied, never int }

// windowKinds pairs each Redis window limiter with its in-memory twin.
var windowKinds = []struct {
	name  string
	redis func(redis.Scripter, int, time.Duration, ...redislimit.Option) (ratelimit.Limiter, error)
	mem   func(int, time.Duration, ...ratelimit.Option) (ratelimit.Limiter, error)
}{
	{"fixed window",
		func(c redis.Scripter, l int, w time.Duration, o ...redislimit.Option) (ratelimit.Limiter, error) {
			return redislimit.NewFixedWindow(c, l, w, o...)
		},
		func(l int, w time.Duration, o ...ratelimit.Option) (ratelimit.Limiter, error) {
			return ratelimit.NewFixedWindow(l, w, o...)
		}},
	{"sliding window",
		func(c redis.Scripter, l int, w time.Duration, o ...redislimit.Option) (ratelimit.Limiter, error) {
			return redislimit.NewSlidingWindow(c, l, w, o...)
		},
		func(l int, w time.Duration, o ...ratelimit.Option) (ratelimit.Limiter, error) {
			return ratelimit.NewSlidingWindow(l, w, o...)
		}},
	{"sliding log",
		func(c redis.Scripter, l int, w time.Duration, o ...redislimit.Option) (ratelimit.Limiter, error) {
			return redislimit.NewSlidingLog(c, l, w, o...)
		},
		func(l int, w time.Duration, o ...ratelimit.Option) (ratelimit.Limiter, error) {
			return ratelimit.NewSlidingLog(l, w, o...)
		}},
}

// TestDifferential replays random traces through each Redis limiter and its
// in-memory twin and requires identical Decisions (Allowed, Limit,
// Remaining, RetryAfter, ResetAfter, Window) at every step. Each trace has
// its own policy, a per-key override on key "ovr", and its own key prefix.
// The token-bucket traces aim a third of their steps at the instant the last
// denial said to retry, ±1ns: x/time/rate's sub-nanosecond edge.
func TestDifferential(t *testing.T) {
	seed := testseed.Seed(t)
	srv := startRedis(t)
	client := srv.client(t)
	traces, steps := traceCounts()
	rng := rand.New(rand.NewPCG(seed, 1))
	var stats traceStats
	for tr := 0; tr < traces; tr++ {
		prefix := redislimit.WithPrefix(fmt.Sprintf("diff:%d:%d:tb:", seed, tr))

		r, burst := randRate(rng), 1+rng.IntN(20)
		if rng.IntN(4) == 0 {
			burst = 1 + rng.IntN(100000)
		}
		ovr := ratelimit.Policy{Rate: randRate(rng), Limit: 1 + rng.IntN(10)}
		got, err := redislimit.NewTokenBucket(client, r, burst, prefix, testMargin, redislimit.WithOverride("ovr", ovr))
		require.NoError(t, err)
		want, err := ratelimit.NewTokenBucket(r, burst, ratelimit.WithOverride("ovr", ovr))
		require.NoError(t, err)
		unit := int64(float64(time.Second) / r)
		runTrace(t, seed, tr, rng, pair{fmt.Sprintf("token bucket rate %v burst %d", r, burst), got, want, burst, max(unit, 1)}, steps, &stats)

		limit, window := randWindow(rng)
		ol, ow := randWindow(rng)
		wovr := ratelimit.Policy{Limit: ol, Window: ow}
		unit = max(int64(window)/int64(min(limit, 8)), 1)
		for _, w := range windowKinds {
			prefix = redislimit.WithPrefix(fmt.Sprintf("diff:%d:%d:%s:", seed, tr, w.name))
			got, err := w.redis(client, limit, window, prefix, testMargin, redislimit.WithOverride("ovr", wovr))
			require.NoError(t, err)
			want, err := w.mem(limit, window, ratelimit.WithOverride("ovr", wovr))
			require.NoError(t, err)
			runTrace(t, seed, tr, rng, pair{fmt.Sprintf("%s %d per %v", w.name, limit, window), got, want, limit, unit}, steps, &stats)
		}
	}
	t.Logf("%d traces x %d steps per limiter: %d allowed, %d denied, %d never", traces, steps, stats.allowed, stats.denied, stats.never)
	require.Positive(t, stats.denied)
}
