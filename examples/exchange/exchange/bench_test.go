package exchange

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/sysblocks/sysblocks/wal"
)

// BenchmarkApply measures the state machine alone (order manager, ledger,
// matching): the single-threaded loop's cost per command, as in a replay.
func BenchmarkApply(b *testing.B) {
	for _, accounts := range []int{100, 2000} {
		b.Run(fmt.Sprintf("accounts=%d", accounts), func(b *testing.B) {
			cfg := Config{Accounts: accounts}
			s, err := NewState(cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			fair := make([]atomic.Int64, 100)
			for i, sy := range DefaultSymbols() {
				fair[i].Store(sy.RefPrice)
			}
			cmds := make([][]byte, 1<<14)
			for i := range cmds {
				cmds[i] = AppendCommand(nil, simOrderCommand(rng, uint64(1+rng.IntN(accounts)), fair))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				seq := uint64(i + 1)
				if _, err := s.Apply(seq, int64(seq)*1000, cmds[i%len(cmds)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSubmit measures the whole trading path (gateway session ->
// journal -> sequencer -> state machine -> ack) with many clients.
func BenchmarkSubmit(b *testing.B) {
	for _, sync := range []wal.SyncPolicy{wal.SyncNever, wal.SyncAlways} {
		b.Run("sync="+sync.String(), func(b *testing.B) {
			x, err := Open(b.TempDir(), Options{Config: Config{Accounts: 500}, Sync: sync, Sessions: 64})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			res, err := Simulate(context.Background(), x, SimOptions{Commands: b.N, Clients: 64, Seed: 1})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if err := x.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(res.Latency.Quantile(0.99).Microseconds()), "p99-µs")
		})
	}
}
