package ratelimit

import (
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/sysblocks/sysblocks/ratelimit/internal/exact"
)

// trace is a random stream of (instant, n) requests for one key: mostly
// forward steps around the window's scale, some repeats, a few steps back.
func trace(rng *rand.Rand, steps int, window int64, limit int) (ts []int64, ns []int) {
	now := rng.Int64N(1<<50) - 1<<49 // either side of the epoch
	for range steps {
		switch k := rng.IntN(10); {
		case k < 6:
			now += rng.Int64N(2*window/int64(limit) + 2)
		case k < 8:
			now += rng.Int64N(window + 1)
		case k < 9:
			now -= rng.Int64N(window/2 + 1)
		}
		ts = append(ts, now)
		n := 1 + rng.IntN(3)
		if rng.IntN(40) == 0 {
			n = limit + 1
		}
		ns = append(ns, n)
	}
	return ts, ns
}

func randWindow(rng *rand.Rand) (int, int64) {
	limit := 1 + rng.IntN(20)
	if rng.IntN(5) == 0 {
		limit = 1 + rng.IntN(1000)
	}
	windows := []int64{1, 7, 1000, int64(time.Second), int64(time.Minute), 3*int64(time.Second) + 1}
	return limit, windows[rng.IntN(len(windows))]
}

func traceCounts() (int, int) {
	if longTests() {
		return 2000, 5000
	}
	return 200, 1000
}

// TestFixedWindowModel checks decisions against a map of per-window counts
// and that no window ever holds more than limit.
func TestFixedWindowModel(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	traces, steps := traceCounts()
	for tr := 0; tr < traces; tr++ {
		limit, window := randWindow(rng)
		clk := &fakeClock{}
		fw, err := NewFixedWindow(limit, time.Duration(window), WithClock(clk.now))
		require.NoError(t, err)
		counts := map[int64]int{}
		latest := int64(-1 << 62)
		ts, ns := trace(rng, steps, window, limit)
		for s := range ts {
			k := max(exact.FloorDiv(ts[s], window), latest)
			latest = k
			want := ns[s] <= limit && counts[k]+ns[s] <= limit
			if want {
				counts[k] += ns[s]
			}
			clk.t = time.Unix(0, ts[s])
			var d Decision
			if ns[s] == 1 {
				d = fw.Allow("k")
			} else {
				d = fw.AllowN("k", ns[s], clk.t)
			}
			if d.Allowed != want || d.Remaining != limit-counts[k] || counts[k] > limit {
				t.Fatalf("seed %d trace %d step %d: got %+v, want allowed %v remaining %d", seed, tr, s, d, want, limit-counts[k])
			}
			if !d.Allowed && d.RetryAfter != Never {
				next := ts[s] + int64(d.RetryAfter)
				if exact.FloorDiv(next, window) != k+1 || exact.FloorDiv(next-1, window) != k {
					t.Fatalf("seed %d trace %d step %d: RetryAfter %v does not land on the next window", seed, tr, s, d.RetryAfter)
				}
			}
		}
	}
}

type logged struct {
	at int64
	n  int
}

// TestSlidingLogModel checks decisions against a brute-force log and that
// every interval of length window holds at most limit allowed requests.
func TestSlidingLogModel(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 2))
	traces, steps := traceCounts()
	for tr := 0; tr < traces; tr++ {
		limit, window := randWindow(rng)
		sl, err := NewSlidingLog(limit, time.Duration(window))
		require.NoError(t, err)
		var log []logged
		latest := int64(-1 << 62)
		ts, ns := trace(rng, steps, window, limit)
		for s := range ts {
			at := max(ts[s], latest) // time never runs back for a key
			latest = at
			inWin := func(x int64) int { // log is sorted by instant
				sum := 0
				for i := len(log) - 1; i >= 0 && log[i].at > x-window; i-- {
					if log[i].at <= x {
						sum += log[i].n
					}
				}
				return sum
			}
			used := inWin(at)
			want := ns[s] <= limit && used+ns[s] <= limit
			d := sl.AllowN("k", ns[s], time.Unix(0, ts[s]))
			if d.Allowed != want {
				t.Fatalf("seed %d trace %d step %d: got %v want %v", seed, tr, s, d.Allowed, want)
			}
			if want {
				log = append(log, logged{at, ns[s]})
				used += ns[s]
			}
			if d.Remaining != limit-used {
				t.Fatalf("seed %d trace %d step %d: remaining %d want %d", seed, tr, s, d.Remaining, limit-used)
			}
			if !d.Allowed && d.RetryAfter != Never {
				// At the promised instant enough has expired, one ns before not.
				x := ts[s] + int64(d.RetryAfter)
				if inWin(x)+ns[s] > limit || inWin(x-1)+ns[s] <= limit {
					t.Fatalf("seed %d trace %d step %d: RetryAfter %v is wrong", seed, tr, s, d.RetryAfter)
				}
			}
		}
		// No interval (a−window, a] ending at an allowed request, hence no
		// interval of length window at all, holds more than limit.
		j, sum := 0, 0
		for _, e := range log {
			sum += e.n
			for log[j].at <= e.at-window {
				sum -= log[j].n
				j++
			}
			if sum > limit {
				t.Fatalf("seed %d trace %d: %d allowed in (%d, %d]", seed, tr, sum, e.at-window, e.at)
			}
		}
	}
}

