package ledger

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/wal"
)

const benchAccounts = 10_000

// benchLedger returns a ledger with benchAccounts accounts in one ledger, none limited: every
// benchmark transfer succeeds, so the numbers measure the success path.
func benchLedger(b *testing.B, durable bool) (*Ledger, func()) {
	b.Helper()
	var l *Ledger
	done := func() {}
	if durable {
		w, err := wal.Open(b.TempDir(), wal.Options{Sync: wal.SyncAlways})
		if err != nil {
			b.Fatal(err)
		}
		if l, err = Open(w, Options{}); err != nil {
			b.Fatal(err)
		}
		done = func() { _ = l.Close(); _ = w.Close() }
	} else {
		l = New(Options{})
	}
	createBenchAccounts(b, l)
	return l, done
}

// createBenchAccounts creates accounts 1..benchAccounts in batches of MaxBatch.
func createBenchAccounts(b *testing.B, l *Ledger) {
	b.Helper()
	accounts := make([]Account, benchAccounts)
	for i := range accounts {
		accounts[i] = Account{ID: uint64(i + 1), Ledger: 1, Code: 1}
	}
	for len(accounts) > 0 {
		n := min(len(accounts), MaxBatch)
		if _, err := l.CreateAccounts(accounts[:n]); err != nil {
			b.Fatal(err)
		}
		accounts = accounts[n:]
	}
}

// benchBatch returns n transfers between pseudo-random account pairs; setIDs numbers them.
func benchBatch(n int) []Transfer {
	batch := make([]Transfer, n)
	x := uint64(88172645463325252)
	for i := range batch {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		dr := 1 + x%benchAccounts
		cr := 1 + (dr+1+(x>>20)%(benchAccounts-1))%benchAccounts
		batch[i] = Transfer{DebitAccountID: dr, CreditAccountID: cr, Amount: 1 + x%1000, Ledger: 1, Code: 1}
	}
	return batch
}

func setIDs(batch []Transfer, next *uint64) {
	for i := range batch {
		*next++
		batch[i].ID = *next
	}
}

// renew replaces an in-memory ledger by a fresh one (timer stopped) once it holds 4M
// transfers, so that long runs do not exhaust memory.
func renew(b *testing.B, l *Ledger, next *uint64) *Ledger {
	if *next < 4_000_000 {
		return l
	}
	b.StopTimer()
	defer b.StartTimer()
	*next = 0
	fresh, _ := benchLedger(b, false)
	return fresh
}

var batchSizes = []int{1, 100, 8189}

// BenchmarkCreateTransfers measures CreateTransfersInto (results appended to a reused slice)
// in memory and durable (wal.SyncAlways: one fsync per batch) for TigerBeetle-like batch sizes.
// The in-memory ledger is replaced (timer stopped) every 4M transfers to bound memory.
func BenchmarkCreateTransfers(b *testing.B) {
	for _, durable := range []bool{false, true} {
		mode := "mem"
		if durable {
			mode = "durable"
		}
		for _, n := range batchSizes {
			b.Run(fmt.Sprintf("%s/batch=%d", mode, n), func(b *testing.B) {
				l, done := benchLedger(b, durable)
				defer func() { done() }()
				batch := benchBatch(n)
				res := make([]Result, 0, n)
				var next uint64
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				for i := 0; i < b.N; i++ {
					if !durable {
						l = renew(b, l, &next)
					}
					setIDs(batch, &next)
					var err error
					res, err = l.CreateTransfersInto(res[:0], batch)
					if err != nil || res[n-1].Code != Ok {
						b.Fatal(err, res[n-1].Code)
					}
				}
				b.ReportMetric(float64(b.N*n)/time.Since(start).Seconds(), "transfers/s")
			})
		}
	}
}

// BenchmarkCreateTransfersParallel runs 16 callers per CPU on a durable ledger: group commit
// makes them share journal writes and fsyncs, so throughput grows with the callers.
func BenchmarkCreateTransfersParallel(b *testing.B) {
	for _, n := range batchSizes {
		b.Run(fmt.Sprintf("durable/batch=%d", n), func(b *testing.B) {
			l, done := benchLedger(b, true)
			defer done()
			var ids atomic.Uint64
			b.SetParallelism(16)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				batch := benchBatch(n)
				res := make([]Result, 0, n)
				for pb.Next() {
					next := ids.Add(uint64(n)) - uint64(n)
					setIDs(batch, &next)
					var err error
					if res, err = l.CreateTransfersInto(res[:0], batch); err != nil || res[0].Code != Ok {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*n)/time.Since(start).Seconds(), "transfers/s")
		})
	}
}

// BenchmarkPendingPost is the exchange's path: reserve funds with a pending transfer, then post
// it (a fill) in the next batch, in batches of 100 pairs, in memory.
func BenchmarkPendingPost(b *testing.B) {
	const n = 100
	l, _ := benchLedger(b, false)
	pend := benchBatch(n)
	post := make([]Transfer, n)
	res := make([]Result, 0, n)
	var next uint64
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		l = renew(b, l, &next)
		for k := range pend {
			next++
			pend[k].ID, pend[k].Flags = next, Pending
			next++
			post[k] = Transfer{ID: next, PendingID: pend[k].ID, Flags: PostPending}
		}
		res, _ = l.CreateTransfersInto(res[:0], pend)
		res, _ = l.CreateTransfersInto(res[:0], post)
		if res[n-1].Code != Ok {
			b.Fatal(res[n-1].Code)
		}
	}
	b.ReportMetric(float64(b.N*2*n)/time.Since(start).Seconds(), "transfers/s")
}

// BenchmarkReplay measures Open over a journal of 100 batches of 8,189 transfers.
func BenchmarkReplay(b *testing.B) {
	batches := 100
	if testing.Short() {
		batches = 5
	}
	dir := b.TempDir()
	w, err := wal.Open(dir, wal.Options{Sync: wal.SyncNever})
	if err != nil {
		b.Fatal(err)
	}
	l, err := Open(w, Options{})
	if err != nil {
		b.Fatal(err)
	}
	createBenchAccounts(b, l)
	batch := benchBatch(8189)
	var next uint64
	for range batches {
		setIDs(batch, &next)
		if _, err := l.CreateTransfers(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := Open(w, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*float64(next)/time.Since(start).Seconds(), "transfers/s")
	b.StopTimer()
	_ = w.Close()
}

// BenchmarkTable measures what CreateTransfers does with a new transfer ID: a lookup that
// misses, then an insert, as the table fills up to n keys (it is emptied and refilled), for
// sequential IDs (the common idempotency-key pattern) and random ones.
func BenchmarkTable(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 20, 4 << 20} {
		for _, pattern := range []string{"seq", "rand"} {
			b.Run(fmt.Sprintf("n=%dk/%s", n>>10, pattern), func(b *testing.B) {
				if n >= 1<<20 && testing.Short() {
					b.Skip("large table under -short")
				}
				keys := make([]uint64, n)
				x := uint64(0x9e3779b97f4a7c15)
				for i := range keys {
					keys[i] = uint64(i + 1)
					if pattern == "rand" {
						x ^= x << 13
						x ^= x >> 7
						x ^= x << 17
						keys[i] = x | 1
					}
				}
				var t table
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					k := keys[i%n]
					if i%n == 0 {
						t = table{}
					}
					if _, ok := t.get(k); ok {
						b.Fatal("key present", k)
					}
					t.put(k, uint32(i))
				}
			})
		}
	}
}
