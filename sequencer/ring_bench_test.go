package sequencer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// benchItem is an order-sized payload: four words.
type benchItem struct{ id, price, qty, side int64 }

const benchRingSize = 4096

var errBenchDone = errors.New("bench: done")

// BenchmarkRing measures producer-to-consumer throughput; one op is one
// event. Producers claim and publish batches of the given size; the consumer
// reads whatever is available. BenchmarkChannel is the baseline: a buffered
// channel of the same capacity, one event per send.
func BenchmarkRing(b *testing.B) {
	for _, producers := range []int{1, 4} {
		for _, batch := range []int{1, 16, 256} {
			for _, ws := range strategies {
				name := fmt.Sprintf("%dP1C/batch=%d/wait=%v", producers, batch, ws)
				b.Run(name, func(b *testing.B) { benchRing(b, producers, batch, ws) })
			}
		}
	}
}

func benchRing(b *testing.B, producers, batch int, ws WaitStrategy) {
	opts := []RingOption{WithWait(ws)}
	if producers > 1 {
		opts = append(opts, WithMultiProducer())
	}
	r, err := NewRing[benchItem](benchRingSize, opts...)
	if err != nil {
		b.Fatal(err)
	}
	c, err := r.NewConsumer()
	if err != nil {
		b.Fatal(err)
	}
	total := b.N
	b.ReportAllocs()
	b.ResetTimer()
	done := make(chan error, 1)
	go func() {
		var seen int
		var sum int64
		done <- c.Consume(context.Background(), func(_ uint64, items []benchItem) error {
			for i := range items {
				sum += items[i].qty
			}
			seen += len(items)
			if seen >= total {
				return errBenchDone
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
			for sent := 0; sent < n; {
				k := min(batch, n-sent)
				seq, err := r.Claim(k)
				if err != nil {
					b.Error(err)
					return
				}
				for i := range k {
					*r.Slot(seq + uint64(i)) = benchItem{id: int64(sent + i), price: 42, qty: 1, side: 1}
				}
				r.Publish(seq, k)
				sent += k
			}
		}()
	}
	wg.Wait()
	if err := <-done; !errors.Is(err, errBenchDone) {
		b.Fatal(err)
	}
}

func BenchmarkChannel(b *testing.B) {
	for _, producers := range []int{1, 4} {
		b.Run(fmt.Sprintf("%dP1C", producers), func(b *testing.B) {
			ch := make(chan benchItem, benchRingSize)
			total := b.N
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			for p := range producers {
				n := share(total, producers, p)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range n {
						ch <- benchItem{id: int64(i), price: 42, qty: 1, side: 1}
					}
				}()
			}
			var sum int64
			for range total {
				sum += (<-ch).qty
			}
			wg.Wait()
			if sum != int64(total) {
				b.Fatalf("sum %d, want %d", sum, total)
			}
		})
	}
}

// share returns producer p's part of total events.
func share(total, producers, p int) int {
	n := total / producers
	if p < total%producers {
		n++
	}
	return n
}
