// Package sequencerbench compares sequencer.Ring with the Go baseline for
// handing events between goroutines: a buffered channel of the same
// capacity, one event per send.
package sequencerbench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/sequencer"
)

// event is an order-sized payload: four words.
type event struct{ id, price, qty, side int64 }

const capacity = 4096

var errDone = errors.New("bench: done")

// split returns producer p's share of total events.
func split(total, producers, p int) int {
	n := total / producers
	if p < total%producers {
		n++
	}
	return n
}

// runRing moves total events from producers goroutines, which claim and
// publish batches of batch slots, to one consumer reading whatever is
// available, and returns the elapsed time.
func runRing(tb testing.TB, total, producers, batch int) time.Duration {
	opts := []sequencer.RingOption{}
	if producers > 1 {
		opts = append(opts, sequencer.WithMultiProducer())
	}
	r, err := sequencer.NewRing[event](capacity, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := r.NewConsumer()
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		seen, sum := 0, int64(0)
		done <- c.Consume(context.Background(), func(_ uint64, items []event) error {
			for i := range items {
				sum += items[i].qty
			}
			seen += len(items)
			if seen >= total {
				if sum != int64(total) {
					return fmt.Errorf("sum %d, want %d", sum, total)
				}
				return errDone
			}
			return nil
		})
	}()
	var wg sync.WaitGroup
	for p := range producers {
		n := split(total, producers, p)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sent := 0; sent < n; {
				k := min(batch, n-sent)
				seq, err := r.Claim(k)
				if err != nil {
					tb.Error(err)
					return
				}
				for i := range k {
					*r.Slot(seq + uint64(i)) = event{id: int64(sent + i), price: 42, qty: 1, side: 1}
				}
				r.Publish(seq, k)
				sent += k
			}
		}()
	}
	wg.Wait()
	if err := <-done; !errors.Is(err, errDone) {
		tb.Fatal(err)
	}
	return time.Since(start)
}

// runChannel moves total events from producers goroutines to one consumer
// through a buffered channel of the ring's capacity.
func runChannel(tb testing.TB, total, producers int) time.Duration {
	ch := make(chan event, capacity)
	start := time.Now()
	var wg sync.WaitGroup
	for p := range producers {
		n := split(total, producers, p)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				ch <- event{id: int64(i), price: 42, qty: 1, side: 1}
			}
		}()
	}
	var sum int64
	for range total {
		sum += (<-ch).qty
	}
	wg.Wait()
	if sum != int64(total) {
		tb.Fatalf("sum %d, want %d", sum, total)
	}
	return time.Since(start)
}

// BenchmarkRingVsChannel: one op is one event handed from a producer to the
// consumer. "ring" reports x-vs-chan, the time the channel takes for the same
// number of events (measured right after, outside the timer) divided by the
// ring's: above 1 the ring is faster. The ring uses its default wait
// strategy (Block).
func BenchmarkRingVsChannel(b *testing.B) {
	for _, producers := range []int{1, 4} {
		b.Run(fmt.Sprintf("%dP1C/chan", producers), func(b *testing.B) {
			b.ReportAllocs()
			runChannel(b, b.N, producers)
		})
		for _, batch := range []int{1, 16, 256} {
			b.Run(fmt.Sprintf("%dP1C/ring/batch=%d", producers, batch), func(b *testing.B) {
				b.ReportAllocs()
				ring := runRing(b, b.N, producers, batch)
				b.StopTimer()
				ch := runChannel(b, b.N, producers)
				b.ReportMetric(float64(ch)/float64(ring), "x-vs-chan")
			})
		}
	}
}

// TestSameEvents checks that both transports deliver every event (the sums
// inside runRing and runChannel), so the benchmark compares equal work.
func TestSameEvents(t *testing.T) {
	for _, producers := range []int{1, 4} {
		for _, batch := range []int{1, 16, 256} {
			runRing(t, 10_000, producers, batch)
		}
		runChannel(t, 10_000, producers)
	}
}
