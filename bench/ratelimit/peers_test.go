package ratelimitbench

import (
	"context"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sethvargo "github.com/sethvargo/go-limiter"
	"github.com/sethvargo/go-limiter/memorystore"
	"github.com/sysblocks/sysblocks/ratelimit"
	"github.com/throttled/throttled/v2"
	"github.com/throttled/throttled/v2/store/memstore"
	ulule "github.com/ulule/limiter/v3"
	ululemem "github.com/ulule/limiter/v3/drivers/store/memory"
	"golang.org/x/time/rate"
)

// Every limiter gets the same policy: quota requests per period, burst
// quota. BenchmarkAllow uses allowQuota, large enough that no call of a run
// is denied (with 1,000,000 per hour a hot key ran dry after 1M calls, so
// most of a 1-key run measured the denial path, unlike the runs over many
// keys); BenchmarkDeny measures the denial path on its own.
const (
	allowQuota = 1_000_000_000
	period     = time.Hour
)

// allowFunc is one call of a limiter for a key; it reports the decision.
type allowFunc func(key string) bool

type peer struct {
	name    string
	perKey  bool // false: a single-key limiter (x/time/rate)
	newFunc func(tb testing.TB, maxKeys, quota int) allowFunc
}

var peers = []peer{
	{"sysblocks-token", true, func(tb testing.TB, maxKeys, quota int) allowFunc {
		l, err := ratelimit.NewTokenBucket(float64(quota)/period.Seconds(), quota, ratelimit.WithMaxKeys(maxKeys))
		if err != nil {
			tb.Fatal(err)
		}
		return func(k string) bool { return l.Allow(k).Allowed }
	}},
	{"sysblocks-leaky", true, func(tb testing.TB, maxKeys, quota int) allowFunc {
		l, err := ratelimit.NewLeakyBucket(float64(quota)/period.Seconds(), quota, ratelimit.WithMaxKeys(maxKeys))
		if err != nil {
			tb.Fatal(err)
		}
		return func(k string) bool { return l.Allow(k).Allowed }
	}},
	{"sysblocks-fixed", true, func(tb testing.TB, maxKeys, quota int) allowFunc {
		l, err := ratelimit.NewFixedWindow(quota, period, ratelimit.WithMaxKeys(maxKeys))
		if err != nil {
			tb.Fatal(err)
		}
		return func(k string) bool { return l.Allow(k).Allowed }
	}},
	{"x-time-rate", false, func(tb testing.TB, _, quota int) allowFunc {
		l := rate.NewLimiter(rate.Limit(float64(quota)/period.Seconds()), quota)
		return func(string) bool { return l.Allow() }
	}},
	{"sethvargo-memorystore", true, func(tb testing.TB, _, quota int) allowFunc {
		s, err := memorystore.New(&memorystore.Config{Tokens: uint64(quota), Interval: period})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = s.Close(context.Background()) })
		var _ sethvargo.Store = s
		ctx := context.Background()
		return func(k string) bool {
			_, _, _, ok, _ := s.Take(ctx, k)
			return ok
		}
	}},
	{"ulule-memory", true, func(tb testing.TB, _, quota int) allowFunc {
		l := ulule.New(ululemem.NewStore(), ulule.Rate{Period: period, Limit: int64(quota)})
		ctx := context.Background()
		return func(k string) bool {
			c, err := l.Get(ctx, k)
			return err == nil && !c.Reached
		}
	}},
	{"throttled-gcra-memstore", true, func(tb testing.TB, maxKeys, quota int) allowFunc {
		st, err := memstore.NewCtx(maxKeys)
		if err != nil {
			tb.Fatal(err)
		}
		// MaxBurst counts the requests a burst may add to the first one:
		// quota-1 gives the burst of quota every other limiter has.
		l, err := throttled.NewGCRARateLimiterCtx(st, throttled.RateQuota{MaxRate: throttled.PerHour(quota), MaxBurst: quota - 1})
		if err != nil {
			tb.Fatal(err)
		}
		ctx := context.Background()
		return func(k string) bool {
			limited, _, err := l.RateLimitCtx(ctx, k, 1)
			return err == nil && !limited
		}
	}},
}