// TestSlidingWindowModel checks the counter against the same estimate done
// in exact rational arithmetic (math/big).
func TestSlidingWindowModel(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 3))
	traces, steps := traceCounts()
	traces /= 2 // the math/big model is slow under -race
	for tr := 0; tr < traces; tr++ {
		limit, window := randWindow(rng)
		sw, err := NewSlidingWindow(limit, time.Duration(window))
		require.NoError(t, err)
		counts := map[int64]int64{}
		latest := int64(-1 << 62)
		ts, ns := trace(rng, steps, window, limit)
		estimate := func(at int64, k int64) *big.Rat {
			off := at - k*window
			if off < 0 {
				off = 0
			}
			e := big.NewRat(counts[k-1]*(window-off), window)
			return e.Add(e, big.NewRat(counts[k], 1))
		}
		for s := range ts {
			k := max(exact.FloorDiv(ts[s], window), latest)
			latest = k
			est := estimate(ts[s], k)
			sum := new(big.Rat).Add(est, big.NewRat(int64(ns[s]), 1))
			want := ns[s] <= limit && sum.Cmp(big.NewRat(int64(limit), 1)) <= 0
			d := sw.AllowN("k", ns[s], time.Unix(0, ts[s]))
			if d.Allowed != want {
				t.Fatalf("seed %d trace %d step %d: got %v want %v", seed, tr, s, d.Allowed, want)
			}
			if want {
				counts[k] += int64(ns[s])
			}
			if !d.Allowed && d.RetryAfter != Never {
				ok := func(x int64) bool {
					kx := exact.FloorDiv(x, window)
					e := estimate(x, kx)
					e.Add(e, big.NewRat(int64(ns[s]), 1))
					return e.Cmp(big.NewRat(int64(limit), 1)) <= 0
				}
				x := ts[s] + int64(d.RetryAfter)
				if !ok(x) || ok(x-1) {
					t.Fatalf("seed %d trace %d step %d: RetryAfter %v is wrong", seed, tr, s, d.RetryAfter)
				}
			}
		}
	}
}

// TestSlidingWindowError measures the counter's error as Cloudflare did:
// each request the counter decides is also judged by the exact sliding
// window over the same history (the requests the counter allowed so far);
// a request allowed with more than limit-1 others in (t−window, t], or
// denied with fewer, is an error. Each client sends Poisson traffic for 20
// windows (100 with SYSBLOCKS_LONG=1) against limit 100 per minute, offering
// 0.05–2x the limit; the errors are reported apart for clients offering at
// most the limit and for those offering more.
func TestSlidingWindowError(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 4))
	const limit, window = 100, int64(time.Minute)
	clients, windows := 400, int64(20)
	if longTests() {
		clients, windows = 4000, 100
	}
	sw, err := NewSlidingWindow(limit, time.Duration(window))
	require.NoError(t, err)
	type tally struct{ total, wrongAllow, wrongDeny int }
	var under, over tally
	for c := 0; c < clients; c++ {
		key := "client" + strconv.Itoa(c)
		offer := 0.05 + 1.95*rng.Float64() // offered load / limit
		tl := &under
		if offer > 1 {
			tl = &over
		}
		mean := float64(window) / float64(limit) / offer
		now := rng.Int64N(window)
		end := now + windows*window
		var allowed []int64 // the counter's allowed instants: the shared history
		j := 0
		for {
			now += int64(rng.ExpFloat64()*mean) + 1
			if now >= end {
				break
			}
			for j < len(allowed) && allowed[j] <= now-window {
				j++
			}
			exact := len(allowed)-j+1 <= limit
			got := sw.AllowN(key, 1, time.Unix(0, now)).Allowed
			tl.total++
			switch {
			case got && !exact:
				tl.wrongAllow++
			case !got && exact:
				tl.wrongDeny++
			}
			if got {
				allowed = append(allowed, now)
			}
		}
	}
	for _, g := range []struct {
		name string
		tl   tally
	}{{"clients at or under the limit", under}, {"clients over the limit", over}} {
		t.Logf("%s: %d requests, wrongly allowed %d (%.4f%%), wrongly denied %d (%.4f%%)", g.name, g.tl.total,
			g.tl.wrongAllow, 100*float64(g.tl.wrongAllow)/float64(g.tl.total),
			g.tl.wrongDeny, 100*float64(g.tl.wrongDeny)/float64(g.tl.total))
	}
	// Loose ceilings, from the measured values with a wide margin: they catch
	// a broken estimate, not noise.
	require.Less(t, float64(under.wrongAllow+under.wrongDeny)/float64(under.total), 0.05)
	require.Less(t, float64(over.wrongAllow)/float64(over.total), 0.15)
}
