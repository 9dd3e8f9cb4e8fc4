package ratelimit

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

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
	a, _ := fw.lookupHash("a", h, 0)
	a.st.count = 1
	a.mu.Unlock()
	b, _ := fw.lookupHash("b", h, 0)
	require.NotSame(t, a, b)
	b.st.count = 2
	b.mu.Unlock()
	a, _ = fw.lookupHash("a", h, 0)
	require.Equal(t, int64(1), a.st.count)
	a.mu.Unlock()
	b, _ = fw.lookupHash("b", h, 0)
	require.Equal(t, int64(2), b.st.count)
	b.mu.Unlock()
	// Removing "a" (its home slot 0) shifts "b" back into it; "b" stays
	// reachable.
	sh := &fw.shards[0]
	tab := sh.tab.Load()
	require.Same(t, &tab.slots[0], a)
	sh.mu.Lock()
	fw.remove(sh, 0)
	sh.mu.Unlock()
	b, _ = fw.lookupHash("b", h, 0)
	require.Same(t, &tab.slots[0], b)
	require.Equal(t, int64(2), b.st.count)
	require.Equal(t, 1, sh.n)
	b.mu.Unlock()
	a, _ = fw.lookupHash("a", h, 0)
	require.Equal(t, int64(0), a.st.count, "a came back fresh")
	require.Equal(t, 2, sh.n)
	a.mu.Unlock()
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

// TestTableModel drives one shard's open-addressing table with random
// inserts, updates and removals of keys (inline and long) whose forged
// hashes share few home slots, so runs collide, wrap around the end of the
// table and get shifted back, and checks every key's count against a map.
func TestTableModel(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 6))
	fw, err := NewFixedWindow(1<<30, time.Hour, WithShards(1))
	require.NoError(t, err)
	type want struct {
		h     uint64
		count int64
	}
	model := map[string]want{}
	names := make([]string, 300)
	hashes := make([]uint64, len(names))
	for i := range names {
		names[i] = strings.Repeat("x", rng.IntN(2*inlineKey)) + strconv.Itoa(i)
		hashes[i] = uint64(rng.IntN(40)) << 8 // few homes: long runs
		if rng.IntN(2) == 0 {
			hashes[i] |= uint64(rng.IntN(1<<20)) << 8
		}
	}
	for step := 0; step < 30_000; step++ {
		i := rng.IntN(len(names))
		k := names[i]
		if rng.IntN(3) == 0 { // remove k if tracked
			sh := &fw.shards[0]
			sh.mu.Lock()
			tab := sh.tab.Load()
			for p := range tab.slots {
				var q keyRef
				q.setHash(k, hashes[i])
				if !tab.slots[p].free() && sh.is(tab, uint32(p), &q) {
					fw.remove(sh, uint32(p))
					delete(model, k)
					break
				}
			}
			sh.mu.Unlock()
			continue
		}
		e, _ := fw.lookupHash(k, hashes[i], 0)
		e.st.count++
		e.mu.Unlock()
		w := model[k]
		model[k] = want{hashes[i], w.count + 1}
		if step%97 == 0 {
			for k, w := range model {
				e, _ := fw.lookupHash(k, w.h, 0)
				require.Equal(t, w.count, e.st.count, "key %q", k)
				e.mu.Unlock()
			}
			require.Equal(t, len(model), fw.Len())
		}
	}
}

