package redislimit_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/ratelimit"
	"github.com/sysblocks/sysblocks/ratelimit/redislimit"
)

// BenchmarkAllow measures one decision, a round trip to a private
// redis-server on a Unix socket, for each algorithm on one hot key and on
// 100k keys, from one goroutine and from GOMAXPROCS·4 (b.SetParallelism)
// sharing one client. The limits are high so that most requests are
// allowed, the path that writes. BenchmarkPing is the floor: a bare PING
// round trip on the same connection pool.
func BenchmarkAllow(b *testing.B) {
	srv := startRedis(b)
	c := srv.client(b)
	keys := make([]string, 100_000)
	for i := range keys {
		keys[i] = "user:" + strconv.Itoa(i)
	}
	mk := map[string]func() (ratelimit.Limiter, error){
		"tb": func() (ratelimit.Limiter, error) { return redislimit.NewTokenBucket(c, 1e6, 1e6) },
		"fw": func() (ratelimit.Limiter, error) { return redislimit.NewFixedWindow(c, 1e9, time.Minute) },
		"sw": func() (ratelimit.Limiter, error) { return redislimit.NewSlidingWindow(c, 1e9, time.Minute) },
		"sl": func() (ratelimit.Limiter, error) { return redislimit.NewSlidingLog(c, 1e9, time.Minute) },
	}
	for _, alg := range []string{"tb", "fw", "sw", "sl"} {
		l, err := mk[alg]()
		if err != nil {
			b.Fatal(err)
		}
		for _, nk := range []int{1, len(keys)} {
			name := alg + "/keys=1"
			if nk > 1 {
				name = alg + "/keys=100k"
			}
			b.Run(name+"/serial", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					l.Allow(keys[i%nk])
					i++
				}
			})
			b.Run(name+"/parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.SetParallelism(4)
				var next atomic.Int64
				b.RunParallel(func(pb *testing.PB) {
					i := int(next.Add(1) * 7919)
					for pb.Next() {
						l.Allow(keys[i%nk])
						i++
					}
				})
			})
		}
	}
}

// BenchmarkPing is the round trip alone, for comparison with BenchmarkAllow.
func BenchmarkPing(b *testing.B) {
	c := startRedis(b).client(b)
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.Ping(ctx)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Ping(ctx)
			}
		})
	})
}
