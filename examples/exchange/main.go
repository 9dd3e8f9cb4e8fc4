// Command exchange runs the stock exchange of the design documents, composed
// from the sysblocks packages: a simulated trading session by default, the
// REST API and a live page with -serve, a short self-check with -smoke.
//
//	go run ./examples/exchange                 # ~1M orders, then figures and checks
//	go run ./examples/exchange -serve :8080    # watch the book move at http://localhost:8080
//	go run ./examples/exchange -smoke          # CI: exits 1 if an invariant fails
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"time"

	"github.com/sysblocks/sysblocks/examples/exchange/exchange"
	"github.com/sysblocks/sysblocks/ledger"
	"github.com/sysblocks/sysblocks/wal"
)

func main() {
	var (
		commands = flag.Int("orders", 1_000_000, "orders and cancels the simulated traders send")
		accounts = flag.Int("traders", 2000, "trader accounts")
		clients  = flag.Int("clients", 256, "concurrent client connections of the simulated traders")
		seed     = flag.Uint64("seed", 1, "random seed of the simulation")
		dataDir  = flag.String("data", "", "data directory for the journal and trade report (default: a temporary one, removed at exit)")
		syncFlag = flag.String("sync", "always", "journal durability: always (fsync, group commit), interval or never")
		speed    = flag.Float64("speed", 0, "simulated seconds per real second (default 600, or 20 with -serve)")
		serve    = flag.String("serve", "", "serve the REST API and the live page on this address (e.g. :8080)")
		rate     = flag.Float64("rate", 300, "with -serve: commands per second the simulated traders send (0 = none)")
		smoke    = flag.Bool("smoke", false, "short run that exits non-zero if an invariant fails")
	)
	flag.Parse()
	if *smoke {
		*commands, *accounts, *clients = 20_000, 300, 64
	}
	pol, ok := map[string]wal.SyncPolicy{"always": wal.SyncAlways, "interval": wal.SyncInterval, "never": wal.SyncNever}[*syncFlag]
	if !ok {
		fatalf("-sync must be always, interval or never")
	}
	if *speed == 0 {
		*speed = 600
		if *serve != "" {
			*speed = 20
		}
	}
	dir := *dataDir
	if dir == "" {
		d, err := os.MkdirTemp("", "exchange-")
		if err != nil {
			fatalf("%v", err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	cfg := exchange.Config{Accounts: *accounts}
	opts := exchange.Options{Config: cfg, Sync: pol, Sessions: max(*clients, 64), Clock: sessionClock(*speed)}
	if *smoke {
		opts.CheckEvery = 1000 // every invariant, in the loop, every 1000 commands
	}
	var err error
	if *serve != "" {
		err = runServer(*serve, dir, opts, *rate, *seed)
	} else {
		err = runSession(dir, opts, exchange.SimOptions{Commands: *commands, Clients: *clients, Seed: *seed}, *syncFlag, *speed)
	}
	if err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "exchange: "+format+"\n", args...)
	os.Exit(1)
}

// sessionClock runs a simulated trading day from 09:30 (New York, 14:30 UTC)
// today, speed times faster than the wall clock, so that a short run fills
// candlesticks. It feeds the sequencer, the state machine's only clock.
func sessionClock(speed float64) func() time.Time {
	start := time.Now()
	y, m, d := start.UTC().Date()
	open := time.Date(y, m, d, 14, 30, 0, 0, time.UTC)
	return func() time.Time {
		return open.Add(time.Duration(float64(time.Since(start)) * speed))
	}
}

func money(cents int64) string {
	if cents < 0 {
		return "-$" + ledger.FormatAmount(uint64(-cents), 2)
	}
	return "$" + ledger.FormatAmount(uint64(cents), 2)
}

func runSession(dir string, opts exchange.Options, so exchange.SimOptions, syncName string, speed float64) error {
	t0 := time.Now()
	x, err := exchange.Open(dir, opts)
	if err != nil {
		return err
	}
	cfg := x.State().Config()
	fmt.Printf("exchange: %d symbols, %d trader accounts, %d clients, journal sync=%s, session clock x%g (genesis %v)\n",
		len(cfg.Symbols), cfg.Accounts, so.Clients, syncName, speed, time.Since(t0).Round(time.Millisecond))
	if opts.CheckEvery > 0 {
		fmt.Printf("invariants checked inside the loop every %d commands\n", opts.CheckEvery)
	}
	res, simErr := exchange.Simulate(context.Background(), x, so)
	if err := errors.Join(simErr, x.Close()); err != nil {
		return err
	}
	st := x.State()
	rep, md := x.Reporter(), x.MarketData()
	fmt.Printf("\nsession: %d commands in %v = %.0f commands/s end to end (gateway -> journal -> order manager + matching -> ack)\n",
		res.Commands, res.Elapsed.Round(time.Millisecond), float64(res.Commands)/res.Elapsed.Seconds())
	fmt.Printf("latency gateway->ack: p50 %v  p99 %v  p99.9 %v  max %v  (%d samples)\n",
		res.Latency.Quantile(0.50).Round(time.Microsecond), res.Latency.Quantile(0.99).Round(time.Microsecond),
		res.Latency.Quantile(0.999).Round(time.Microsecond), res.Latency.Max().Round(time.Microsecond), res.Latency.Count())
	fmt.Printf("orders: %d placed, %d cancels; %d rejected:", res.Places, res.Cancels, st.Rejects)
	for r, n := range res.Rejects {
		switch {
		case n == 0 || r == int(exchange.Accepted):
		case r == int(exchange.RejectUnknownOrder):
			fmt.Printf(" cancel too late (already filled) %d,", n)
		default:
			fmt.Printf(" %s %d,", exchange.Reject(r), n)
		}
	}
	rows, qty, notional := rep.Totals()
	fmt.Printf(" %d open at the close\n", st.OpenOrders())
	fmt.Printf("trades: %d, %d shares, %s notional; trade report %d rows -> %s\n", st.Trades, st.Volume, money(notional), rows, rep.Path())
	if rows != int64(st.Trades) || qty != st.Volume {
		return fmt.Errorf("trade report has %d rows / %d shares, the engine %d / %d", rows, qty, st.Trades, st.Volume)
	}
	rec, err := x.Reconcile()
	if err != nil {
		return err
	}
	if !rec.Balanced() {
		return fmt.Errorf("settlement file vs ledger: %d missing in the file, %d missing in the ledger, %d mismatched",
			len(rec.MissingInSettlement), len(rec.MissingInLedger), len(rec.Mismatches))
	}
	fmt.Printf("settlement: %d payout transfers in the ledger reconciled with the reporter's settlement file (ledger.Reconcile): all match\n",
		len(rec.Matched))
	sym, _ := md.Symbol("AAPL")
	cs := md.Candles(sym, 1, 0, 1<<62)
	fmt.Printf("\nAAPL 5-minute candles (%d in all), last 5:\n", len(cs))
	for _, c := range cs[max(0, len(cs)-5):] {
		fmt.Printf("  %s  O %s  H %s  L %s  C %s  vol %d (%d trades)\n", time.Unix(c.Start, 0).UTC().Format("15:04"),
			money(c.Open), money(c.High), money(c.Low), money(c.Close), c.Volume, c.Trades)
	}
	bids, asks := md.Depth(sym, 3)
	fmt.Printf("AAPL top of book:\n")
	for i := range 3 {
		b, a := "", ""
		if i < len(bids) {
			b = fmt.Sprintf("%6d @ %s", bids[i].Qty, money(bids[i].Price))
		}
		if i < len(asks) {
			a = fmt.Sprintf("%s x %d", money(asks[i].Price), asks[i].Qty)
		}
		fmt.Printf("  %22s | %s\n", b, a)
	}

	t1 := time.Now()
	if err := st.Check(); err != nil {
		return err
	}
	fmt.Printf("\nledger: %d assets x %d accounts: sum of balances = 0 in every asset (posted and pending); "+
		"escrow holds exactly the open orders' reservations; every open order rests on its book (%v)\n",
		len(cfg.Symbols)+1, cfg.Accounts+2, time.Since(t1).Round(time.Millisecond))
	live := st.Hash()
	// The live state is dropped before the replay, as in a real crash: the
	// journal is all the replay gets.
	x, st = nil, nil
	runtime.GC()
	t2 := time.Now()
	replayed, n, err := exchange.Replay(dir, cfg)
	if err != nil {
		return err
	}
	got := replayed.Hash()
	fmt.Printf("crash and replay: a fresh state machine replayed %d journaled events in %v\n", n, time.Since(t2).Round(time.Millisecond))
	fmt.Printf("  books  %016x  live %016x\n  ledger %016x  live %016x\n  orders %016x  live %016x\n",
		got.Books, live.Books, got.Ledger, live.Ledger, got.Orders, live.Orders)
	if got != live {
		return fmt.Errorf("replay diverged")
	}
	if err := replayed.Check(); err != nil {
		return fmt.Errorf("replayed state: %w", err)
	}
	fmt.Println("  equal: the journal alone rebuilds the exchange")
	return nil
}

func runServer(addr, dir string, opts exchange.Options, rate float64, seed uint64) error {
	x, err := exchange.Open(dir, opts)
	if err != nil {
		return err
	}
	const people = 8
	keys := make(map[string]uint64)
	var demo string
	for a := uint64(1); a <= people; a++ {
		var b [12]byte
		_, _ = rand.Read(b[:])
		k := hex.EncodeToString(b[:])
		keys[k] = a
		if a == 1 {
			demo = k
		}
	}
	srv, err := exchange.NewServer(x, exchange.ServerOptions{Keys: keys, DemoKey: demo})
	if err != nil {
		return errors.Join(err, x.Close())
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return errors.Join(err, x.Close())
	}
	fmt.Printf("serving http://%s  (journal in %s, %d events replayed)\n", ln.Addr(), dir, x.Replayed())
	fmt.Printf("API keys (X-API-Key) for accounts 1..%d; the page uses account 1's: %s\n", people, demo)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	simDone := make(chan error, 1)
	if rate > 0 {
		go func() {
			_, err := exchange.Simulate(ctx, x, exchange.SimOptions{Clients: 16, Seed: seed, Rate: rate, FirstAccount: people + 1})
			simDone <- err
		}()
	} else {
		simDone <- nil
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	if err := errors.Join(<-simDone, x.Close()); err != nil {
		return err
	}
	if err := x.State().Check(); err != nil {
		return err
	}
	fmt.Printf("\nclosed after command %d: invariants hold; restart with -data %s to replay the journal\n", x.Applied(), dir)
	return nil
}
