package exchange

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sysblocks/sysblocks/orderbook"
)

func smallConfig() Config {
	return Config{Symbols: DefaultSymbols()[:3], Accounts: 4, InitialCash: 1_000_000, InitialShares: 1000,
		MaxOrderQty: 500, DailyLimit: 800}
}

type applier struct {
	t   *testing.T
	s   *State
	seq uint64
}

func (a *applier) do(c Command) Ack {
	a.t.Helper()
	a.seq++
	ack, err := a.s.Apply(a.seq, int64(a.seq)*1e6, AppendCommand(nil, c))
	require.NoError(a.t, err)
	require.NoError(a.t, a.s.Check())
	return ack
}

func place(acct uint64, side orderbook.Side, price, qty int64) Command {
	return Command{Op: OpPlace, Account: acct, Side: side, Price: price, Qty: qty}
}

// TestStateFlow walks one order's life through the order manager and checks
// every balance against hand-computed figures.
func TestStateFlow(t *testing.T) {
	s, err := NewState(smallConfig(), nil)
	require.NoError(t, err)
	a := &applier{t: t, s: s}

	sell := a.do(place(1, orderbook.Sell, 1000, 100)) // $10.00 x 100
	require.Equal(t, Accepted, sell.Reject)
	require.EqualValues(t, 100, sell.Resting)
	_, _, shares, held := s.Balances(1, 0)
	require.EqualValues(t, 1000, shares) // withheld, not moved
	require.EqualValues(t, 100, held)

	buy := a.do(place(2, orderbook.Buy, 1050, 60)) // crosses: trades 60 at the maker's $10.00
	require.EqualValues(t, 60, buy.Filled)
	require.EqualValues(t, 60_000, buy.Notional)
	cash, cashHeld, shares, held := s.Balances(2, 0)
	require.EqualValues(t, 1_000_000-60_000, cash) // the $0.50 improvement is released
	require.EqualValues(t, 0, cashHeld)
	require.EqualValues(t, 1060, shares)
	require.EqualValues(t, 0, held)
	cash, _, shares, held = s.Balances(1, 0)
	require.EqualValues(t, 1_000_000+60_000, cash)
	require.EqualValues(t, 940, shares)
	require.EqualValues(t, 40, held) // the rest of the sell is still withheld

	rest := a.do(place(3, orderbook.Buy, 900, 10))
	require.EqualValues(t, 10, rest.Resting)
	_, cashHeld, _, _ = s.Balances(3, 0)
	require.EqualValues(t, 9000, cashHeld)

	c := a.do(Command{Op: OpCancel, Account: 1, OrderID: sell.OrderID})
	require.Equal(t, Accepted, c.Reject)
	require.EqualValues(t, 40, c.Canceled)
	_, _, shares, held = s.Balances(1, 0)
	require.EqualValues(t, 940, shares)
	require.EqualValues(t, 0, held)

	again := a.do(Command{Op: OpCancel, Account: 1, OrderID: sell.OrderID})
	require.Equal(t, RejectUnknownOrder, again.Reject)
	other := a.do(Command{Op: OpCancel, Account: 1, OrderID: rest.OrderID}) // not account 1's order
	require.Equal(t, RejectUnknownOrder, other.Reject)

	mkt := a.do(Command{Op: OpPlace, Account: 4, Side: orderbook.Sell, Kind: orderbook.Market, Qty: 25})
	require.EqualValues(t, 10, mkt.Filled)
	require.EqualValues(t, 15, mkt.Canceled)
	_, _, shares, held = s.Balances(4, 0)
	require.EqualValues(t, 990, shares)
	require.EqualValues(t, 0, held)
	require.Equal(t, RejectNoLiquidity, a.do(Command{Op: OpPlace, Account: 4, Side: orderbook.Buy, Kind: orderbook.Market, Qty: 5}).Reject)
}

func TestStateRejects(t *testing.T) {
	tests := []struct {
		name string
		cmd  Command
		want Reject
	}{
		{"unknown account", place(99, orderbook.Buy, 100, 1), RejectAccount},
		{"account zero", place(0, orderbook.Buy, 100, 1), RejectAccount},
		{"unknown symbol", Command{Op: OpPlace, Account: 1, Symbol: 3, Side: orderbook.Buy, Price: 100, Qty: 1}, RejectSymbol},
		{"no side", Command{Op: OpPlace, Account: 1, Price: 100, Qty: 1}, RejectInvalid},
		{"zero qty", place(1, orderbook.Buy, 100, 0), RejectInvalid},
		{"zero price", place(1, orderbook.Buy, 0, 1), RejectInvalid},
		{"market with price", Command{Op: OpPlace, Account: 1, Side: orderbook.Buy, Kind: orderbook.Market, Price: 5, Qty: 1}, RejectInvalid},
		{"bad tif", Command{Op: OpPlace, Account: 1, Side: orderbook.Buy, TIF: 9, Price: 5, Qty: 1}, RejectInvalid},
		{"too large", place(1, orderbook.Buy, 100, 501), RejectOrderSize},
		{"funds", place(1, orderbook.Buy, 100_000, 11), RejectFunds},
		{"shares", place(1, orderbook.Sell, 100, 500), Accepted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewState(smallConfig(), nil)
			require.NoError(t, err)
			before := s.Hash()
			a := &applier{t: t, s: s}
			ack := a.do(tt.cmd)
			require.Equal(t, tt.want, ack.Reject, ack.Reject.String())
			if tt.want != Accepted {
				after := s.Hash()
				require.Equal(t, before.Books, after.Books)
				if tt.want != RejectFunds { // a failed reservation is recorded (its id is used up)
					require.Equal(t, before.Ledger, after.Ledger, "a reject moves no money")
				}
				cash, cashHeld, _, _ := s.Balances(1, 0)
				require.EqualValues(t, 1_000_000, cash)
				require.Zero(t, cashHeld)
			}
		})
	}
}

