// Package redislimitbench compares ratelimit/redislimit with the Redis
// stores of ulule/limiter and throttled, all through one go-redis client:
//
//	go test -run '^$' -bench . -count 3 ./redislimit/
//
// It starts its own redis-server (skipping without one, failing if CI=true).
package redislimitbench

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sysblocks/sysblocks/ratelimit/redislimit"
	"github.com/throttled/throttled/v2"
	"github.com/throttled/throttled/v2/store/goredisstore.v9"
	ulule "github.com/ulule/limiter/v3"
	ululeredis "github.com/ulule/limiter/v3/drivers/store/redis"
)

// Every limiter gets the same policy, large enough that no call is denied:
// quota requests per hour, bursts of quota, on one private redis-server
// reached over a Unix socket through one go-redis client.
const (
	quota  = 1_000_000_000
	period = time.Hour
)

// startRedis starts a private redis-server, stopped when the benchmark
// ends; it skips without redis-server on PATH unless CI=true.
func startRedis(tb testing.TB) *redis.Client {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("redis-server not on PATH (CI=true): %v", err)
		}
		tb.Skipf("redis-server not on PATH: %v", err)
	}
	dir, err := os.MkdirTemp("", "rlbench")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "r.sock")
	cmd := exec.Command(bin, "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", "")
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	ready, done := make(chan bool, 1), make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		ok := false
		for sc.Scan() {
			if !ok && strings.Contains(strings.ToLower(sc.Text()), "ready to accept connections") {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
		cmd.Wait()
		close(done)
	}()
	tb.Cleanup(func() { cmd.Process.Kill(); <-done })
	select {
	case ok := <-ready:
		if !ok {
			tb.Fatal("redis-server exited before it was ready")
		}
	case <-time.After(20 * time.Second):
		tb.Fatal("redis-server not ready after 20s")
	}
	c := redis.NewClient(&redis.Options{Network: "unix", Addr: sock, PoolSize: 32})
	tb.Cleanup(func() { c.Close() })
	return c
}

type allowFunc func(key string) bool

func limiters(tb testing.TB, c *redis.Client) (names []string, fns map[string]allowFunc) {
	ctx := context.Background()
	tbk, err := redislimit.NewTokenBucket(c, quota/period.Seconds(), quota)
	if err != nil {
		tb.Fatal(err)
	}
	fw, err := redislimit.NewFixedWindow(c, quota, period)
	if err != nil {
		tb.Fatal(err)
	}
	ustore, err := ululeredis.NewStoreWithOptions(c, ulule.StoreOptions{Prefix: "ulule"})
	if err != nil {
		tb.Fatal(err)
	}
	ul := ulule.New(ustore, ulule.Rate{Period: period, Limit: quota})
	tstore, err := goredisstore.NewCtx(c, "throttled:")
	if err != nil {
		tb.Fatal(err)
	}
	th, err := throttled.NewGCRARateLimiterCtx(tstore, throttled.RateQuota{MaxRate: throttled.PerHour(quota), MaxBurst: quota})
	if err != nil {
		tb.Fatal(err)
	}
	fns = map[string]allowFunc{
		"sysblocks-tb": func(k string) bool { return tbk.Allow(k).Allowed },
		"sysblocks-fw": func(k string) bool { return fw.Allow(k).Allowed },
		"ulule": func(k string) bool {
			r, err := ul.Get(ctx, k)
			return err == nil && !r.Reached
		},
		"throttled": func(k string) bool {
			limited, _, err := th.RateLimitCtx(ctx, k, 1)
			return err == nil && !limited
		},
	}
	return []string{"sysblocks-tb", "sysblocks-fw", "ulule", "throttled"}, fns
}

// BenchmarkAllow: one decision per op, which the policy allows, on one hot key and on 100k
// keys, from one goroutine and from 4·GOMAXPROCS, for sysblocks'
// redislimit token bucket and fixed window, ulule/limiter's Redis store
// (fixed window) and throttled's GCRA on its go-redis v9 store. Ratios are
// ns/op of a peer over ns/op of sysblocks-fw (the same kind of work as
// ulule) or sysblocks-tb (GCRA/token bucket, as throttled). refused/op
// counts calls that were not allowed: none should be, but throttled's
// compare-and-swap store gives up under contention on one key.
func BenchmarkAllow(b *testing.B) {
	c := startRedis(b)
	keys := make([]string, 100_000)
	for i := range keys {
		keys[i] = "user:" + strconv.Itoa(i)
	}
	names, fns := limiters(b, c)
	for _, nk := range []int{1, len(keys)} {
		for _, name := range names {
			allow := fns[name]
			size := "keys=1"
			if nk > 1 {
				size = "keys=100k"
			}
			b.Run(size+"/serial/"+name, func(b *testing.B) {
				b.ReportAllocs()
				refused, i := 0, 0
				for b.Loop() {
					if !allow(keys[i%nk]) {
						refused++
					}
					i++
				}
				b.ReportMetric(float64(refused)/float64(b.N), "refused/op")
			})
			b.Run(size+"/parallel/"+name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetParallelism(4)
				var next, refused atomic.Int64
				b.RunParallel(func(pb *testing.PB) {
					i := int(next.Add(1) * 7919)
					for pb.Next() {
						if !allow(keys[i%nk]) {
							refused.Add(1)
						}
						i++
					}
				})
				b.ReportMetric(float64(refused.Load())/float64(b.N), "refused/op")
			})
		}
	}
}
