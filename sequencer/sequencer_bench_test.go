package sequencer

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/wal"
)

// histogram is a log-linear latency histogram: 16 linear sub-buckets per
// power of two, so a percentile is within about 6% of the exact value.
type histogram struct {
	counts [64 * 16]uint64
	n      uint64
}

func (h *histogram) record(ns int64) {
	v := uint64(max(ns, 1))
	exp := bits.Len64(v) - 1 // v in [2^exp, 2^(exp+1))
	sub := uint64(0)
	if exp >= 4 {
		sub = (v >> (exp - 4)) & 15
	} else {
		sub = v & 15
	}
	h.counts[exp*16+int(sub)]++
	h.n++
}

// quantile returns the lower bound of the bucket holding quantile q.
func (h *histogram) quantile(q float64) float64 {
	target := uint64(q * float64(h.n))
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen > target {
			exp, sub := i/16, uint64(i%16)
			if exp < 4 {
				return float64(sub)
			}
			return float64((16 + sub) << (exp - 4))
		}
	}
	return 0
}

// BenchmarkSubmit measures Submit+deliver: producers submit 64-byte payloads,
// a Run loop receives them. One op is one event, from Submit to the
// handler; p50/p99 are that per-event latency (from the start of the call
// that carried it), sampled on every latencySample-th sequence. mem uses a SyncNever journal, durable a SyncAlways
// journal (group commit: one fsync per write). batch=1 calls Submit, larger
// batches SubmitBatch with that many events per call.
func BenchmarkSubmit(b *testing.B) {
	for _, mode := range []struct {
		name string
		sync wal.SyncPolicy
	}{{"mem", wal.SyncNever}, {"durable", wal.SyncAlways}} {
		for _, producers := range []int{1, 8, 64} {
			for _, batch := range []int{1, 16, 256} {
				b.Run(fmt.Sprintf("%s/producers=%d/batch=%d", mode.name, producers, batch), func(b *testing.B) {
					benchSubmit(b, mode.sync, producers, batch)
				})
			}
		}
	}
}

var errBenchStop = errors.New("bench: stop")

// latencySample: the handler reads the clock for one event in this many
// (every event of a sampled sequence is as likely as any other), so that
// the measurement does not dominate a loop that spends ~100 ns per event.
const latencySample = 8

func benchSubmit(b *testing.B, policy wal.SyncPolicy, producers, batch int) {
	j, err := wal.Open(b.TempDir(), wal.Options{Sync: policy})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	s, err := Open(j, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()

	base := time.Now()
	var h histogram
	total := b.N
	delivered := 0
	runErr := make(chan error, 1)
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		runErr <- s.Run(context.Background(), func(e Event) error {
			if e.Seq%latencySample == 0 {
				h.record(int64(time.Since(base)) - int64(binary.LittleEndian.Uint64(e.Payload)))
			}
			delivered++
			if delivered == total {
				return errBenchStop
			}
			return nil
		})
	}()
	var wg sync.WaitGroup
	for p := range producers {
		n := share(total, producers, p)
		wg.Add(1)
		go func() {
			defer wg.Done()
			payloads := make([][]byte, batch)
			for i := range payloads {
				payloads[i] = make([]byte, 64)
			}
			var seqs []uint64
			for i := 0; i < n; i += batch {
				k := min(batch, n-i)
				now := uint64(time.Since(base))
				for _, pl := range payloads[:k] {
					binary.LittleEndian.PutUint64(pl, now)
				}
				if batch == 1 {
					_, err = s.Submit(uint64(p), uint64(i+1), payloads[0])
				} else {
					seqs, err = s.SubmitBatch(uint64(p), uint64(i+1), payloads[:k], seqs[:0])
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := <-runErr; !errors.Is(err, errBenchStop) {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(h.quantile(0.50), "p50-ns")
	b.ReportMetric(h.quantile(0.99), "p99-ns")
}

// BenchmarkReplay measures Replay of a journal of 64-byte events; one op is
// one event.
func BenchmarkReplay(b *testing.B) {
	sizes := []int{10_000, 1_000_000}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			if testing.Short() && n >= 1_000_000 {
				b.Skip("large journal skipped in -short")
			}
			j, err := wal.Open(b.TempDir(), wal.Options{Sync: wal.SyncNever})
			if err != nil {
				b.Fatal(err)
			}
			defer j.Close()
			batch := make([][]byte, 0, 1024)
			for i := range n {
				batch = append(batch, AppendEvent(nil, Event{Seq: uint64(i + 1), Source: 1, SourceSeq: uint64(i + 1), Payload: make([]byte, 64)}))
				if len(batch) == cap(batch) || i == n-1 {
					if _, err := j.AppendBatch(batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			s, err := Open(j, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.SetBytes(64)
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; {
				k := min(n, b.N-done)
				if err := s.Replay(1, func(e Event) error {
					if e.Seq == uint64(k) {
						return errBenchStop
					}
					return nil
				}); !errors.Is(err, errBenchStop) {
					b.Fatal(err)
				}
				done += k
			}
		})
	}
}

// BenchmarkJournalFloor measures the journal alone: wal.AppendBatch of
// pre-encoded events (64-byte payloads) in writes of the given size on a
// SyncNever journal, the floor under BenchmarkSubmit's mem case. One op is
// one event.
func BenchmarkJournalFloor(b *testing.B) {
	for _, batch := range []int{256, DefaultMaxBatch} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			j, err := wal.Open(b.TempDir(), wal.Options{Sync: wal.SyncNever})
			if err != nil {
				b.Fatal(err)
			}
			defer j.Close()
			records := make([][]byte, batch)
			for i := range records {
				records[i] = AppendEvent(nil, Event{Seq: 1 << 30, Source: 1000, SourceSeq: 1 << 20, Time: 1, Payload: make([]byte, 64)})
			}
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; done += batch {
				if _, err := j.AppendBatch(records[:min(batch, b.N-done)]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
