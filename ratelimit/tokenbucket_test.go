package ratelimit

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// randRate draws rates of every kind: whole, decimal fractions that float64
// cannot represent exactly, awkward ratios and random floats across decades.
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

// TestTokenBucketMatchesXTimeRate replays random traces through a
// TokenBucket and x/time/rate's Limiter and requires identical decisions at
// every step. Instants mostly advance by random amounts; some land exactly on,
// one nanosecond before and one after the instant the bucket predicts a
// denied request becomes allowed (the sub-nanosecond edge); a few go back.
func TestTokenBucketMatchesXTimeRate(t *testing.T) {
	seed := testSeed(t)
	traces, steps := 200, 1500
	if longTests() {
		traces, steps = 5000, 5000
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	edges := 0
	for tr := 0; tr < traces; tr++ {
		r := randRate(rng)
		burst := 1 + rng.IntN(20)
		if rng.IntN(4) == 0 {
			burst = 1 + rng.IntN(100000)
		}
		tb, err := NewTokenBucket(r, burst)
		require.NoError(t, err)
		ref := rate.NewLimiter(rate.Limit(r), burst)
		now := int64(1_700_000_000_000_000_000) + rng.Int64N(1e18)
		var pending time.Duration // last RetryAfter, to aim at the edge
		interval := float64(time.Second) / r
		for s := 0; s < steps; s++ {
			switch k := rng.IntN(20); {
			case k < 12:
				now += int64(rng.Float64() * interval * 2)
			case k < 17 && pending > 0 && pending != Never:
				now += int64(pending) + int64(rng.IntN(3)) - 1
				edges++
			case k < 18:
				now -= rng.Int64N(int64(interval) + 1)
			default:
				// same instant again
			}
			n := 1 + rng.IntN(min(burst, 5))
			if rng.IntN(50) == 0 {
				n = burst + 1 + rng.IntN(3)
			}
			at := time.Unix(0, now)
			want := ref.AllowN(at, n)
			got := tb.AllowN("k", n, at)
			if got.Allowed != want {
				t.Fatalf("seed %d trace %d step %d: rate %v burst %d n %d at %d: got %v, x/time/rate %v (tokens %v)",
					seed, tr, s, r, burst, n, now, got.Allowed, want, ref.TokensAt(at))
			}
			pending = got.RetryAfter
			if !got.Allowed && got.RetryAfter != Never {
				checkRetryAfter(t, tb, n, now, got.RetryAfter)
			}
		}
	}
	t.Logf("%d traces x %d steps, %d steps aimed at the allow edge", traces, steps, edges)
}

// TestTokenBucketSubNanosecondEdge pins x/time/rate's truncation rule: a
// request short by less than one nanosecond of refill is allowed, one short by
// a full nanosecond is not.
func TestTokenBucketSubNanosecondEdge(t *testing.T) {
	// rate 3/s: one token takes 333333333.33…ns. After emptying the bucket at
	// t0, the next token is owed at t0+333333333.33ns; at t0+333333333 the
	// shortfall is 1/3 ns of refill, so both limiters allow.
	for _, tc := range []struct {
		name  string
		rate  float64
		after int64
		want  bool
	}{
		{"third of a ns short", 3, 333333333, true},
		{"one and a third ns short", 3, 333333332, false},
		{"exact", 4, 250000000, true},
		// Exactly 1ns short: the float64 wait is 0.99999999…ns, truncated
		// to 0, so x/time/rate allows; an exact-arithmetic bucket would not.
		{"one ns short, rounded", 4, 249999999, true},
		{"two ns short", 4, 249999998, false},
		{"0.7/s just short", 0.7, 1428571428, true},
		{"0.7/s a ns short", 0.7, 1428571427, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb, err := NewTokenBucket(tc.rate, 1)
			require.NoError(t, err)
			ref := rate.NewLimiter(rate.Limit(tc.rate), 1)
			t0 := time.Unix(1000, 0)
			require.True(t, tb.AllowN("k", 1, t0).Allowed)
			require.True(t, ref.AllowN(t0, 1))
			at := t0.Add(time.Duration(tc.after))
			require.Equal(t, tc.want, ref.AllowN(at, 1), "x/time/rate")
			require.Equal(t, tc.want, tb.AllowN("k", 1, at).Allowed, "TokenBucket")
		})
	}
}