// TestPeersAllow checks every adapter allows a first request, denies every
// further request of a key whose quota of 1 is spent (the same burst for
// all), and allows a whole BenchmarkAllow-sized run on one key, so the
// benchmarks compare working limiters on the path they claim to measure.
func TestPeersAllow(t *testing.T) {
	for _, p := range peers {
		allow := p.newFunc(t, 0, 1)
		if !allow("k") {
			t.Fatalf("%s: first request denied", p.name)
		}
		for i := 0; i < 5; i++ { // the same burst of 1 everywhere
			if allow("k") {
				t.Fatalf("%s: request %d allowed past a spent quota of 1", p.name, i+2)
			}
		}
		if testing.Short() {
			continue
		}
		allow = p.newFunc(t, 0, allowQuota)
		for i := 0; i < 3_000_000; i++ {
			if !allow("k") {
				t.Fatalf("%s: call %d denied under allowQuota", p.name, i)
			}
		}
	}
}

func keys(n int) []string {
	ks := make([]string, n)
	for i := range ks {
		ks[i] = "client-" + strconv.Itoa(i)
	}
	return ks
}

// shuffled returns ks in a fixed pseudo-random order. The benchmarks create
// the keys in order and then call them in this order: calling them in
// creation order would walk the per-key objects that some libraries allocate
// one by one (sethvargo's buckets, ulule's and throttled's entries) in
// address order, a pattern the hardware prefetcher hides and real traffic
// does not have.
// shuffled returns fresh copies of ks in a fixed random order. A server
// builds each request's key anew (from its address or a header), so the
// timed calls look keys up with strings the limiters did not store: a map
// given the very string it stored matches it by pointer and never reads the
// stored key's bytes, which no real request gets to do.
func shuffled(ks []string) []string {
	out := append([]string(nil), ks...)
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	for i := range out {
		out[i] = strings.Clone(out[i])
	}
	return out
}

// BenchmarkAllow: one hot key, and 100k / 1M existing distinct keys (1M
// skipped under -short), serial and b.RunParallel, for every library, with a
// quota no call of a run exhausts: every call is allowed. Both runs also
// report cpu-ns/op, the process's CPU time per call (on 2 cores the parallel
// figure is CPU per call, not wall), which a shared machine disturbs less
// than wall time.
func BenchmarkAllow(b *testing.B) {
	benchKeys(b, allowQuota, 1, true)
}

// BenchmarkDeny: the same key sets, each key's quota (1 per hour) spent
// before timing, so every call is denied: the cost of saying no, which is
// what a limiter mostly does under a flood from one client or from a
// botnet.
func BenchmarkDeny(b *testing.B) {
	benchKeys(b, 1, 5, false)
}

