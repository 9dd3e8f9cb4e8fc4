// Package leaderboardbench compares sysblocks/leaderboard with
// github.com/bytedance/gopkg/collection/zset on the same workloads: both
// hold n members "player:i" with random integer scores, and every operation
// answers in board order (highest first). The peer's RevRank returns the
// ascending rank, so its descending rank is Len()-1-RevRank.
package leaderboardbench

import (
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bytedance/gopkg/collection/zset"
	"github.com/sysblocks/sysblocks/leaderboard"
)

const scoreRange = 1 << 30

var sizes = []struct {
	name string
	n    int
}{{"n=1k", 1_000}, {"n=1M", 1_000_000}}

// impl is one side of the comparison.
type impl interface {
	update(m string, s float64)
	incr(m string, d float64)
	rank(m string) int
	top10() int
	around5(m string) int
}

type ours struct {
	b   *leaderboard.Board
	dst []leaderboard.Entry
}

func (o *ours) update(m string, s float64) { o.b.Add(m, s) }
func (o *ours) incr(m string, d float64)   { o.b.Incr(m, d) }
func (o *ours) rank(m string) int          { r, _ := o.b.Rank(m); return r }
func (o *ours) top10() int                 { o.dst = o.b.Top(10, o.dst[:0]); return len(o.dst) }
func (o *ours) around5(m string) int       { o.dst = o.b.Around(m, 5, o.dst[:0]); return len(o.dst) }

type peer struct{ z *zset.Float64Set }

func (p *peer) update(m string, s float64) { p.z.Add(s, m) }
func (p *peer) incr(m string, d float64)   { p.z.IncrBy(d, m) }
func (p *peer) rank(m string) int          { return p.z.Len() - 1 - p.z.RevRank(m) }
func (p *peer) top10() int                 { return len(p.z.RevRange(0, 9)) }
func (p *peer) around5(m string) int {
	r := p.rank(m)
	return len(p.z.RevRange(max(r-5, 0), r+5))
}

type fixture struct {
	names  []string
	impl   impl
	perMem float64
}

var cache = map[string]*fixture{}

// build returns (once) impl name filled with n members and its heap bytes
// per member.
func build(name string, n int) *fixture {
	k := name + strconv.Itoa(n)
	if f, ok := cache[k]; ok {
		return f
	}
	names := make([]string, n)
	for i := range names {
		names[i] = "player:" + strconv.Itoa(i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var im impl
	if name == "sysblocks" {
		im = &ours{b: leaderboard.New(), dst: make([]leaderboard.Entry, 0, 11)}
	} else {
		im = &peer{z: zset.NewFloat64()}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, m := range names {
		im.update(m, float64(r.IntN(scoreRange)))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	f := &fixture{names: names, impl: im, perMem: float64(after.HeapAlloc-before.HeapAlloc) / float64(n)}
	cache[k] = f
	return f
}

var updateSeed atomic.Uint64

var ops = []struct {
	name string
	run  func(b *testing.B, f *fixture)
}{
	{"Update", func(b *testing.B, f *fixture) {
		// A fresh stream per run: with -count, a repeated one would mostly
		// set members to the scores they already hold.
		r := rand.New(rand.NewPCG(updateSeed.Add(1), 4))
		for b.Loop() {
			f.impl.update(f.names[r.IntN(len(f.names))], float64(r.IntN(scoreRange)))
		}
	}},
	{"Incr", func(b *testing.B, f *fixture) {
		r := rand.New(rand.NewPCG(5, 6))
		for b.Loop() {
			f.impl.incr(f.names[r.IntN(len(f.names))], float64(1+r.IntN(100)))
		}
	}},
	{"Rank", func(b *testing.B, f *fixture) {
		r := rand.New(rand.NewPCG(7, 8))
		for b.Loop() {
			f.impl.rank(f.names[r.IntN(len(f.names))])
		}
	}},
	{"Top10", func(b *testing.B, f *fixture) {
		for b.Loop() {
			if f.impl.top10() != 10 {
				b.Fatal("short top")
			}
		}
	}},
	{"Around5", func(b *testing.B, f *fixture) {
		r := rand.New(rand.NewPCG(9, 10))
		for b.Loop() {
			f.impl.around5(f.names[r.IntN(len(f.names))])
		}
	}},
}

// BenchmarkLeaderboard runs every op at every size for both implementations:
// BenchmarkLeaderboard/Update/n=1M/impl=sysblocks vs .../impl=bytedance.
func BenchmarkLeaderboard(b *testing.B) {
	for _, op := range ops {
		b.Run(op.name, func(b *testing.B) {
			for _, sz := range sizes {
				b.Run(sz.name, func(b *testing.B) {
					if testing.Short() && sz.n >= 1_000_000 {
						b.Skip("large board skipped under -short")
					}
					for _, name := range []string{"sysblocks", "bytedance"} {
						b.Run("impl="+name, func(b *testing.B) {
							f := build(name, sz.n)
							b.ReportAllocs()
							runtime.LockOSThread()
							defer runtime.UnlockOSThread()
							start := threadCPU()
							op.run(b, f)
							if cpu := threadCPU() - start; cpu > 0 {
								b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
							}
							b.ReportMetric(f.perMem, "B/member") // after the loop: b.Loop's timer reset drops metrics
						})
					}
				})
			}
		})
	}
}

// TestAgreement checks that both sides answer the workloads identically, so
// the benchmark compares equal work.
func TestAgreement(t *testing.T) {
	a, p := build("sysblocks", 1000), build("bytedance", 1000)
	for _, m := range a.names[:100] {
		if x, y := a.impl.rank(m), p.impl.rank(m); x != y {
			t.Fatalf("rank(%s): sysblocks %d, bytedance %d", m, x, y)
		}
		if x, y := a.impl.around5(m), p.impl.around5(m); x != y {
			t.Fatalf("around5(%s): sysblocks %d entries, bytedance %d", m, x, y)
		}
	}
	ob, pz := a.impl.(*ours), p.impl.(*peer)
	top := ob.b.Top(10, nil)
	for i, n := range pz.z.RevRange(0, 9) {
		if top[i].Member != n.Value || top[i].Score != n.Score {
			t.Fatalf("top[%d]: sysblocks %+v, bytedance %+v", i, top[i], n)
		}
	}
}

// TestRatios prints peer/sysblocks CPU-time ratios per op and size (CPU
// time of the benchmarking thread, so the ratio holds on a shared machine). It runs
// only with SYSBLOCKS_LONG=1 (it takes about a minute):
//
//	cd bench && SYSBLOCKS_LONG=1 go test -run TestRatios -v ./leaderboard/
func TestRatios(t *testing.T) {
	if os.Getenv("SYSBLOCKS_LONG") != "1" {
		t.Skip("set SYSBLOCKS_LONG=1")
	}
	for _, sz := range sizes {
		for _, op := range ops {
			var ns [2]float64
			for i, name := range []string{"sysblocks", "bytedance"} {
				f := build(name, sz.n)
				var cpu time.Duration
				res := testing.Benchmark(func(b *testing.B) {
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					start := threadCPU()
					op.run(b, f)
					cpu = threadCPU() - start
				})
				ns[i] = float64(cpu.Nanoseconds()) / float64(res.N)
			}
			t.Logf("%-8s %-5s sysblocks %9.1f cpu-ns/op  bytedance %9.1f cpu-ns/op  peer/ours %.2fx",
				op.name, sz.name, ns[0], ns[1], ns[1]/ns[0])
		}
	}
}
