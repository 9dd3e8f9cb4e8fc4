package ratelimit

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestConcurrentExactCounts hammers every limiter from many goroutines at a
// frozen instant: each key must allow exactly its limit, no more (a lost
// update) and no less. Run it with -race.
func TestConcurrentExactCounts(t *testing.T) {
	at := time.Unix(1_000_000, 0)
	const goroutines, perG, keys = 8, 500, 16
	for name, l := range allLimiters(t, WithClock(func() time.Time { return at }), WithShards(4)) {
		t.Run(name, func(t *testing.T) {
			var allowed [keys]atomic.Int64
			var wg sync.WaitGroup
			for g := 0; g < goroutines; g++ {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					for i := 0; i < perG; i++ {
						k := (g + i) % keys
						if l.Allow("key" + strconv.Itoa(k)).Allowed {
							allowed[k].Add(1)
						}
					}
				}(g)
			}
			wg.Wait()
			for k := range allowed {
				require.Equal(t, int64(3), allowed[k].Load(), "key %d", k)
			}
		})
	}
}

// TestConcurrentEviction mixes a flood of new keys (forcing eviction) with
// traffic on hot keys, under -race.
func TestConcurrentEviction(t *testing.T) {
	at := time.Unix(1_000_000, 0)
	for name, l := range allLimiters(t, WithMaxKeys(64), WithShards(8)) {
		t.Run(name, func(t *testing.T) {
			var wg sync.WaitGroup
			for g := 0; g < 4; g++ {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					for i := 0; i < 2000; i++ {
						now := at.Add(time.Duration(i) * time.Millisecond)
						l.AllowN("hot"+strconv.Itoa(i%4), 1, now)
						l.AllowN("flood"+strconv.Itoa(g)+"-"+strconv.Itoa(i), 1, now)
					}
				}(g)
			}
			wg.Wait()
			require.LessOrEqual(t, l.(interface{ Len() int }).Len(), 64)
		})
	}
}