// benchKeys runs one workload: fill rounds of one call per key before
// timing, then calls in a fixed shuffled order, each of which must be
// allowed (want) or denied (!want). An Allow run fails on any denial; a Deny run fails if more calls
// than there are keys are allowed (an epoch-aligned window that ends during
// the run gives every key one more request; nothing else may).
//
// A limiter is built and filled only when one of its sub-benchmarks is
// selected, once for both, and the heap is collected before timing: no
// other library's keys sit in the heap (and no peer's sweeper goroutine
// runs) while one library is measured.
func benchKeys(b *testing.B, quota, fill int, want bool) {
	for _, size := range []struct {
		name string
		n    int
	}{{"keys=1", 1}, {"keys=100k", 100_000}, {"keys=1M", 1_000_000}} {
		if size.n >= 1_000_000 && testing.Short() {
			continue
		}
		var ks, order []string
		for _, p := range peers {
			if !p.perKey && size.n > 1 {
				continue
			}
			var allow allowFunc
			var owner *laterTB
			filled := func(b *testing.B) allowFunc {
				if allow == nil {
					if ks == nil {
						ks = keys(size.n)
						order = shuffled(ks)
					}
					owner = &laterTB{TB: b}
					allow = p.newFunc(owner, 0, quota)
					for range fill {
						for _, k := range ks {
							allow(k)
						}
					}
				}
				runtime.GC()
				return allow
			}
			b.Run(size.name+"/serial/"+p.name, func(b *testing.B) {
				allow := filled(b)
				b.ReportAllocs()
				i, wrong := 0, 0
				cpu0 := cpuTime()
				for b.Loop() {
					if allow(order[i]) != want {
						wrong++
					}
					if i++; i == len(order) {
						i = 0
					}
				}
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
				checkWrong(b, p.name, wrong, len(order), want)
			})
			b.Run(size.name+"/parallel/"+p.name, func(b *testing.B) {
				allow := filled(b)
				b.ReportAllocs()
				var seed, wrong atomic.Uint64
				b.ResetTimer()
				cpu0 := cpuTime()
				b.RunParallel(func(pb *testing.PB) {
					i := int(seed.Add(7919)) % len(order)
					bad := uint64(0)
					for pb.Next() {
						if allow(order[i]) != want {
							bad++
						}
						if i++; i == len(order) {
							i = 0
						}
					}
					wrong.Add(bad)
				})
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
				if strings.HasPrefix(p.name, "sysblocks") {
					checkWrong(b, p.name, int(wrong.Load()), len(order), want)
				} else {
					// throttled's memstore gives up its compare-and-swap loop under
					// contention and refuses calls it should allow: report, not fail.
					b.ReportMetric(float64(wrong.Load())/float64(b.N), "wrong/op")
				}
			})
			if owner != nil { // stop sethvargo's sweeper, drop the keys
				owner.cleanup()
			}
			allow = nil // let the next library measure on a clean heap
		}
	}
}

// BenchmarkFlood sends a stream of distinct, never-repeated keys (the DDoS
// case) to the limiters that can bound their key count, with the bound at
// 100k keys, and reports the live heap after the flood. The flood is 1M keys
// (100k under -short, 10M with SYSBLOCKS_LONG=1); b.N only repeats it.
func BenchmarkFlood(b *testing.B) {
	flood := 1_000_000
	switch {
	case testing.Short():
		flood = 100_000
	case os.Getenv("SYSBLOCKS_LONG") == "1":
		flood = 10_000_000
	}
	for _, p := range peers {
		if p.name != "sysblocks-token" && p.name != "throttled-gcra-memstore" {
			continue // the others have no key bound (only time-based sweeping)
		}
		b.Run("keys="+strconv.Itoa(flood)+"/"+p.name, func(b *testing.B) {
			b.ReportAllocs()
			var heap uint64
			for b.Loop() {
				allow := p.newFunc(b, 100_000, allowQuota)
				var buf []byte
				for i := 0; i < flood; i++ {
					buf = strconv.AppendInt(append(buf[:0], "ip:"...), int64(i), 10)
					allow(string(buf))
				}
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				heap = ms.HeapAlloc
				runtime.KeepAlive(allow)
			}
			b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(flood), "ns/key")
		})
	}
}

func checkWrong(b *testing.B, name string, wrong, keys int, want bool) {
	if want {
		keys = 0
	}
	if wrong > keys {
		b.Fatalf("%s: %d calls were not allowed=%v", name, wrong, want)
	}
}

// laterTB defers a limiter's Cleanup functions until both its serial and
// parallel sub-benchmarks have run (the sub-benchmark that built it would
// run them at its own end).
type laterTB struct {
	testing.TB
	fns []func()
}

func (l *laterTB) Cleanup(f func()) { l.fns = append(l.fns, f) }

func (l *laterTB) cleanup() {
	for i := len(l.fns) - 1; i >= 0; i-- {
		l.fns[i]()
	}
	l.fns = nil
}
