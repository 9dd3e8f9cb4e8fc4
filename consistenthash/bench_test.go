package consistenthash

import (
	"fmt"
	"sync"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// benchKeys are the lookup keys of every benchmark: 4096 distinct 11-byte keys, so lookups
// touch the whole ring rather than one cached path.
var benchKeys = func() [][]byte {
	keys := make([][]byte, 4096)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("user:%06d", i*7919))
	}
	return keys
}()

var benchSizes = []int{10, 100, 1000}

func benchRing(b *testing.B, cfg Config, nodes int) *Ring {
	b.Helper()
	r, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	weights := make(map[string]int, nodes)
	for i := range nodes {
		weights[fmt.Sprintf("node-%d", i)] = 1
	}
	if err := r.AddAll(weights); err != nil {
		b.Fatal(err)
	}
	return r
}

func BenchmarkGet(b *testing.B) {
	for _, n := range benchSizes {
		r := benchRing(b, Config{}, n)
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := r.Get(benchKeys[i&4095]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkGetString(b *testing.B) {
	keys := make([]string, len(benchKeys))
	for i, k := range benchKeys {
		keys[i] = string(k)
	}
	r := benchRing(b, Config{}, 100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := r.GetString(keys[i&4095]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkGetN(b *testing.B) {
	for _, n := range benchSizes {
		r := benchRing(b, Config{}, n)
		b.Run(fmt.Sprintf("n=3/nodes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			dst := make([]string, 0, 3)
			i := 0
			for b.Loop() {
				dst, _ = r.GetN(benchKeys[i&4095], 3, dst[:0])
				i++
			}
		})
	}
}

func BenchmarkAcquireRelease(b *testing.B) {
	r := benchRing(b, Config{LoadFactor: 1.25}, 100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		n, err := r.Acquire(benchKeys[i&4095])
		if err != nil {
			b.Fatal(err)
		}
		if i&1 == 1 {
			r.Release(n)
		}
		i++
	}
}

func BenchmarkAdd(b *testing.B) {
	for _, n := range []int{10, 100} {
		r := benchRing(b, Config{}, n)
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := r.Add("extra", 1); err != nil {
					b.Fatal(err)
				}
				if err := r.Remove("extra"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkJump(b *testing.B) {
	hashes := make([]uint64, len(benchKeys))
	for i, k := range benchKeys {
		hashes[i] = xxhash.Sum64(k)
	}
	for _, n := range []int{10, 1000, 1_000_000} {
		b.Run(fmt.Sprintf("buckets=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if Jump(hashes[i&4095], n) < 0 {
					b.Fatal("bad bucket")
				}
				i++
			}
		})
	}
}

func BenchmarkRendezvous(b *testing.B) {
	for _, weighted := range []bool{false, true} {
		for _, n := range benchSizes {
			rv := NewRendezvous(nil)
			for i := range n {
				w := 1
				if weighted {
					w = 1 + i%3
				}
				if err := rv.Add(fmt.Sprintf("node-%d", i), w); err != nil {
					b.Fatal(err)
				}
			}
			b.Run(fmt.Sprintf("weighted=%v/nodes=%d", weighted, n), func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, err := rv.Get(benchKeys[i&4095]); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		}
	}
}

// rwRing is the alternative design the Ring rejected: the same snapshot behind a
// sync.RWMutex instead of an atomic pointer. It exists to measure the difference.
type rwRing struct {
	mu sync.RWMutex
	s  *ringState
}

func (w *rwRing) get(key []byte) string {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.s.names[w.s.owners[w.s.search(xxhash.Sum64(key))]]
}

// BenchmarkGetParallel compares the atomic-pointer read path with an RWMutex one under
// parallel readers, alone and with a writer taking the lock (an Acquire/Release stream for
// the Ring, the write lock for the RWMutex design).
func BenchmarkGetParallel(b *testing.B) {
	r := benchRing(b, Config{LoadFactor: 1.25}, 100)
	w := &rwRing{s: r.snapshot()}
	for _, writer := range []bool{false, true} {
		b.Run(fmt.Sprintf("atomic/writer=%v", writer), func(b *testing.B) {
			stop := startWriter(writer, func() {
				if n, err := r.Acquire(benchKeys[0]); err == nil {
					r.Release(n)
				}
			})
			defer stop()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if _, err := r.Get(benchKeys[i&4095]); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
		b.Run(fmt.Sprintf("rwmutex/writer=%v", writer), func(b *testing.B) {
			stop := startWriter(writer, func() {
				w.mu.Lock()
				w.s = r.snapshot()
				w.mu.Unlock()
			})
			defer stop()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					_ = w.get(benchKeys[i&4095])
					i++
				}
			})
		})
	}
}

// startWriter runs write in a loop on its own goroutine until the returned stop is called;
// with on false it does nothing.
func startWriter(on bool, write func()) (stop func()) {
	if !on {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			default:
				write()
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
