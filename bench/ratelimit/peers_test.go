package ratelimitbench

import (
	"context"
	"os"
	"runtime"
	"strconv"
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

// Every limiter gets the same policy: 1,000,000 requests per hour, burst
// 1,000,000, so that over a benchmark run most calls are allowed and each
// library does its full per-call work.
const (
	quota  = 1_000_000
	period = time.Hour
)

// allowFunc is one call of a limiter for a key; it reports the decision.
type allowFunc func(key string) bool

type peer struct {
	name    string
	perKey  bool // false: a single-key limiter (x/time/rate)
	newFunc func(tb testing.TB, maxKeys int) allowFunc
}

var peers = []peer{
	{"sysblocks-token", true, func(tb testing.TB, maxKeys int) allowFunc {
		l, err := ratelimit.NewTokenBucket(quota/period.Seconds(), quota, ratelimit.WithMaxKeys(maxKeys))
		if err != nil {
			tb.Fatal(err)
		}
		return func(k string) bool { return l.Allow(k).Allowed }
	}},
	{"sysblocks-leaky", true, func(tb testing.TB, maxKeys int) allowFunc {
		l, err := ratelimit.NewLeakyBucket(quota/period.Seconds(), quota, ratelimit.WithMaxKeys(maxKeys))
		if err != nil {
			tb.Fatal(err)
		}
		return func(k string) bool { return l.Allow(k).Allowed }
	}},
	{"sysblocks-fixed", true, func(tb testing.TB, maxKeys int) allowFunc {
		l, err := ratelimit.NewFixedWindow(quota, period, ratelimit.WithMaxKeys(maxKeys))
		if err != nil {
			tb.Fatal(err)
		}
		return func(k string) bool { return l.Allow(k).Allowed }
	}},
	{"x-time-rate", false, func(tb testing.TB, _ int) allowFunc {
		l := rate.NewLimiter(rate.Limit(quota/period.Seconds()), quota)
		return func(string) bool { return l.Allow() }
	}},
	{"sethvargo-memorystore", true, func(tb testing.TB, _ int) allowFunc {
		s, err := memorystore.New(&memorystore.Config{Tokens: quota, Interval: period})
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
	{"ulule-memory", true, func(tb testing.TB, _ int) allowFunc {
		l := ulule.New(ululemem.NewStore(), ulule.Rate{Period: period, Limit: quota})
		ctx := context.Background()
		return func(k string) bool {
			c, err := l.Get(ctx, k)
			return err == nil && !c.Reached
		}
	}},
	{"throttled-gcra-memstore", true, func(tb testing.TB, maxKeys int) allowFunc {
		st, err := memstore.NewCtx(maxKeys)
		if err != nil {
			tb.Fatal(err)
		}
		l, err := throttled.NewGCRARateLimiterCtx(st, throttled.RateQuota{MaxRate: throttled.PerHour(quota), MaxBurst: quota})
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

// TestPeersAllow checks every adapter allows a first request and limits a
// tiny policy, so the benchmarks compare working limiters.
func TestPeersAllow(t *testing.T) {
	for _, p := range peers {
		allow := p.newFunc(t, 0)
		if !allow("k") {
			t.Fatalf("%s: first request denied", p.name)
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

// BenchmarkAllow: one hot key, and 100k / 1M existing distinct keys (1M
// skipped under -short), serial and b.RunParallel, for every library. The
// serial runs also report cpu-ns/op, the process's CPU time per call, which
// a shared machine disturbs less than wall time.
func BenchmarkAllow(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"keys=1", 1}, {"keys=100k", 100_000}, {"keys=1M", 1_000_000}} {
		if size.n >= 1_000_000 && testing.Short() {
			continue
		}
		ks := keys(size.n)
		for _, p := range peers {
			if !p.perKey && size.n > 1 {
				continue
			}
			allow := p.newFunc(b, 0)
			for _, k := range ks {
				allow(k)
			}
			b.Run(size.name+"/serial/"+p.name, func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				cpu0 := cpuTime()
				for b.Loop() {
					allow(ks[i])
					if i++; i == len(ks) {
						i = 0
					}
				}
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			})
			b.Run(size.name+"/parallel/"+p.name, func(b *testing.B) {
				b.ReportAllocs()
				var seed atomic.Uint64
				b.RunParallel(func(pb *testing.PB) {
					i := int(seed.Add(7919)) % len(ks)
					for pb.Next() {
						allow(ks[i])
						if i++; i == len(ks) {
							i = 0
						}
					}
				})
			})
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
				allow := p.newFunc(b, 100_000)
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
