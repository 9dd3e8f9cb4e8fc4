package exchange_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/sysblocks/sysblocks/examples/exchange/exchange"
	"github.com/sysblocks/sysblocks/orderbook"
)

// Open an exchange on a journal, trade through the gateway, and rebuild the
// same state from the journal alone.
func Example() {
	dir, _ := os.MkdirTemp("", "exchange")
	defer os.RemoveAll(dir)
	clock := func() time.Time { return time.Date(2026, 1, 5, 14, 30, 0, 0, time.UTC) }
	cfg := exchange.Config{Symbols: exchange.DefaultSymbols()[:1], Accounts: 2} // AAPL; accounts 1 and 2

	x, _ := exchange.Open(dir, exchange.Options{Config: cfg, Clock: clock})
	ctx := context.Background()
	sell, _ := x.Submit(ctx, exchange.Command{Op: exchange.OpPlace, Account: 1, Side: orderbook.Sell, Price: 18950, Qty: 100})
	buy, _ := x.Submit(ctx, exchange.Command{Op: exchange.OpPlace, Account: 2, Side: orderbook.Buy, Price: 19000, Qty: 40})
	fmt.Println("sell resting", sell.Resting, "| buy filled", buy.Filled, "for", buy.Notional, "cents")
	_ = x.Close()
	fmt.Println("invariants:", x.State().Check())

	replayed, events, _ := exchange.Replay(dir, cfg)
	fmt.Println("replayed", events, "events, same state:", replayed.Hash() == x.State().Hash())
	// Output:
	// sell resting 100 | buy filled 40 for 758000 cents
	// invariants: <nil>
	// replayed 2 events, same state: true
}
