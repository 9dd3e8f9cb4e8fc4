package exchange

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/sysblocks/sysblocks/orderbook"
	"github.com/sysblocks/sysblocks/wal"
)

func TestCommandRoundTrip(t *testing.T) {
	for _, c := range []Command{
		{Op: OpPlace, Account: 1, Symbol: 99, Side: orderbook.Sell, Kind: orderbook.Market, TIF: orderbook.FOK, Qty: maxQty},
		{Op: OpPlace, Account: 1 << 40, Side: orderbook.Buy, Price: maxPrice, Qty: 1},
		{Op: OpCancel, Account: 3, OrderID: 1<<64 - 1},
	} {
		got, err := DecodeCommand(AppendCommand(nil, c))
		require.NoError(t, err)
		require.Equal(t, c, got)
	}
	bad := map[string][]byte{
		"empty":         {},
		"version":       {2, 1, 1},
		"unknown op":    {1, 9, 1},
		"short place":   {1, 1, 1, 0},
		"padded varint": {1, 2, 0x81, 0x00, 1},
		"trailing":      append(AppendCommand(nil, Command{Op: OpCancel, Account: 1, OrderID: 1}), 0),
		"huge price":    AppendCommand(nil, Command{Op: OpPlace, Account: 1, Side: 1, Price: maxPrice + 1, Qty: 1}),
	}
	for name, b := range bad {
		_, err := DecodeCommand(b)
		require.ErrorIs(t, err, ErrCommand, name)
	}
}

// TestHistogram compares quantiles with a sorted slice: within one bucket (6.25%).
func TestHistogram(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 0))
	var h Histogram
	require.Zero(t, h.Quantile(0.5))
	var all []int64
	for range 100_000 {
		v := int64(rng.ExpFloat64() * 2e6)
		all = append(all, v)
		h.Record(time.Duration(v))
	}
	slices.Sort(all)
	for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
		want := float64(all[int(q*float64(len(all)-1))])
		got := float64(h.Quantile(q))
		require.InDelta(t, want, got, want*0.0625+32, "q=%v", q)
	}
	require.EqualValues(t, len(all), h.Count())
	require.EqualValues(t, all[len(all)-1], h.Max())
	for v := int64(0); v < 1<<20; v += 1 + v/7 {
		require.LessOrEqual(t, bucketValue(bucket(v))-v, v/16+1, "bucket of %d", v)
	}
}

// TestTradeReport checks the CSV the reporter writes for settlement.
func TestTradeReport(t *testing.T) {
	x, err := Open(t.TempDir(), Options{Config: Config{Symbols: DefaultSymbols()[:2], Accounts: 3}, Clock: stepClock(), Sync: wal.SyncNever})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = x.Submit(ctx, Command{Op: OpPlace, Account: 1, Symbol: 1, Side: orderbook.Sell, Price: 30001, Qty: 50})
	require.NoError(t, err)
	ack, err := x.Submit(ctx, Command{Op: OpPlace, Account: 2, Symbol: 1, Side: orderbook.Buy, Kind: orderbook.Market, Qty: 20})
	require.NoError(t, err)
	require.EqualValues(t, 20, ack.Filled)
	require.NoError(t, x.Close())
	b, err := os.ReadFile(x.Reporter().Path())
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 2)
	require.Equal(t, strings.TrimSpace(reportHeader), lines[0])
	f := strings.Split(lines[1], ",")
	f[1] = "T" // the sequencer's timestamp
	require.Equal(t, "1,T,MSFT,300.01,20,6000.20,buy,2,2,market,,20,20,0,1,1,limit,300.01,50,20,30", strings.Join(f, ","))

	b, err = os.ReadFile(x.Reporter().SettlementPath())
	require.NoError(t, err)
	lines = strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 3)
	require.Regexp(t, `^\d+,20,3,posted$`, lines[1], "the buyer receives 20 MSFT shares (ledger 3)")
	require.Regexp(t, `^\d+,600020,1,posted$`, lines[2], "the seller receives $6000.20 (ledger 1: cash)")
	rec, err := x.Reconcile()
	require.NoError(t, err)
	require.True(t, rec.Balanced())
	require.Len(t, rec.Matched, 2)
}

func TestOptionsValidation(t *testing.T) {
	for name, cfg := range map[string]Config{
		"too many symbols": {Symbols: make([]Symbol, 256)},
		"duplicate symbol": {Symbols: []Symbol{{"A", 1}, {"A", 2}}},
		"bad price":        {Symbols: []Symbol{{"A", 0}}},
		"accounts":         {Accounts: -1},
		"order size":       {MaxOrderQty: -5},
	} {
		_, err := NewState(cfg, nil)
		require.ErrorIs(t, err, ErrConfig, name)
	}
	_, err := Open(t.TempDir(), Options{Sessions: -1})
	require.ErrorIs(t, err, ErrConfig)
	x, err := Open(t.TempDir(), Options{Config: Config{Accounts: 2}, Sync: wal.SyncNever})
	require.NoError(t, err)
	_, err = NewServer(x, ServerOptions{Keys: map[string]uint64{"k": 3}})
	require.ErrorIs(t, err, ErrConfig, "key for an account that does not exist")
	require.NoError(t, x.Close())
	_, err = x.Submit(context.Background(), Command{Op: OpCancel, Account: 1, OrderID: 1})
	require.ErrorIs(t, err, ErrStopped)
}
