// Package benchmix generates the exchange-core benchmark command mix for an
// order book and records per-command latencies in a histogram, so the
// orderbook package and its peer comparison (bench/orderbook) replay exactly
// the same commands.
//
// # The mix
//
// exchange-core's single-symbol throughput test: 9% GTC limit orders, 3% IOC
// orders, 6% cancels and 82% moves (amend to a new price), about 6% of the
// commands trading, 1,000 accounts, about 1,000 resting orders spread over
// about 750 price levels around a fixed mid price. Generate produces such a
// stream deterministically from a seed by driving an orderbook.Book, so that
// every cancel and move names an order that is resting at that point.
//
// # Concurrency
//
// Generate is safe for concurrent use. A Histogram is not.
package benchmix

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/orderbook"
	"github.com/sysblocks/sysblocks/orderbook/internal/cputime"
)

// Op is the kind of a Command.
type Op uint8

// Ops.
const (
	GTC    Op = iota // a GTC limit order
	IOC              // an IOC limit order
	Cancel           // cancel order ID
	Move             // amend order ID to Price, keeping its open quantity (Qty)
)

// Command is one command of the mix, packed to 24 bytes so that 3 million
// of them fit in 72 MB.
type Command struct {
	ID    uint32
	Price int32 // ticks
	Qty   int32 // lots; for Move the order's open quantity at that point
	Owner uint16
	Op    Op
	Side  orderbook.Side
}

// Mid is the mix's mid price in ticks.
const Mid = 100_000

// Levels is the number of ticks each side's passive orders spread over;
// about 1,000 orders on 2 x 800 ticks occupy about 750 levels.
const Levels = 800

// Target is the number of resting orders the mix hovers around.
const Target = 1000

// Accounts is the number of distinct owners.
const Accounts = 1000

// Stats describes a generated stream.
type Stats struct {
	Commands, GTC, IOC, Cancel, Move int
	Trading                          int    // commands that traded
	Resting                          int    // orders resting at the end
	Levels                           int    // price levels at the end
	Hash                             uint64 // orderbook.Book.Hash at the end
}

func (s Stats) String() string {
	pct := func(n int) float64 { return 100 * float64(n) / float64(max(s.Commands, 1)) }
	return fmt.Sprintf("%d commands: GTC %.1f%%, IOC %.1f%%, cancel %.1f%%, move %.1f%%, trading %.1f%%; at the end %d orders on %d levels",
		s.Commands, pct(s.GTC), pct(s.IOC), pct(s.Cancel), pct(s.Move), pct(s.Trading), s.Resting, s.Levels)
}

// generator keeps the book the commands are generated against and the set
// of resting order ids (a slice with an index, for O(1) random pick and
// removal).
type generator struct {
	r      *rand.Rand
	b      *orderbook.Book
	live   []uint32
	pos    map[uint32]int
	nextID uint32
	trades []orderbook.Trade
}

func (g *generator) add(id uint32) {
	g.pos[id] = len(g.live)
	g.live = append(g.live, id)
}

func (g *generator) del(id uint32) {
	i, ok := g.pos[id]
	if !ok {
		return
	}
	last := g.live[len(g.live)-1]
	g.live[i] = last
	g.pos[last] = i
	g.live = g.live[:len(g.live)-1]
	delete(g.pos, id)
}

// passive returns a price on side's own half of the book.
func (g *generator) passive(s orderbook.Side) int32 {
	k := int32(g.r.IntN(Levels))
	if s == orderbook.Buy {
		return Mid - 1 - k
	}
	return Mid + k
}

// aggressive returns a price that crosses the other side's best, if any.
func (g *generator) aggressive(s orderbook.Side) (int32, bool) {
	var p int64
	var ok bool
	if s == orderbook.Buy {
		p, _, ok = g.b.BestAsk()
		p += int64(g.r.IntN(3))
	} else {
		p, _, ok = g.b.BestBid()
		p -= int64(g.r.IntN(3))
	}
	return int32(p), ok
}

func side(r *rand.Rand) orderbook.Side { return orderbook.Side(1 + r.IntN(2)) }