// checkRetryAfter requires that the request denied at now would be allowed at
// now+retry and not one nanosecond earlier, probing a copy of the state.
func checkRetryAfter(t *testing.T, tb *TokenBucket, n int, now int64, retry time.Duration) {
	t.Helper()
	checkRetryAfterKey(t, tb, "k", n, now, retry)
}

func checkRetryAfterKey(t *testing.T, tb *TokenBucket, key string, n int, now int64, retry time.Duration) {
	t.Helper()
	e, p := tb.lookup(key, now)
	st := e.st
	e.mu.Unlock()
	st.next1 = math.MinInt64 // probe the arithmetic, not the memo
	at := st
	ok, _, _ := p.allowN(&at, n, now+int64(retry))
	require.True(t, ok, "not allowed after RetryAfter %v", retry)
	before := st
	ok, _, _ = p.allowN(&before, n, now+int64(retry)-1)
	require.False(t, ok, "allowed before RetryAfter %v", retry)
}

// TestTokenBucketDenyMemoSaturated is the trace the redislimit fuzz target
// found: a denial whose wait saturates at MaxInt64 must not be memoised as
// the instant t+MaxInt64, or a later denial gets an early RetryAfter.
func TestTokenBucketDenyMemoSaturated(t *testing.T) {
	tb, err := NewTokenBucket(24, 1)
	require.NoError(t, err)
	for _, at := range []int64{3400270702189752348, -8245931967140294532, -4773603670912614228} {
		d := tb.AllowN("k", 1, time.Unix(0, at))
		if !d.Allowed && d.RetryAfter < math.MaxInt64 {
			checkRetryAfterKey(t, tb, "k", 1, at, d.RetryAfter)
		}
	}
}

// TestTokenBucketDenyMemo floods keys, some sharing a shard, with denials
// for various n at random instants, some going back, and requires every
// RetryAfter to equal a fresh search on a copy of the key's state (without
// its memo), Remaining and ResetAfter to follow from that state's tokens
// (which a memo denial computes after the unlock), and the memo to have
// answered most repeated n = 1 denials.
func TestTokenBucketDenyMemo(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	for round := 0; round < 50; round++ {
		r := randRate(rng)
		burst := 1 + rng.IntN(10)
		tb, err := NewTokenBucket(r, burst, WithShards(1+rng.IntN(2)),
			WithOverride("other", Policy{Rate: r / 2, Limit: burst}))
		require.NoError(t, err)
		keys := []string{"a", "b", "other"}
		now := int64(1_700_000_000_000_000_000) + rng.Int64N(1e15)
		if rng.IntN(4) == 0 {
			now = -now // before 1970: the memo's "unknown" must not be read as an instant
		}
		for _, k := range keys { // empty every bucket
			tb.AllowN(k, burst, time.Unix(0, now))
		}
		hits, denials := 0, 0
		for s := 0; s < 400; s++ {
			k := keys[rng.IntN(len(keys))]
			n := 1 + rng.IntN(burst)
			if rng.IntN(4) != 0 {
				n = 1 // mostly Allow's n, which the memo serves
			}
			now += rng.Int64N(int64(float64(time.Second)/r/50) + 2)
			if rng.IntN(20) == 0 {
				now -= rng.Int64N(1000)
			}
			e, p := tb.lookup(k, now)
			st := e.st
			e.mu.Unlock()
			d := tb.AllowN(k, n, time.Unix(0, now))
			if d.Allowed {
				continue
			}
			if n == 1 {
				denials++
				if now < st.next1 {
					hits++
				}
			}
			tokens := p.advance(&st, now)
			require.Equal(t, p.remaining(tokens), d.Remaining, "seed %d round %d step %d", seed, round, s)
			require.Equal(t, p.resetAfter(tokens), d.ResetAfter, "seed %d round %d step %d", seed, round, s)
			after := tokens - float64(n)
			want := p.searchRetry(&st, n, now, int64(p.wait(after)))
			require.Equal(t, want, int64(d.RetryAfter), "seed %d round %d step %d key %s n %d", seed, round, s, k, n)
			checkRetryAfterKey(t, tb, k, n, now, d.RetryAfter)
		}
		if denials > 100 {
			require.Greater(t, hits, denials/2, "seed %d round %d: the memo answered %d of %d denials", seed, round, hits, denials)
		}
	}
}