// TestStoreModel churns keys of mixed lengths (inline and long, around
// inlineKey) through one bounded shard, so entries are inserted, evicted and
// moved, and checks against a map of counts that a key still tracked keeps
// its count, and after each step that every entry is reachable under its own
// key and the long-key slice stays parallel to the entries.
func TestStoreModel(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 7))
	fw, err := NewFixedWindow(1<<30, time.Hour, WithShards(1), WithMaxKeys(40))
	require.NoError(t, err)
	pool := make([]string, 120)
	for i := range pool {
		pool[i] = strings.Repeat("k", rng.IntN(2*inlineKey)) + strconv.Itoa(i)
	}
	model := map[string]int{} // count of each key the shard tracks
	at := time.Unix(1_000_000, 0)
	sh := &fw.shards[0]
	for step := 0; step < 5_000; step++ {
		k := pool[rng.IntN(len(pool))]
		d := fw.AllowN(k, 1, at)
		require.True(t, d.Allowed)
		model[k]++ // a key evicted earlier restarts from 0 (deleted below)
		require.Equal(t, 1<<30-model[k], d.Remaining, "key %q", k)
		sh.mu.Lock()
		require.LessOrEqual(t, sh.n, 40)
		tab := sh.tab.Load()
		if sh.long != nil {
			require.Len(t, sh.long, len(tab.slots))
		}
		tracked := map[string]bool{}
		for i := range tab.slots {
			e := &tab.slots[i]
			if e.free() {
				continue
			}
			var kb [24]byte
			for w := range e.kw {
				binary.LittleEndian.PutUint64(kb[8*w:], e.kw[w].Load())
			}
			key := string(kb[:min(int(e.kl()), inlineKey+1)-1])
			if e.kl() == longKey {
				key = sh.long[i]
			} else if sh.long != nil {
				require.Empty(t, sh.long[i])
			}
			var q keyRef
			q.setHash(key, uint64(e.fp())<<8) // one shard: the fingerprint is all of the hash that matters
			require.Equal(t, q.w, [3]uint64{e.word(0), e.word(1), e.w2()}, "key %q", key)
			require.True(t, sh.is(tab, uint32(i), &q))
			require.Same(t, e, sh.find(&q), "key %q not reachable from its home", key)
			tracked[key] = true
		}
		require.Len(t, tracked, sh.n)
		sh.mu.Unlock()
		for key := range model {
			if !tracked[key] {
				delete(model, key)
			}
		}
	}
}

// TestEntryFitsCacheLine guards the layouts: one entry per 64-byte cache
// line is what keeps a cold lookup to about two misses, and a hot key's
// lock and state in one line.
func TestEntryFitsCacheLine(t *testing.T) {
	require.Equal(t, uintptr(64), unsafe.Sizeof(entry[tbState, tbPolicy]{}))
	require.Equal(t, uintptr(64), unsafe.Sizeof(entry[fwState, winPolicy]{}))
	require.Equal(t, uintptr(64), unsafe.Sizeof(entry[swState, winPolicy]{}))
	require.Equal(t, uintptr(64), unsafe.Sizeof(entry[lbState, lbPolicy]{}))
	require.Equal(t, uintptr(256), unsafe.Sizeof(shard[tbState, tbPolicy]{}))
}

// TestKeyBlock checks the key block a lookup builds with overlapping loads
// against packing the key byte by byte, for every inline length and random
// bytes (zeros included), and that distinct keys of one store never share a
// block: the block alone identifies an inline key.
func TestKeyBlock(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 11))
	tb, err := NewTokenBucket(1, 1)
	require.NoError(t, err)
	blocks := map[[3]uint64]string{}
	for range 20_000 {
		b := make([]byte, rng.IntN(inlineKey+1))
		for i := range b {
			b[i] = byte(rng.IntN(4)) // few values: zero bytes and near-duplicates
		}
		key := string(b)
		var want [3]uint64
		for i := range b {
			want[i/8] |= uint64(b[i]) << (8 * (i % 8))
		}
		want[2] |= uint64(len(key)+1) << klShift
		var q keyRef
		tb.ref(&q, key)
		require.Equal(t, fingerprint(q.h), uint32(q.w[2]>>fpShift), "key %q", key)
		q.w[2] &^= math.MaxUint32 << fpShift
		require.Equal(t, want, q.w, "key %q", key)
		if other, ok := blocks[q.w]; ok {
			require.Equal(t, other, key)
		}
		blocks[q.w] = key
	}
	var q keyRef
	long := strings.Repeat("x", inlineKey+1)
	tb.ref(&q, long)
	require.Equal(t, uint64(longKey), q.w[2]>>klShift&0xff)
}
