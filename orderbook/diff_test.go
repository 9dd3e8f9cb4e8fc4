package orderbook

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

var seedFlag = flag.Uint64("seed", 0, "seed for the randomised tests (0: fixed seeds; also env ORDERBOOK_SEED)")

// long reports whether the long versions of the randomised tests run.
func long() bool { return os.Getenv("SYSBLOCKS_LONG") == "1" }

// seeds returns the seeds to run: the -seed flag or ORDERBOOK_SEED if set,
// otherwise n fixed seeds.
func seeds(t *testing.T, n int) []uint64 {
	if *seedFlag != 0 {
		return []uint64{*seedFlag}
	}
	if s := os.Getenv("ORDERBOOK_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
		return []uint64{v}
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}

// sentinel maps an error to the sentinel it wraps, for comparing the book
// with the model.
func sentinel(err error) error {
	for _, s := range []error{ErrInvalidOrder, ErrDuplicateID, ErrUnknownOrder, ErrWouldCross} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

// cmd is one command of a random or fuzzed stream.
type cmd struct {
	op         byte // 0 submit, 1 cancel, 2 amend
	o          Order
	id         uint64
	price, qty int64
}

func (c cmd) String() string {
	switch c.op {
	case 0:
		return fmt.Sprintf("submit %+v", c.o)
	case 1:
		return fmt.Sprintf("cancel %d", c.id)
	}
	return fmt.Sprintf("amend %d price %d qty %d", c.id, c.price, c.qty)
}

// pair drives a Book and the model with the same commands and compares.
type pair struct {
	t      testing.TB
	b      *Book
	m      *model
	bt, mt []Trade
	lv     []Level
	step   int
	lis    *recorder // nil if the book has no listener
	stats  struct {
		trades, canceled int
		errs             map[error]int
	}
}

func newPair(t testing.TB, cfg Config) *pair {
	lis := &recorder{levels: map[Side]map[int64]int64{Buy: {}, Sell: {}}}
	cfg.Listener = lis
	b, err := New(cfg)
	require.NoError(t, err)
	p := &pair{t: t, b: b, m: newModel(cfg), lis: lis}
	p.stats.errs = map[error]int{}
	return p
}

func (p *pair) failf(c cmd, format string, args ...any) {
	p.t.Helper()
	p.t.Fatalf("step %d (%v): %s", p.step, c, fmt.Sprintf(format, args...))
}

func (p *pair) do(c cmd) {
	p.t.Helper()
	p.step++
	var br, mr Result
	var berr, merr error
	switch c.op {
	case 0:
		br, berr = p.b.Submit(c.o, p.bt[:0])
		mr, merr = p.m.Submit(c.o, p.mt[:0])
	case 1:
		var brem, mrem int64
		brem, berr = p.b.Cancel(c.id)
		mrem, merr = p.m.Cancel(c.id)
		br.Canceled, mr.Canceled = brem, mrem
	default:
		br, berr = p.b.Amend(c.id, c.price, c.qty, p.bt[:0])
		mr, merr = p.m.Amend(c.id, c.price, c.qty, p.mt[:0])
	}
	p.bt, p.mt = br.Trades, mr.Trades
	if sentinel(berr) != merr {
		p.failf(c, "book error %v, model error %v", berr, merr)
	}
	if berr != nil && (len(br.Trades) != 0 || br.Filled != 0 || br.Resting != 0 || br.Canceled != 0) {
		p.failf(c, "rejected call returned %+v", br)
	}
	if br.Filled != mr.Filled || br.Resting != mr.Resting || br.Canceled != mr.Canceled {
		p.failf(c, "book result %+v, model %+v", br, mr)
	}
	if len(br.Trades) != len(mr.Trades) {
		p.failf(c, "book trades %v, model %v", br.Trades, mr.Trades)
	}
	for i := range br.Trades {
		if br.Trades[i] != mr.Trades[i] {
			p.failf(c, "trade %d: book %+v, model %+v", i, br.Trades[i], mr.Trades[i])
		}
	}
	if berr == nil && (c.op == 0 || (c.op == 2 && c.qty != 0)) {
		want := c.o.Qty
		if c.op == 2 {
			want = c.qty
		}
		if got := br.Filled + br.Resting + br.Canceled; got != want {
			p.failf(c, "filled+resting+canceled = %d, want %d", got, want)
		}
	}
	p.stats.trades += len(br.Trades)
	if berr != nil {
		p.stats.errs[sentinel(berr)]++
	}
	if br.Canceled > 0 {
		p.stats.canceled++
	}
	if p.lis != nil {
		if len(p.lis.trades) != len(br.Trades) {
			p.failf(c, "listener saw %d trades, result has %d", len(p.lis.trades), len(br.Trades))
		}
		for i := range p.lis.trades {
			if p.lis.trades[i] != br.Trades[i] {
				p.failf(c, "listener trade %d: %+v, result %+v", i, p.lis.trades[i], br.Trades[i])
			}
		}
		p.lis.trades = p.lis.trades[:0]
	}
	if p.b.Len() != p.m.Len() {
		p.failf(c, "Len %d, model %d", p.b.Len(), p.m.Len())
	}
	p.checkTop(c)
}

func (p *pair) checkTop(c cmd) {
	p.t.Helper()
	for _, s := range []Side{Buy, Sell} {
		mt, mok := p.m.top(s)
		var price, qty int64
		var ok bool
		if s == Buy {
			price, qty, ok = p.b.BestBid()
		} else {
			price, qty, ok = p.b.BestAsk()
		}
		if ok != mok || (ok && (price != mt.Price || qty != mt.Qty)) {
			p.failf(c, "best %v: book %d@%d ok=%v, model %+v", s, qty, price, ok, mt)
		}
	}
}

// checkFull compares L2 depth, L3 order lists and Order lookups.
func (p *pair) checkFull() {
	p.t.Helper()
	for _, s := range []Side{Buy, Sell} {
		md := p.m.Depth(s)
		p.lv = p.b.Depth(s, 0, p.lv[:0])
		require.Equal(p.t, len(md), len(p.lv), "step %d: depth %v levels", p.step, s)
		for i := range md {
			require.Equal(p.t, md[i], p.lv[i], "step %d: depth %v level %d", p.step, s, i)
		}
		if len(md) > 2 {
			require.Equal(p.t, md[:2], p.b.Depth(s, 2, nil), "step %d: depth 2", p.step)
		}
		ml3 := p.m.L3(s)
		i := 0
		p.b.Walk(s, func(o Order, rem int64) bool {
			require.Less(p.t, i, len(ml3), "step %d: walk %v longer than model", p.step, s)
			require.Equal(p.t, ml3[i], l3{o, rem}, "step %d: walk %v order %d", p.step, s, i)
			got, grem, ok := p.b.Order(o.ID)
			require.True(p.t, ok)
			require.Equal(p.t, l3{o, rem}, l3{got, grem})
			i++
			return true
		})
		require.Equal(p.t, len(ml3), i, "step %d: walk %v length", p.step, s)
		if p.lis != nil {
			// The listener's level updates rebuild the same L2 book.
			got := p.lis.levels[s]
			require.Equal(p.t, len(md), len(got), "step %d: listener %v levels", p.step, s)
			for _, l := range md {
				require.Equal(p.t, l.Qty, got[l.Price], "step %d: listener %v level %d", p.step, s, l.Price)
			}
		}
	}
}

// recorder is a Listener that keeps the trades of the current command and
// an L2 book built only from level updates.
type recorder struct {
	trades []Trade
	levels map[Side]map[int64]int64
}

func (r *recorder) OnTrade(t Trade) { r.trades = append(r.trades, t) }

func (r *recorder) OnLevel(s Side, price, qty int64) {
	if qty == 0 {
		delete(r.levels[s], price)
		return
	}
	r.levels[s][price] = qty
}

var _ Listener = (*recorder)(nil)

// gen produces random command streams that exercise every rule: all order
// kinds and times in force, post-only, amends of every shape, cancels of
// live and unknown ids, invalid fields, a drifting mid price and prices far
// outside the direct-indexed window.
type gen struct {
	r      *rand.Rand
	nextID uint64
	mid    int64
	spread int64
	owners uint64
	live   []uint64 // ids submitted and maybe still resting
	book   *Book    // the book under test, to pick live ids
}

func newGen(seed uint64, b *Book) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, 0x0b)), mid: 1000, spread: 40, owners: 4, book: b}
}

