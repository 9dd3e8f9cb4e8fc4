package ratelimit

import (
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMaxKeysBoundsKeys(t *testing.T) {
	for _, maxKeys := range []int{1, 5, 100, 1000} {
		tb, err := NewTokenBucket(1, 1, WithMaxKeys(maxKeys))
		require.NoError(t, err)
		at := time.Unix(1_000_000, 0)
		for i := 0; i < 20_000; i++ {
			require.True(t, tb.AllowN("flood-"+strconv.Itoa(i), 1, at).Allowed)
			if i%500 == 0 || i < 100 {
				require.LessOrEqual(t, tb.Len(), maxKeys)
			}
		}
	}
}

// TestMaxKeysEvictsIdleFirst: with one shard of four keys, a new key evicts
// the idle one and leaves the busy ones' state intact.
func TestMaxKeysEvictsIdleFirst(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_000_000, 0)}
	fw, err := NewFixedWindow(1, time.Minute, WithShards(1), WithMaxKeys(4), WithClock(clk.now))
	require.NoError(t, err)
	for _, k := range []string{"a", "b", "c"} {
		require.True(t, fw.Allow(k).Allowed)
	}
	fw.AllowN("idle", 2, clk.t) // denied: n > limit, so "idle" holds no count
	require.Equal(t, 4, fw.Len())
	for i := 0; i < 10; i++ {
		require.True(t, fw.Allow("new"+strconv.Itoa(i)).Allowed)
		require.Equal(t, 4, fw.Len())
		if i == 0 {
			for _, k := range []string{"a", "b", "c"} {
				require.False(t, fw.Allow(k).Allowed, "busy key %s lost its count", k)
			}
		}
	}
}

// TestSweepDropsIdleKeys: without MaxKeys, keys whose state went back to a
// fresh key's are swept as new keys arrive.
func TestSweepDropsIdleKeys(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_000_000, 0)}
	sw, err := NewSlidingWindow(10, time.Second, WithShards(4), WithClock(clk.now))
	require.NoError(t, err)
	for i := 0; i < 10_000; i++ {
		sw.Allow("old" + strconv.Itoa(i))
	}
	require.Equal(t, 10_000, sw.Len())
	clk.advance(3 * time.Second)
	for i := 0; i < 10_000; i++ {
		sw.Allow("recent" + strconv.Itoa(i))
	}
	require.Equal(t, 20_000, sw.Len(), "idle keys swept within the grace period")
	clk.advance(10 * time.Second)
	for i := 0; i < 40_000; i++ {
		sw.Allow("new" + strconv.Itoa(i))
	}
	require.LessOrEqual(t, sw.Len(), 45_000, "old keys were not swept")
}

// TestFloodMemoryFlat: heap in use after a flood of 200k distinct keys is
// within 1 MiB of that after 50k, with MaxKeys 10k.
func TestFloodMemoryFlat(t *testing.T) {
	tb, err := NewTokenBucket(1, 5, WithMaxKeys(10_000))
	require.NoError(t, err)
	at := time.Unix(1_000_000, 0)
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	i := 0
	flood := func(n int) {
		for end := i + n; i < end; i++ {
			tb.AllowN("203.0.113."+strconv.Itoa(i), 1, at)
		}
	}
	flood(50_000)
	before := heap()
	flood(150_000)
	after := heap()
	t.Logf("heap after 50k keys %d B, after 200k keys %d B", before, after)
	require.Less(t, int64(after)-int64(before), int64(1<<20))
	runtime.KeepAlive(tb)
}

// TestHashCollision drives two keys with one forged hash through insert,
// lookup and removal.
func TestHashCollision(t *testing.T) {
	fw, err := NewFixedWindow(2, time.Minute, WithShards(1))
	require.NoError(t, err)
	const h = 42
	sh, a := fw.lookupHash("a", h, 0)
	a.st.count = 1
	sh.mu.Unlock()
	sh, b := fw.lookupHash("b", h, 0)
	require.NotSame(t, a, b)
	b.st.count = 2
	sh.mu.Unlock()
	sh, a = fw.lookupHash("a", h, 0)
	require.Equal(t, int64(1), a.st.count)
	sh.mu.Unlock()
	sh, b = fw.lookupHash("b", h, 0)
	require.Equal(t, int64(2), b.st.count)
	// Removing "a" (slot 0) moves "b" into its slot; "b" stays reachable.
	fw.remove(sh, 0)
	sh.mu.Unlock()
	sh, b = fw.lookupHash("b", h, 0)
	require.Equal(t, int64(2), b.st.count)
	require.Len(t, sh.ents, 1)
	sh.mu.Unlock()
	sh, a = fw.lookupHash("a", h, 0)
	require.Equal(t, int64(0), a.st.count, "a came back fresh")
	require.Len(t, sh.ents, 2)
	sh.mu.Unlock()
}

func TestOverrides(t *testing.T) {
	at := time.Unix(1_000_000, 0)
	tb, err := NewTokenBucket(1, 1, WithOverride("vip", Policy{Rate: 100, Limit: 3}))
	require.NoError(t, err)
	d := tb.AllowN("vip", 3, at)
	require.True(t, d.Allowed)
	require.Equal(t, 3, d.Limit)
	require.False(t, tb.AllowN("anon", 3, at).Allowed)
	require.Equal(t, Never, tb.AllowN("anon", 3, at).RetryAfter)

	fw, err := NewFixedWindow(1, time.Second, WithOverride("vip", Policy{Limit: 5, Window: time.Minute}))
	require.NoError(t, err)
	require.Equal(t, time.Minute, fw.AllowN("vip", 5, at).Window)

	_, err = NewTokenBucket(1, 1, WithOverride("bad", Policy{Rate: -1, Limit: 1}))
	require.ErrorIs(t, err, ErrInvalidRate)
	_, err = NewSlidingLog(1, time.Second, WithOverride("bad", Policy{Limit: 1}))
	require.ErrorIs(t, err, ErrInvalidWindow)
}

// TestIndexModel drives the open-addressing index with random inserts,
// removals and moves over few distinct hashes (so runs collide and wrap
// around) and checks every (hash, position) against a map.
func TestIndexModel(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 6))
	var x index
	x.init(4)
	model := map[int]uint64{} // position -> hash
	for step := 0; step < 50_000; step++ {
		switch op := rng.IntN(3); {
		case op == 0 || len(model) == 0:
			pos := len(model)
			h := uint64(rng.IntN(40)) << 8 // few homes: long runs
			if rng.IntN(2) == 0 {
				h |= uint64(rng.IntN(1<<20)) << 8
			}
			x.insert(h, pos)
			model[pos] = h
		default:
			// remove position p, moving the last one into it (as store does)
			p, last := rng.IntN(len(model)), len(model)-1
			x.remove(model[p], p)
			if p != last {
				x.move(model[last], last, p)
				model[p] = model[last]
			}
			delete(model, last)
		}
		if step%97 == 0 {
			require.Equal(t, len(model), x.n)
			for pos, h := range model {
				require.Equal(t, pos+1, x.slots[x.find(h, pos)].pos)
			}
		}
	}
}
