package orderbook_test

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/orderbook"
	"github.com/sysblocks/sysblocks/orderbook/benchmix"
)

var (
	mixOnce  sync.Once
	mixCmds  []benchmix.Command
	mixStats benchmix.Stats
)

// mix returns the exchange-core mix: 3M commands, 100k under -short.
func mix(b *testing.B) ([]benchmix.Command, benchmix.Stats) {
	mixOnce.Do(func() {
		n := 3_000_000
		if testing.Short() {
			n = 100_000
		}
		mixCmds, mixStats = benchmix.Generate(n, 1)
	})
	b.Logf("%v", mixStats)
	return mixCmds, mixStats
}

// BenchmarkMix replays the exchange-core benchmark mix on one book (see
// package benchmix). One op is the whole stream; cmds/s is the throughput
// and ns/cmd the mean cost. The latency variant times every command
// (adding the clock's own cost, ~20-40 ns) and reports p50/p99/p99.9.
func BenchmarkMix(b *testing.B) {
	for _, index := range []struct {
		name string
		new  func() *orderbook.Book
	}{
		{"ladder", func() *orderbook.Book { bk, _ := orderbook.New(orderbook.Config{}); return bk }},
		{"tree", func() *orderbook.Book { return orderbook.NewTreeOnly(orderbook.Config{}) }},
	} {
		b.Run("index="+index.name+"/throughput", func(b *testing.B) {
			cmds, st := mix(b)
			b.ReportAllocs()
			trades := make([]orderbook.Trade, 0, 64)
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var cpu benchmix.CPUClock
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				bk := index.new()
				b.StartTimer()
				cpu.Start()
				failed := benchmix.Replay(bk, cmds, trades)
				cpu.Stop()
				if failed != 0 {
					b.Fatalf("%d commands failed", failed)
				}
				b.StopTimer()
				if bk.Hash() != st.Hash {
					b.Fatal("replay diverged from the generator")
				}
				b.StartTimer()
			}
			total := float64(len(cmds)) * float64(b.N)
			b.ReportMetric(total/b.Elapsed().Seconds(), "cmds/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/total, "ns/cmd")
			cpu.Report(b, len(cmds))
		})
		b.Run("index="+index.name+"/latency", func(b *testing.B) {
			cmds, _ := mix(b)
			b.ReportAllocs()
			trades := make([]orderbook.Trade, 0, 64)
			var h benchmix.Histogram
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				bk := index.new()
				b.StartTimer()
				for j := range cmds {
					t0 := time.Now()
					benchmix.Step(bk, &cmds[j], &trades)
					h.Record(int64(time.Since(t0)))
				}
			}
			b.ReportMetric(float64(h.Quantile(0.5)), "p50-ns")
			b.ReportMetric(float64(h.Quantile(0.99)), "p99-ns")
			b.ReportMetric(float64(h.Quantile(0.999)), "p99.9-ns")
		})
	}
}