func (g *gen) price() int64 {
	if g.r.IntN(50) == 0 {
		g.mid += int64(g.r.IntN(21)) - 10
		g.mid = max(950, min(1050, g.mid))
	}
	if g.r.IntN(200) == 0 {
		return g.mid + int64(g.r.IntN(20001)) - 10000
	}
	return g.mid + int64(g.r.IntN(int(2*g.spread+1))) - g.spread
}

// sidePrice is mostly a passive price for side (below the mid for a buy),
// sometimes an aggressive one.
func (g *gen) sidePrice(s Side) int64 {
	p := g.price()
	if g.r.IntN(100) < 80 {
		if (s == Buy && p > g.mid) || (s == Sell && p < g.mid) {
			p = 2*g.mid - p
		}
	}
	return p
}

func (g *gen) qty() int64 {
	switch g.r.IntN(100) {
	case 0:
		return 0
	case 1:
		return -int64(g.r.IntN(5))
	}
	return 1 + int64(g.r.IntN(100))
}

// id returns mostly the id of a resting order, sometimes an unknown one.
func (g *gen) id() uint64 {
	switch g.r.IntN(50) {
	case 0:
		return 0
	case 1:
		return g.nextID + 1 + uint64(g.r.IntN(10))
	case 2:
		return uint64(g.r.IntN(int(g.nextID) + 1))
	}
	for len(g.live) > 0 {
		i := g.r.IntN(len(g.live))
		id := g.live[i]
		if _, _, ok := g.book.Order(id); ok {
			return id
		}
		g.live[i] = g.live[len(g.live)-1]
		g.live = g.live[:len(g.live)-1]
	}
	return g.nextID
}

