package ratelimit

import (
	"math"
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

// TestConcurrentChurnKeepsCounts hammers a few hot keys while other
// goroutines add keys to the same shard, so that the table doubles, and
// (with MaxKeys) entries are evicted and shifted back while the hot keys'
// lookups run without the shard's mutex: every allowed call must stay
// counted. The churn keys are created idle (n above the limit changes no
// state), so eviction always finds an idle victim and never a hot key.
func TestConcurrentChurnKeepsCounts(t *testing.T) {
	at := time.Unix(1_000_000, 0)
	const limit = min(MaxLimit, math.MaxInt-1)
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"grow", []Option{WithShards(1)}},
		{"evict", []Option{WithShards(1), WithMaxKeys(32)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fw, err := NewFixedWindow(limit, time.Hour, tc.opts...)
			require.NoError(t, err)
			const hot, perG = 4, 3000
			var allowed [hot]atomic.Int64
			var wg sync.WaitGroup
			for g := 0; g < 4; g++ {
				wg.Add(2)
				go func(g int) {
					defer wg.Done()
					for i := 0; i < perG; i++ {
						k := (g + i) % hot
						if fw.AllowN("hot"+strconv.Itoa(k), 1, at).Allowed {
							allowed[k].Add(1)
						}
					}
				}(g)
				go func(g int) {
					defer wg.Done()
					for i := 0; i < perG; i++ {
						fw.AllowN("churn"+strconv.Itoa(g)+"-"+strconv.Itoa(i), limit+1, at)
					}
				}(g)
			}
			wg.Wait()
			var total int64
			for k := range allowed {
				n := allowed[k].Load()
				total += n
				d := fw.AllowN("hot"+strconv.Itoa(k), 1, at)
				require.True(t, d.Allowed)
				require.Equal(t, limit-n-1, int64(d.Remaining), "hot key %d lost updates", k)
			}
			require.Equal(t, int64(4*perG), total)
		})
	}
}
