package exchange

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sysblocks/sysblocks/orderbook"
)

// SimOptions configure a simulated trading session.
type SimOptions struct {
	Commands int     // orders and cancels to send in all; 0 = until ctx ends
	Clients  int     // concurrent client connections (default 64); the accounts are shared among them
	Seed     uint64  // random seed
	Rate     float64 // commands per second in all; 0 = as fast as the exchange acks
	// FirstAccount is the first account the simulated traders use (default
	// 1); accounts below it are left to people (the HTTP API).
	FirstAccount int
	// Symbols limits the simulation to the first Symbols symbols (default all).
	Symbols int
}

// SimResult is what a simulated session measured.
type SimResult struct {
	Commands, Places, Cancels int64
	Rejects                   [len(rejectNames)]int64
	Filled                    int64 // shares filled as reported in acks (taker side)
	Elapsed                   time.Duration
	Latency                   Histogram // gateway submit -> ack
}

// simTrader is one account's view: the orders it believes are open.
type simTrader struct {
	acct uint64
	open []simOrder
}

type simOrder struct {
	id  uint64
	sym uint16
}

// Simulate runs a trading session against x: Clients goroutines act for the
// exchange's accounts (each client owns every Clients-th account), placing
// limit orders around a per-symbol random-walk fair price, some market orders,
// and cancels of their open orders, through Submit. Symbols are picked with a
// skew so that a few are busy. It returns when Commands were acked or ctx ends.
func Simulate(ctx context.Context, x *Exchange, o SimOptions) (SimResult, error) {
	if o.Clients <= 0 {
		o.Clients = 64
	}
	cfg := x.state.cfg
	o.FirstAccount = max(o.FirstAccount, 1)
	if o.FirstAccount > cfg.Accounts {
		return SimResult{}, fmt.Errorf("%w: no account left for the simulation", ErrConfig)
	}
	o.Clients = min(o.Clients, cfg.Accounts-o.FirstAccount+1)
	if o.Symbols <= 0 || o.Symbols > len(cfg.Symbols) {
		o.Symbols = len(cfg.Symbols)
	}
	fair := make([]atomic.Int64, o.Symbols)
	for i, s := range cfg.Symbols[:o.Symbols] {
		fair[i].Store(s.RefPrice)
	}
	var remaining atomic.Int64
	remaining.Store(int64(o.Commands))
	results := make([]SimResult, o.Clients)
	errs := make([]error, o.Clients)
	var wg sync.WaitGroup
	start := time.Now()
	for g := range o.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[g] = simClient(ctx, x, o, g, fair, &remaining, &results[g])
		}()
	}
	wg.Wait()
	var total SimResult
	total.Elapsed = time.Since(start)
	for i := range results {
		r := &results[i]
		total.Commands += r.Commands
		total.Places += r.Places
		total.Cancels += r.Cancels
		total.Filled += r.Filled
		for k, n := range r.Rejects {
			total.Rejects[k] += n
		}
		total.Latency.Merge(&r.Latency)
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			return total, err
		}
	}
	return total, nil
}

func simClient(ctx context.Context, x *Exchange, o SimOptions, g int, fair []atomic.Int64, remaining *atomic.Int64, res *SimResult) error {
	cfg := x.state.cfg
	rng := rand.New(rand.NewPCG(o.Seed, uint64(g)))
	var traders []simTrader
	for a := o.FirstAccount + g; a <= cfg.Accounts; a += o.Clients {
		traders = append(traders, simTrader{acct: uint64(a)})
	}
	var interval time.Duration
	if o.Rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(o.Clients) / o.Rate)
	}
	next := time.Now()
	for {
		if o.Commands > 0 && remaining.Add(-1) < 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if interval > 0 {
			next = next.Add(interval)
			if d := time.Until(next); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		t := &traders[rng.IntN(len(traders))]
		var c Command
		cancelIdx := -1
		if n := len(t.open); n > 0 && (rng.IntN(100) < 30 || n > 16) {
			cancelIdx = rng.IntN(n)
			c = Command{Op: OpCancel, Account: t.acct, OrderID: t.open[cancelIdx].id}
		} else {
			c = simOrderCommand(rng, t.acct, fair)
		}
		begin := time.Now()
		ack, err := x.Submit(ctx, c)
		if err != nil {
			return err
		}
		res.Latency.Record(time.Since(begin))
		res.Commands++
		res.Rejects[ack.Reject]++
		if c.Op == OpCancel {
			res.Cancels++
			t.open[cancelIdx] = t.open[len(t.open)-1]
			t.open = t.open[:len(t.open)-1]
			continue
		}
		res.Places++
		res.Filled += ack.Filled
		if ack.Resting > 0 {
			t.open = append(t.open, simOrder{id: ack.OrderID, sym: c.Symbol})
		}
	}
}

// simOrderCommand draws one order: a skewed symbol, a side, 8% market orders,
// limit prices mostly a little behind the fair price and sometimes through
// it, and a fair price that takes a small random step.
func simOrderCommand(rng *rand.Rand, acct uint64, fair []atomic.Int64) Command {
	u := rng.Float64()
	sym := int(u * u * float64(len(fair)))
	f := fair[sym].Load()
	step := max(1, f/2000)
	if rng.IntN(2) == 0 {
		f = fair[sym].Add(step)
	} else if f > 10*step {
		f = fair[sym].Add(-step)
	}
	c := Command{Op: OpPlace, Account: acct, Symbol: uint16(sym), Side: orderbook.Buy,
		Qty: int64(1+rng.IntN(50)) * 10}
	if rng.IntN(2) == 0 {
		c.Side = orderbook.Sell
	}
	if rng.IntN(100) < 8 {
		c.Kind = orderbook.Market
		c.Qty = int64(1+rng.IntN(10)) * 10
		return c
	}
	off := int64(rng.IntN(24)-4) * step // -4..19 ticks behind fair: mostly passive
	if c.Side == orderbook.Buy {
		c.Price = f - off
	} else {
		c.Price = f + off
	}
	c.Price = max(c.Price, 1)
	return c
}
