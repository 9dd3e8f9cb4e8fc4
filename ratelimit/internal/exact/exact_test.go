package exact

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// clamp is the saturating result of an exact big.Int computation.
func clamp(x *big.Int) int64 {
	if x.Cmp(big.NewInt(math.MaxInt64)) > 0 {
		return math.MaxInt64
	}
	if x.Cmp(big.NewInt(math.MinInt64)) < 0 {
		return math.MinInt64
	}
	return x.Int64()
}

func TestSaturating(t *testing.T) {
	edges := []int64{0, 1, -1, 2, -2, 1e9, -1e9, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1,
		math.MaxInt32, math.MinInt32, 1 << 32, -(1 << 32)}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		edges = append(edges, int64(rng.Uint64()), rng.Int64N(1<<40)-1<<39)
	}
	for _, a := range edges {
		for _, b := range edges {
			x, y := big.NewInt(a), big.NewInt(b)
			require.Equal(t, clamp(new(big.Int).Add(x, y)), AddSat(a, b), "%d+%d", a, b)
			require.Equal(t, clamp(new(big.Int).Sub(x, y)), SubSat(a, b), "%d-%d", a, b)
			require.Equal(t, clamp(new(big.Int).Mul(x, y)), MulSat(a, b), "%d*%d", a, b)
			if b > 0 {
				q := new(big.Int)
				q.Div(x, y) // Euclidean: floor for b > 0
				require.Equal(t, q.Int64(), FloorDiv(a, b), "floor(%d/%d)", a, b)
			}
		}
	}
}

func TestFirstTrue(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		lo := rng.Int64N(1000) - 500
		want := lo + rng.Int64N(1<<uint(rng.IntN(62)))
		est := lo + rng.Int64N(1<<uint(rng.IntN(62)))
		calls := 0
		got := FirstTrue(lo, est, func(d int64) bool { calls++; return d >= want })
		require.Equal(t, want, got, "lo %d est %d", lo, est)
		require.LessOrEqual(t, calls, 2*64+2)
	}
}

func TestUnixNano(t *testing.T) {
	require.Equal(t, int64(math.MaxInt64), UnixNano(time.Unix(math.MaxInt64/int64(time.Second)+1, 0)))
	require.Equal(t, int64(math.MinInt64), UnixNano(time.Unix(math.MinInt64/int64(time.Second)-1, 0)))
	require.Equal(t, int64(-1), UnixNano(time.Unix(0, -1)))
	for _, ns := range []int64{math.MinInt64, math.MinInt64 + 1, math.MinInt64 + 999_999_999, -1e18, math.MaxInt64} {
		require.Equal(t, ns, UnixNano(time.Unix(0, ns)), "%d", ns)
	}
	// The second holding MinInt64 is only partly representable.
	require.Equal(t, int64(math.MinInt64), UnixNano(time.Unix(math.MinInt64/int64(time.Second)-1, 0)))
	require.Equal(t, int64(1_700_000_000_123_456_789), UnixNano(time.Unix(1_700_000_000, 123_456_789)))
}

// TestRetry checks the promise Retry makes: allowed after the wait, not a
// nanosecond before.
func TestRetry(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 5000 {
		rate := math.Pow(10, rng.Float64()*12-3)
		burst := 1 + rng.IntN(100)
		tokens := rng.Float64() * float64(burst)
		last := rng.Int64N(1 << 62)
		now := last + rng.Int64N(int64(time.Second))
		n := 1 + rng.IntN(burst)
		if Allows(tokens, last, n, now, rate, burst) {
			continue
		}
		after := Refill(tokens, last, now, rate, burst) - float64(n)
		w := Retry(tokens, last, n, now, Wait(after, rate), rate, burst)
		require.GreaterOrEqual(t, w, int64(1))
		if w < Never {
			require.True(t, Allows(tokens, last, n, now+w, rate, burst))
			require.False(t, Allows(tokens, last, n, now+w-1, rate, burst))
		}
	}
}

// TestRefillSeconds checks Refill's sub-second shortcut against
// time.Duration.Seconds, which x/time/rate uses, bit for bit, on elapsed
// times around the shortcut's bound and at random.
func TestRefillSeconds(t *testing.T) {
	ref := func(tokens float64, last, t int64, rate float64, burst int) float64 {
		last = min(last, t)
		var elapsed time.Duration = math.MaxInt64
		if last != math.MinInt64 {
			elapsed = time.Duration(SubSat(t, last))
		}
		return min(tokens+elapsed.Seconds()*rate, float64(burst))
	}
	rng := rand.New(rand.NewPCG(5, 6))
	elapsed := []int64{0, 1, 2, 999_999_999, 1e9, 1e9 + 1, 3e9 - 1, math.MaxInt64}
	for range 20_000 {
		elapsed = append(elapsed, rng.Int64N(2e9), rng.Int64N(1<<uint(rng.IntN(63))))
	}
	rates := []float64{1e-9, 0.001, 1, 3, 277_777.77777777775, 1e9}
	for _, e := range elapsed {
		rate := rates[rng.IntN(len(rates))]
		tokens := rng.Float64()*20 - 10
		const now = 1_700_000_000_000_000_000
		want := ref(tokens, now-e, now, rate, 10)
		got := Refill(tokens, now-e, now, rate, 10)
		require.Equal(t, math.Float64bits(want), math.Float64bits(got), "elapsed %d rate %v tokens %v", e, rate, tokens)
	}
	require.Equal(t, ref(0, math.MinInt64, 5, 1, 3), Refill(0, math.MinInt64, 5, 1, 3))
}