// Generate returns n commands of the mix and their statistics. The same n
// and seed always give the same commands. It takes about a second per
// million commands.
func Generate(n int, seed uint64) ([]Command, Stats) {
	b, err := orderbook.New(orderbook.Config{})
	if err != nil {
		panic(err) // the zero Config is valid
	}
	g := &generator{r: rand.New(rand.NewPCG(seed, 0x6d6978)), b: b, pos: make(map[uint32]int)}
	out := make([]Command, 0, n)
	var st Stats
	for len(out) < n {
		c := g.next()
		traded := g.apply(c)
		switch c.Op {
		case GTC:
			st.GTC++
		case IOC:
			st.IOC++
		case Cancel:
			st.Cancel++
		case Move:
			st.Move++
		}
		if traded {
			st.Trading++
		}
		out = append(out, c)
	}
	st.Commands = len(out)
	st.Resting = b.Len()
	st.Levels = len(b.Depth(orderbook.Buy, 0, nil)) + len(b.Depth(orderbook.Sell, 0, nil))
	st.Hash = b.Hash()
	return out, st
}

func (g *generator) next() Command {
	x := g.r.IntN(100)
	// Aggressive GTC orders and moves drain the book; how often they cross
	// follows the book's size, which keeps it near Target.
	crossPermille := 26 * len(g.live) / Target
	switch {
	case x < 9 || len(g.live) == 0:
		g.nextID++
		s := side(g.r)
		c := Command{Op: GTC, ID: g.nextID, Owner: uint16(1 + g.r.IntN(Accounts)), Side: s,
			Qty: int32(1 + g.r.IntN(100))}
		c.Price = g.passive(s)
		if g.r.IntN(1000) < crossPermille/2 {
			if p, ok := g.aggressive(s); ok {
				c.Price = p
			}
		}
		return c
	case x < 12:
		g.nextID++
		s := side(g.r)
		c := Command{Op: IOC, ID: g.nextID, Owner: uint16(1 + g.r.IntN(Accounts)), Side: s,
			Qty: int32(1 + g.r.IntN(5))}
		c.Price = g.passive(s)
		if p, ok := g.aggressive(s); ok {
			c.Price = p
		}
		return c
	case x < 18:
		return Command{Op: Cancel, ID: g.live[g.r.IntN(len(g.live))]}
	default:
		id := g.live[g.r.IntN(len(g.live))]
		o, rem, _ := g.b.Order(uint64(id))
		c := Command{Op: Move, ID: id, Side: o.Side, Owner: uint16(o.Owner), Qty: int32(rem)}
		c.Price = g.passive(o.Side)
		if g.r.IntN(1000) < crossPermille {
			if p, ok := g.aggressive(o.Side); ok {
				c.Price = p
			}
		}
		if int64(c.Price) == o.Price {
			c.Price++ // a move always changes the price
		}
		return c
	}
}

// apply runs c on the generator's book, updates the live set and reports
// whether c traded.
func (g *generator) apply(c Command) bool {
	var res orderbook.Result
	var err error
	switch c.Op {
	case GTC, IOC:
		tif := orderbook.GTC
		if c.Op == IOC {
			tif = orderbook.IOC
		}
		res, err = g.b.Submit(c.Order(tif), g.trades[:0])
		if res.Resting > 0 {
			g.add(c.ID)
		}
	case Cancel:
		_, err = g.b.Cancel(uint64(c.ID))
		g.del(c.ID)
	case Move:
		res, err = g.b.Amend(uint64(c.ID), int64(c.Price), int64(c.Qty), g.trades[:0])
		if res.Resting == 0 {
			g.del(c.ID)
		}
	}
	if err != nil {
		panic(fmt.Sprintf("benchmix: generated command %+v failed: %v", c, err))
	}
	g.trades = res.Trades
	for _, t := range res.Trades {
		if _, _, ok := g.b.Order(t.MakerID); !ok {
			g.del(uint32(t.MakerID))
		}
	}
	return len(res.Trades) > 0
}

