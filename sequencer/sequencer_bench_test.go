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
// handler; p50/p99 are that per-event latency. mem uses a SyncNever journal,
// durable a SyncAlways journal (group commit: one fsync per write).
func BenchmarkSubmit(b *testing.B) {
	for _, mode := range []struct {
		name string
		sync wal.SyncPolicy
	}{{"mem", wal.SyncNever}, {"durable", wal.SyncAlways}} {
		for _, producers := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("%s/producers=%d", mode.name, producers), func(b *testing.B) {
				benchSubmit(b, mode.sync, producers)
			})
		}
	}
}

var errBenchStop = errors.New("bench: stop")

func benchSubmit(b *testing.B, policy wal.SyncPolicy, producers int) {
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
			h.record(int64(time.Since(base)) - int64(binary.LittleEndian.Uint64(e.Payload)))
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
			payload := make([]byte, 64)
			for i := range n {
				binary.LittleEndian.PutUint64(payload, uint64(time.Since(base)))
				if _, err := s.Submit(uint64(p), uint64(i+1), payload); err != nil {
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