func (g *gen) next() cmd {
	switch n := g.r.IntN(100); {
	case n < 50:
		g.nextID++
		o := Order{ID: g.nextID, Owner: uint64(g.r.IntN(int(g.owners) + 1)), Side: Side(1 + g.r.IntN(2)), Qty: g.qty()}
		o.Price = g.sidePrice(o.Side)
		if g.r.IntN(100) < 3 {
			o.ID = g.id() // duplicate or 0
		}
		switch k := g.r.IntN(100); {
		case k < 10:
			o.Kind = Market
		case k == 10:
			o.Kind = Kind(2 + g.r.IntN(3))
		}
		switch k := g.r.IntN(100); {
		case k < 20:
			o.TIF = IOC
		case k < 30:
			o.TIF = FOK
		case k == 30:
			o.TIF = TIF(3 + g.r.IntN(3))
		}
		if g.r.IntN(100) < 10 {
			o.PostOnly = true
		}
		if g.r.IntN(200) == 0 {
			o.Side = Side(g.r.IntN(4) * 3)
		}
		if g.r.IntN(200) == 0 {
			o.Price = -o.Price
		}
		g.live = append(g.live, o.ID)
		return cmd{op: 0, o: o}
	case n < 62:
		return cmd{op: 1, id: g.id()}
	default:
		c := cmd{op: 2, id: g.id(), qty: g.qty()}
		if o, _, ok := g.book.Order(c.id); ok {
			c.price = g.sidePrice(o.Side)
		} else {
			c.price = g.price()
		}
		if g.r.IntN(2) == 0 {
			c.price = 0 // replaced by the order's price below if it is live
		}
		return c
	}
}

// fixAmend gives half of the amends the order's own price, so that the
// keep-priority and no-op paths are exercised.
func fixAmend(c cmd, b *Book) cmd {
	if c.op == 2 && c.price == 0 {
		if o, rem, ok := b.Order(c.id); ok {
			c.price = o.Price
			if c.qty > 0 && c.qty%3 == 0 {
				c.qty = rem
			}
		} else {
			c.price = 1
		}
	}
	return c
}

var diffConfigs = []Config{
	{},
	{STP: CancelResting, Window: 64},
	{STP: CancelIncoming, MinPrice: 900, MaxPrice: 1100},
	{STP: CancelBoth, Window: 64, MinPrice: 950},
}

func TestDifferential(t *testing.T) {
	steps := 100_000
	if long() {
		steps = 1_000_000
	}
	nseeds := 1
	if long() {
		nseeds = 4
	}
	for i, cfg := range diffConfigs {
		for _, seed := range seeds(t, nseeds) {
			seed := seed + uint64(i)*1000
			t.Run(fmt.Sprintf("stp=%d/window=%d/seed=%d", cfg.STP, cfg.Window, seed), func(t *testing.T) {
				t.Logf("seed %d (rerun with -seed %d)", seed, seed)
				runDiff(t, cfg, seed, steps)
			})
		}
	}
}

func runDiff(t *testing.T, cfg Config, seed uint64, steps int) {
	p := newPair(t, cfg)
	g := newGen(seed, p.b)
	for i := 0; i < steps; i++ {
		p.do(fixAmend(g.next(), p.b))
		if i%997 == 0 {
			p.checkFull()
		}
	}
	p.checkFull()
	t.Logf("%d commands, %d trades, %d with a canceled remainder, errors %v, %d resting at the end, far levels %d/%d",
		steps, p.stats.trades, p.stats.canceled, p.stats.errs, p.b.Len(), p.b.bids.far.Len(), p.b.asks.far.Len())
}

// TestDifferentialTreeOnly runs the stream with every level in the B-tree
// (window 0), the design the ladder is measured against.
func TestDifferentialTreeOnly(t *testing.T) {
	for _, seed := range seeds(t, 1) {
		p := newPair(t, Config{STP: CancelBoth})
		p.b = newBook(Config{STP: CancelBoth, Listener: p.lis})
		g := newGen(seed, p.b)
		for i := 0; i < 20_000; i++ {
			p.do(fixAmend(g.next(), p.b))
		}
		p.checkFull()
	}
}