func TestStateDailyLimit(t *testing.T) {
	s, err := NewState(smallConfig(), nil)
	require.NoError(t, err)
	apply := func(day int64, c Command) Ack {
		ack, err := s.Apply(uint64(day*1000+int64(s.Orders)+1), day*dayNanos+int64(s.Orders), AppendCommand(nil, c))
		require.NoError(t, err)
		return ack
	}
	require.Equal(t, Accepted, apply(1, place(1, orderbook.Sell, 5000, 500)).Reject)
	require.Equal(t, Accepted, apply(1, place(1, orderbook.Sell, 5000, 300)).Reject)
	require.Equal(t, RejectDailyLimit, apply(1, place(1, orderbook.Sell, 5000, 1)).Reject)
	require.Equal(t, Accepted, apply(1, place(1, orderbook.Sell, 5000, 1).withSymbol(1)).Reject, "the limit is per symbol")
	require.Equal(t, Accepted, apply(2, place(1, orderbook.Sell, 5000, 100)).Reject, "a new day starts afresh")
	require.NoError(t, s.Check())
}

func (c Command) withSymbol(i uint16) Command { c.Symbol = i; return c }

// randomCommands draws a stream that exercises every path: crossing and
// resting limits, IOC/FOK, market orders, cancels of live and dead orders,
// orders that fail the fund and risk checks, and garbage payloads.
func randomCommands(rng *rand.Rand, n int, cfg Config, seq uint64) [][]byte {
	out := make([][]byte, 0, n)
	for range n {
		seq++
		acct := uint64(1 + rng.IntN(cfg.Accounts))
		switch r := rng.IntN(100); {
		case r < 2:
			b := make([]byte, rng.IntN(12))
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			out = append(out, b)
		case r < 25:
			out = append(out, AppendCommand(nil, Command{Op: OpCancel, Account: acct, OrderID: uint64(rng.Int64N(int64(seq)) + 1)}))
		default:
			c := Command{Op: OpPlace, Account: acct, Symbol: uint16(rng.IntN(len(cfg.Symbols))),
				Side: orderbook.Side(1 + rng.IntN(2)), TIF: orderbook.TIF(rng.IntN(3)), Qty: 1 + rng.Int64N(cfg.MaxOrderQty+5)}
			if rng.IntN(10) == 0 {
				c.Kind = orderbook.Market
			} else {
				c.Price = 95 + rng.Int64N(11)
				if rng.IntN(50) == 0 {
					c.Price = 1 + rng.Int64N(1_000_000)
				}
			}
			out = append(out, AppendCommand(nil, c))
		}
	}
	return out
}

// TestStateRandomDeterministic feeds random streams to two States, checks
// every invariant after each command, and requires equal hashes.
func TestStateRandomDeterministic(t *testing.T) {
	seed := testSeed(t)
	cfg := Config{Symbols: DefaultSymbols()[:4], Accounts: 6, InitialCash: 200_000, InitialShares: 300, MaxOrderQty: 60, DailyLimit: 400}
	for round := range 20 {
		rng := rand.New(rand.NewPCG(seed, uint64(round)))
		a, err := NewState(cfg, nil)
		require.NoError(t, err)
		b, err := NewState(cfg, nil)
		require.NoError(t, err)
		for i, p := range randomCommands(rng, 400, cfg, 0) {
			seq, ts := uint64(i+1), int64(i)*int64(rng.IntN(3))*3_600_000_000_000
			ackA, err := a.Apply(seq, ts, p)
			require.NoError(t, err, "seed %d round %d command %d", seed, round, i)
			ackB, err := b.Apply(seq, ts, p)
			require.NoError(t, err)
			require.Equal(t, ackA, ackB)
			require.NoError(t, a.Check(), "seed %d round %d command %d", seed, round, i)
		}
		require.Equal(t, a.Hash(), b.Hash())
	}
}
