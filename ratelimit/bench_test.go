package ratelimit

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// benchLimiters returns the five limiters with limit per key (the sliding
// log at most 10, so that its logs stay small).
func benchLimiters(b *testing.B, limit int, opts ...Option) []struct {
	name string
	l    Limiter
} {
	b.Helper()
	// Slow policies: no key turns idle (and is swept) while the benchmark
	// runs, so every call after setup finds its key.
	tb, err := NewTokenBucket(0.001, limit, opts...)
	if err != nil {
		b.Fatal(err)
	}
	lb, _ := NewLeakyBucket(0.001, limit, opts...)
	fw, _ := NewFixedWindow(limit, time.Hour, opts...)
	sl, _ := NewSlidingLog(min(limit, 10), time.Hour, opts...)
	sw, _ := NewSlidingWindow(limit, time.Hour, opts...)
	return []struct {
		name string
		l    Limiter
	}{{"token", tb}, {"leaky", lb}, {"fixed", fw}, {"log", sl}, {"sliding", sw}}
}

func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "client-" + strconv.Itoa(i)
	}
	return keys
}

// BenchmarkAllow measures Allow (with time.Now) on one hot key and on many
// existing keys, from one goroutine and from GOMAXPROCS goroutines. Sizes of
// 1M keys are skipped under -short; setup runs only for selected sizes.
func BenchmarkAllow(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"keys=1", 1}, {"keys=1k", 1000}, {"keys=1M", 1_000_000}} {
		if size.n >= 1_000_000 && testing.Short() {
			continue
		}
		b.Run(size.name, func(b *testing.B) {
			keys := benchKeys(size.n)
			for _, lim := range benchLimiters(b, 1000) {
				b.Run(lim.name, func(b *testing.B) {
					for _, k := range keys { // the keys exist before timing
						lim.l.Allow(k)
					}
					b.Run("serial", func(b *testing.B) {
						b.ReportAllocs()
						i := 0
						for b.Loop() {
							lim.l.Allow(keys[i])
							if i++; i == len(keys) {
								i = 0
							}
						}
					})
					b.Run("parallel", func(b *testing.B) {
						b.ReportAllocs()
						var seed atomic.Uint64
						b.RunParallel(func(pb *testing.PB) {
							i := int(seed.Add(7919)) % len(keys)
							for pb.Next() {
								lim.l.Allow(keys[i])
								if i++; i == len(keys) {
									i = 0
								}
							}
						})
					})
				})
			}
		})
	}
}

// BenchmarkDeny measures Allow on keys whose quota (1 per hour, or per
// 1000s for the buckets) is spent, so that every call is denied: the flood
// case, where the token bucket answers RetryAfter from its memo.
func BenchmarkDeny(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"keys=1", 1}, {"keys=1k", 1000}} {
		keys := benchKeys(size.n)
		for _, lim := range benchLimiters(b, 1) {
			for range 2 {
				for _, k := range keys {
					lim.l.Allow(k)
				}
			}
			b.Run(size.name+"/"+lim.name, func(b *testing.B) {
				b.ReportAllocs()
				i, allowed := 0, 0
				for b.Loop() {
					if lim.l.Allow(keys[i]).Allowed {
						allowed++
					}
					if i++; i == len(keys) {
						i = 0
					}
				}
				// A window ending during the run gives each key one more.
				if allowed > len(keys) {
					b.Fatalf("%d calls allowed past a spent quota", allowed)
				}
			})
		}
	}
}

// BenchmarkFlood measures Allow on a stream of never-seen keys with MaxKeys
// 100k, reporting the heap held per tracked key at the end.
func BenchmarkFlood(b *testing.B) {
	tb, err := NewTokenBucket(1, 10, WithMaxKeys(100_000))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var buf []byte
	i := 0
	for b.Loop() {
		buf = strconv.AppendInt(buf[:0], int64(i), 10)
		tb.Allow(string(buf))
		i++
	}
	b.ReportMetric(float64(tb.Len()), "keys")
}

// BenchmarkAllowN measures the decision without the clock: AllowN at
// instants advancing 1µs per call (time.Now alone costs 100–200ns on a
// loaded VM and dominates Allow).
func BenchmarkAllowN(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"keys=1", 1}, {"keys=1k", 1000}} {
		b.Run(size.name, func(b *testing.B) {
			keys := benchKeys(size.n)
			for _, lim := range benchLimiters(b, 1000) {
				b.Run(lim.name, func(b *testing.B) {
					t0 := time.Unix(1_700_000_000, 0)
					for _, k := range keys {
						lim.l.AllowN(k, 1, t0)
					}
					b.ReportAllocs()
					i, at := 0, t0
					for b.Loop() {
						at = at.Add(time.Microsecond)
						lim.l.AllowN(keys[i], 1, at)
						if i++; i == len(keys) {
							i = 0
						}
					}
				})
			}
		})
	}
}