// Replay runs cmds on b, appending trades to dst's storage, and returns the
// number of commands that failed (0 for a stream from Generate on a fresh
// book). It does not allocate once b and dst have grown.
func Replay(b *orderbook.Book, cmds []Command, dst []orderbook.Trade) (failed int) {
	for i := range cmds {
		if !Step(b, &cmds[i], &dst) {
			failed++
		}
	}
	return failed
}

// Step runs one command on b and reports whether it succeeded; *dst is
// reused for the trades.
func Step(b *orderbook.Book, c *Command, dst *[]orderbook.Trade) bool {
	var res orderbook.Result
	var err error
	switch c.Op {
	case GTC:
		res, err = b.Submit(c.Order(orderbook.GTC), (*dst)[:0])
	case IOC:
		res, err = b.Submit(c.Order(orderbook.IOC), (*dst)[:0])
	case Cancel:
		_, err = b.Cancel(uint64(c.ID))
		return err == nil
	default:
		res, err = b.Amend(uint64(c.ID), int64(c.Price), int64(c.Qty), (*dst)[:0])
	}
	*dst = res.Trades
	return err == nil
}

// Order returns c (GTC or IOC) as an order with the given time in force.
func (c Command) Order(tif orderbook.TIF) orderbook.Order {
	return orderbook.Order{ID: uint64(c.ID), Owner: uint64(c.Owner), Side: c.Side, TIF: tif,
		Price: int64(c.Price), Qty: int64(c.Qty)}
}

// ThreadCPU returns the CPU time the calling OS thread has used, and
// whether it could be read (Linux only). With runtime.LockOSThread it
// measures a benchmark's own CPU cost, which stays meaningful on a loaded
// machine where wall-clock time does not.
func ThreadCPU() (time.Duration, bool) { return cputime.Thread() }

// CPUClock accumulates the CPU time of the calling OS thread over timed
// sections (see ThreadCPU); lock the goroutine to its thread first.
type CPUClock struct {
	total time.Duration
	start time.Duration
	ok    bool
}

// Start begins a timed section.
func (c *CPUClock) Start() { c.start, c.ok = ThreadCPU() }

// Stop ends a timed section.
func (c *CPUClock) Stop() {
	if end, ok := ThreadCPU(); ok && c.ok {
		c.total += end - c.start
	}
}

// Report adds cpu-ns/cmd to b's metrics when CPU time was measured, and
// returns it (0 if not): the benchmark thread's own CPU time per command,
// which a loaded machine inflates far less than wall time. GC work done on
// other threads is not included.
func (c *CPUClock) Report(b *testing.B, cmds int) float64 {
	if c.total <= 0 {
		return 0
	}
	ns := float64(c.total.Nanoseconds()) / float64(cmds) / float64(b.N)
	b.ReportMetric(ns, "cpu-ns/cmd")
	return ns
}

// Histogram records durations in nanoseconds in log-linear buckets (exact
// below 64 ns, then 32 per power of two, so a quantile is reported at most
// 3.2% low), without allocating.
type Histogram struct {
	counts [64 * 32]uint64
	n      uint64
}

func bucket(ns int64) int {
	if ns < 64 {
		return int(max(ns, 0))
	}
	e := bits.Len64(uint64(ns)) - 6 // ns >> e is in [32, 64)
	return e*32 + int(uint64(ns)>>uint(e))
}

// lower returns the smallest value of bucket i.
func lower(i int) int64 {
	if i < 64 {
		return int64(i)
	}
	e := i/32 - 1
	return int64(i-e*32) << uint(e)
}

// Record adds one duration.
func (h *Histogram) Record(ns int64) {
	h.counts[bucket(ns)]++
	h.n++
}

// Count returns the number of recorded durations.
func (h *Histogram) Count() uint64 { return h.n }

// Quantile returns the lower bound of the bucket holding quantile q (0..1).
func (h *Histogram) Quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q * float64(h.n))
	if rank >= h.n {
		rank = h.n - 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen > rank {
			return lower(i)
		}
	}
	return lower(len(h.counts) - 1)
}
