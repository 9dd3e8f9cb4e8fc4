// Package ledgerbench runs the ledger's workloads side by side in memory and durable.
//
// There is no Go peer to compare against (TigerBeetle is a Zig server reached over the network,
// so its published figures — 160k-300k transfers/s for batches of 8,189 on a replicated cluster
// — are quoted, not re-measured). What is compared here is the cost of durability: the same
// batches applied to an in-memory ledger and to a journaled one (wal.SyncAlways, one fsync per
// group of batches), timed alternately in the same loop, with the ratio reported.
package ledgerbench

import (
	"fmt"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/ledger"
	"github.com/sysblocks/sysblocks/wal"
)

const accounts = 10_000

func setup(b *testing.B, l *ledger.Ledger) {
	b.Helper()
	batch := make([]ledger.Account, accounts)
	for i := range batch {
		batch[i] = ledger.Account{ID: uint64(i + 1), Ledger: 1, Code: 1}
	}
	for len(batch) > 0 {
		n := min(len(batch), ledger.MaxBatch)
		if _, err := l.CreateAccounts(batch[:n]); err != nil {
			b.Fatal(err)
		}
		batch = batch[n:]
	}
}

func transfers(n int) []ledger.Transfer {
	batch := make([]ledger.Transfer, n)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range batch {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		dr := 1 + x%accounts
		cr := 1 + dr%accounts
		batch[i] = ledger.Transfer{DebitAccountID: dr, CreditAccountID: cr, Amount: 1 + x%500, Ledger: 1, Code: 1}
	}
	return batch
}

// BenchmarkMemVsDurable applies each batch to both ledgers in turn and reports each one's
// transfers/s and the slowdown of durability (durable/mem time).
func BenchmarkMemVsDurable(b *testing.B) {
	for _, n := range []int{1, 100, 8189} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			mem := ledger.New(ledger.Options{})
			setup(b, mem)
			w, err := wal.Open(b.TempDir(), wal.Options{Sync: wal.SyncAlways})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			dur, err := ledger.Open(w, ledger.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer dur.Close()
			setup(b, dur)
			batch := transfers(n)
			res := make([]ledger.Result, 0, n)
			var next uint64
			var tMem, tDur time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for k := range batch {
					next++
					batch[k].ID = next
				}
				for _, l := range []*ledger.Ledger{mem, dur} {
					start := time.Now()
					res, err = l.CreateTransfersInto(res[:0], batch)
					el := time.Since(start)
					if err != nil || res[n-1].Code != ledger.Ok {
						b.Fatal(err, res[n-1].Code)
					}
					if l == mem {
						tMem += el
					} else {
						tDur += el
					}
				}
			}
			total := float64(b.N * n)
			b.ReportMetric(total/tMem.Seconds(), "mem-transfers/s")
			b.ReportMetric(total/tDur.Seconds(), "durable-transfers/s")
			b.ReportMetric(tDur.Seconds()/tMem.Seconds(), "durable/mem")
		})
	}
}
