package orderbook

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/orderbook/internal/cputime"
)

const benchMid = 1_000_000

// benchSizes are the resting-order counts of the per-operation benchmarks.
var benchSizes = []int{1_000, 100_000, 1_000_000}

// benchBook holds n resting orders of qty 10: even ids bid, odd ids ask,
// each side spread over 1,000 ticks next to the mid.
type benchBook struct {
	b      *Book
	r      *rand.Rand
	nextID uint64
}

func newBenchBook(tb testing.TB, n int, tree bool) *benchBook {
	bb := &benchBook{r: rand.New(rand.NewPCG(uint64(n), 7))}
	if tree {
		bb.b = NewTreeOnly(Config{})
	} else {
		bb.b = newBook(Config{Window: DefaultWindow})
	}
	for i := 0; i < n; i++ {
		bb.add(tb)
	}
	return bb
}

func (bb *benchBook) price(s Side) int64 {
	k := int64(bb.r.IntN(1000))
	if s == Buy {
		return benchMid - 1 - k
	}
	return benchMid + k
}

func (bb *benchBook) add(tb testing.TB) uint64 {
	bb.nextID++
	id := bb.nextID
	s := Side(1 + id%2)
	if _, err := bb.b.Submit(Order{ID: id, Side: s, Price: bb.price(s), Qty: 10}, nil); err != nil {
		tb.Fatal(err)
	}
	return id
}

// randomLive returns the id of a random resting order.
func (bb *benchBook) randomLive() uint64 {
	for {
		id := 1 + bb.r.Uint64N(bb.nextID)
		if bb.b.ids.get(id) != 0 {
			return id
		}
	}
}

func runSizes(b *testing.B, fn func(b *testing.B, n int, tree bool)) {
	for _, n := range benchSizes {
		for _, tree := range []bool{false, true} {
			index := "ladder"
			if tree {
				index = "tree"
			}
			b.Run(fmt.Sprintf("n=%s/index=%s", sizeName(n), index), func(b *testing.B) {
				if n >= 1_000_000 && testing.Short() {
					b.Skip("1M resting orders: skipped under -short")
				}
				b.ReportAllocs()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				fn(b, n, tree)
			})
		}
	}
}

func sizeName(n int) string {
	switch {
	case n >= 1_000_000:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1_000:
		return fmt.Sprintf("%dk", n/1_000)
	}
	return fmt.Sprint(n)
}

// clock pairs the benchmark timer with the thread's CPU time, reported as
// cpu-ns/op: on a loaded machine wall time mostly measures the other
// processes.
type clock struct {
	b         *testing.B
	total, t0 time.Duration
	ok        bool
}

// newClock resets b's timer and starts both clocks.
func newClock(b *testing.B) *clock {
	c := &clock{b: b}
	b.ResetTimer()
	c.t0, c.ok = cputime.Thread()
	return c
}

func (c *clock) start() {
	c.b.StartTimer()
	c.t0, c.ok = cputime.Thread()
}

func (c *clock) stop() {
	if t, ok := cputime.Thread(); ok && c.ok {
		c.total += t - c.t0
	}
	c.b.StopTimer()
}

// done stops the clocks and reports cpu-ns/op.
func (c *clock) done() {
	c.stop()
	if c.total > 0 {
		c.b.ReportMetric(float64(c.total.Nanoseconds())/float64(c.b.N), "cpu-ns/op")
	}
}

// batch is how many timed operations run between untimed restorations of
// the book's size, so that the size stays near n.
func batch(n int) int { return min(1024, n/8) }

// BenchmarkSubmitResting measures Submit of a passive GTC order that rests.
func BenchmarkSubmitResting(b *testing.B) {
	runSizes(b, func(b *testing.B, n int, tree bool) {
		bb := newBenchBook(b, n, tree)
		k := batch(n)
		orders := make([]Order, k)
		clk := newClock(b)
		for done := 0; done < b.N; {
			clk.stop()
			m := min(k, b.N-done)
			for i := range orders[:m] {
				bb.nextID++
				s := Side(1 + bb.nextID%2)
				orders[i] = Order{ID: bb.nextID, Side: s, Price: bb.price(s), Qty: 10}
			}
			clk.start()
			for i := range orders[:m] {
				bb.b.Submit(orders[i], nil)
			}
			clk.stop()
			for i := range orders[:m] {
				bb.b.Cancel(orders[i].ID)
			}
			clk.start()
			done += m
		}
		clk.done()
	})
}

// BenchmarkCancel measures Cancel of a random resting order.
func BenchmarkCancel(b *testing.B) {
	runSizes(b, func(b *testing.B, n int, tree bool) {
		bb := newBenchBook(b, n, tree)
		live := make([]uint64, n) // the resting ids
		for i := range live {
			live[i] = uint64(i + 1)
		}
		k := batch(n)
		clk := newClock(b)
		for done := 0; done < b.N; {
			clk.stop()
			m := min(k, b.N-done)
			// A partial Fisher-Yates shuffle puts m distinct random
			// victims first.
			for i := 0; i < m; i++ {
				j := i + bb.r.IntN(len(live)-i)
				live[i], live[j] = live[j], live[i]
			}
			clk.start()
			for _, id := range live[:m] {
				bb.b.Cancel(id)
			}
			clk.stop()
			for i := range live[:m] {
				live[i] = bb.add(b)
			}
			clk.start()
			done += m
		}
		clk.done()
	})
}

// BenchmarkAmend measures Amend of a random resting order to a new random
// passive price (it loses priority and moves level); the size stays n. The
// order and price are drawn inside the timed loop (a PCG step, a few ns),
// so that large books are not measured on a cache-warm subset.
func BenchmarkAmend(b *testing.B) {
	runSizes(b, func(b *testing.B, n int, tree bool) {
		bb := newBenchBook(b, n, tree)
		clk := newClock(b)
		for i := 0; i < b.N; i++ {
			id := 1 + bb.r.Uint64N(uint64(n)) // ids 1..n stay live
			if _, err := bb.b.Amend(id, bb.price(Side(1+id%2)), 10, nil); err != nil {
				b.Fatal(err)
			}
		}
		clk.done()
	})
}

// BenchmarkMatch measures an IOC order that fills exactly one resting
// order (1:1 match), alternating sides.
func BenchmarkMatch(b *testing.B) {
	runSizes(b, func(b *testing.B, n int, tree bool) {
		bb := newBenchBook(b, n, tree)
		k := batch(n)
		trades := make([]Trade, 0, 4)
		clk := newClock(b)
		for done := 0; done < b.N; {
			m := min(k, b.N-done)
			for i := 0; i < m; i++ {
				bb.nextID++
				o := Order{ID: bb.nextID, Side: Side(1 + bb.nextID%2), TIF: IOC, Qty: 10, Kind: Market}
				res, _ := bb.b.Submit(o, trades[:0])
				if len(res.Trades) != 1 {
					b.Fatalf("%d trades", len(res.Trades))
				}
			}
			clk.stop()
			for i := 0; i < m; i++ {
				bb.add(b)
			}
			clk.start()
			done += m
		}
		clk.done()
	})
}
