package leaderboard

import (
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
)

// benchSizes are the board sizes benchmarked; sizes of 1M and up are
// skipped under -short. 25M is the design's monthly active users.
var benchSizes = []struct {
	name string
	n    int
}{{"n=1k", 1_000}, {"n=1M", 1_000_000}, {"n=25M", 25_000_000}}

// benchScoreRange spreads initial scores so most are distinct but ties occur.
const benchScoreRange = 1 << 30

// BenchNames returns n member names shaped like "player:123".
func benchNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = "player:" + strconv.Itoa(i)
	}
	return names
}

type benchBoard struct {
	b      *Board
	names  []string
	perMem float64 // heap bytes per member after the build
}

var benchCache = map[int]*benchBoard{}

// benchBoardOf builds (once per size) a board of n members with random
// integer scores and measures its heap footprint per member.
func benchBoardOf(b *testing.B, n int) *benchBoard {
	if bb, ok := benchCache[n]; ok {
		return bb
	}
	clear(benchCache) // keep one big board alive at a time
	names := benchNames(n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	bd := New()
	r := rand.New(rand.NewPCG(1, 2))
	for _, m := range names {
		if _, err := bd.Add(m, float64(r.IntN(benchScoreRange))); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	bb := &benchBoard{b: bd, names: names, perMem: float64(after.HeapAlloc-before.HeapAlloc) / float64(n)}
	benchCache[n] = bb
	return bb
}

func forSizes(b *testing.B, f func(b *testing.B, bb *benchBoard)) { forSizesCPU(b, true, f) }

// forSizesCPU runs f per board size; cpu adds the cpu-ns/op metric, which
// only means something for single-goroutine benchmarks.
func forSizesCPU(b *testing.B, cpu bool, f func(b *testing.B, bb *benchBoard)) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			if testing.Short() && sz.n >= 1_000_000 {
				b.Skip("large board skipped under -short")
			}
			bb := benchBoardOf(b, sz.n)
			b.ReportAllocs()
			if cpu {
				withCPU(b, func() { f(b, bb) })
			} else {
				f(b, bb)
			}
			b.ReportMetric(bb.perMem, "B/member") // after the loop: b.Loop's timer reset drops metrics
		})
	}
}

// withCPU runs f on one locked OS thread and reports that thread's CPU
// time per op as cpu-ns/op: on a shared machine wall time per op includes
// time spent descheduled, CPU time does not.
func withCPU(b *testing.B, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	f()
	if cpu := threadCPU() - start; cpu > 0 && b.N > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkUpdate sets a random existing member to a random new score:
// every call moves a key to an unrelated place in the tree. Each run draws
// a fresh stream (see hotSeed): with -count, a repeated one would mostly
// set members to the scores they already hold.
func BenchmarkUpdate(b *testing.B) {
	forSizes(b, func(b *testing.B, bb *benchBoard) {
		r := rand.New(rand.NewPCG(hotSeed.Add(1), 4))
		n := len(bb.names)
		for b.Loop() {
			if _, err := bb.b.Add(bb.names[r.IntN(n)], float64(r.IntN(benchScoreRange))); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkUpdateBatch is BenchmarkUpdate through AddBatch, benchBatchLen
// updates a call; an op is still one update.
func BenchmarkUpdateBatch(b *testing.B) {
	forSizes(b, func(b *testing.B, bb *benchBoard) {
		r := rand.New(rand.NewPCG(hotSeed.Add(1), 4))
		n := len(bb.names)
		bt := newBenchBatch(bb.b, benchBatchLen, false)
		for b.Loop() {
			bt.add(b, bb.names[r.IntN(n)], float64(r.IntN(benchScoreRange)))
		}
		bt.flush(b)
	})
}

// BenchmarkIncrBatch is BenchmarkIncr through IncrBatch, benchBatchLen
// updates a call; an op is still one update.
func BenchmarkIncrBatch(b *testing.B) {
	forSizes(b, func(b *testing.B, bb *benchBoard) {
		r := rand.New(rand.NewPCG(5, 6))
		n := len(bb.names)
		bt := newBenchBatch(bb.b, benchBatchLen, true)
		for b.Loop() {
			bt.add(b, bb.names[r.IntN(n)], float64(1+r.IntN(100)))
		}
		bt.flush(b)
	})
}

// benchBatchLen is the batch length of the size benchmarks.
const benchBatchLen = 256

// BenchmarkIncr adds a small delta to a random member's score.
func BenchmarkIncr(b *testing.B) {
	forSizes(b, func(b *testing.B, bb *benchBoard) {
		r := rand.New(rand.NewPCG(5, 6))
		n := len(bb.names)
		for b.Loop() {
			if _, err := bb.b.Incr(bb.names[r.IntN(n)], float64(1+r.IntN(100))); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRank(b *testing.B) {
	forSizes(b, func(b *testing.B, bb *benchBoard) {
		forRandomMembers(b, bb, func(m string) bool { _, ok := bb.b.Rank(m); return ok })
	})
}

func BenchmarkScore(b *testing.B) {
	forSizes(b, func(b *testing.B, bb *benchBoard) {
		forRandomMembers(b, bb, func(m string) bool { _, ok := bb.b.Score(m); return ok })
	})
}

// forRandomMembers calls f on random members of bb until the benchmark
// ends; f reports whether it found the member.
func forRandomMembers(b *testing.B, bb *benchBoard, f func(m string) bool) {
	r := rand.New(rand.NewPCG(7, 8))
	n := len(bb.names)
	for b.Loop() {
		if !f(bb.names[r.IntN(n)]) {
			b.Fatal("member missing")
		}
	}
}

func BenchmarkTop10(b *testing.B) {
	forSizes(b, func(b *testing.B, bb *benchBoard) {
		dst := make([]Entry, 0, 10)
		for b.Loop() {
			dst = bb.b.Top(10, dst[:0])
		}
		if len(dst) != 10 {
			b.Fatal("short top")
		}
	})
}

func BenchmarkAround5(b *testing.B) {
	forSizes(b, func(b *testing.B, bb *benchBoard) {
		r := rand.New(rand.NewPCG(9, 10))
		n := len(bb.names)
		dst := make([]Entry, 0, 11)
		for b.Loop() {
			dst = bb.b.Around(bb.names[r.IntN(n)], 5, dst[:0])
		}
	})
}

// BenchmarkRankParallel shows readers sharing the RWMutex.
func BenchmarkRankParallel(b *testing.B) {
	forSizesCPU(b, false, func(b *testing.B, bb *benchBoard) {
		n := len(bb.names)
		b.RunParallel(func(pb *testing.PB) {
			r := rand.New(rand.NewPCG(rand.Uint64(), 1))
			for pb.Next() {
				bb.b.Rank(bb.names[r.IntN(n)])
			}
		})
	})
}
