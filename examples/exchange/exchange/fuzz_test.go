package exchange

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/sysblocks/sysblocks/orderbook"
)

// FuzzDecodeCommand: the journal payload decoder never panics, and whatever
// it accepts re-encodes to the same bytes (one encoding per command).
func FuzzDecodeCommand(f *testing.F) {
	f.Add(AppendCommand(nil, Command{Op: OpPlace, Account: 7, Symbol: 3, Side: orderbook.Buy, Price: 12345, Qty: 10}))
	f.Add(AppendCommand(nil, Command{Op: OpCancel, Account: 1, OrderID: 99}))
	f.Add([]byte{1, 1, 0x80, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCommand(b)
		if err != nil {
			return
		}
		if got := AppendCommand(nil, c); !bytes.Equal(got, b) {
			t.Fatalf("decode(%x) = %+v re-encodes to %x", b, c, got)
		}
	})
}

// FuzzApply: any sequence of payloads (the journal is untrusted input on
// recovery) is answered without error and leaves every invariant intact.
func FuzzApply(f *testing.F) {
	var seed []byte
	for _, c := range []Command{
		{Op: OpPlace, Account: 1, Side: orderbook.Sell, Price: 100, Qty: 5},
		{Op: OpPlace, Account: 2, Side: orderbook.Buy, Price: 101, Qty: 3},
		{Op: OpPlace, Account: 2, Side: orderbook.Buy, Kind: orderbook.Market, Qty: 9},
		{Op: OpCancel, Account: 1, OrderID: 1},
	} {
		p := AppendCommand(nil, c)
		seed = append(append(seed, byte(len(p))), p...)
	}
	f.Add(seed)
	cfg := Config{Symbols: DefaultSymbols()[:2], Accounts: 3, InitialCash: 5000, InitialShares: 20, MaxOrderQty: 50, DailyLimit: 60}
	f.Fuzz(func(t *testing.T, stream []byte) {
		s, err := NewState(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		for seq := uint64(1); len(stream) > 0; seq++ {
			n := min(int(stream[0]), len(stream)-1)
			p := stream[1 : 1+n]
			stream = stream[1+n:]
			if _, err := s.Apply(seq, int64(seq)<<40|int64(binary.LittleEndian.Uint16(append(p, 0, 0))), p); err != nil {
				t.Fatal(err)
			}
			if err := s.Check(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzOrderRequest: the gateway's normalisation never panics and produces
// only commands the order manager considers well-formed.
func FuzzOrderRequest(f *testing.F) {
	f.Add("AAPL", "buy", "limit", int64(100), int64(5), "")
	f.Add("msft ", "SELL", "market", int64(0), int64(1), "ioc")
	f.Add("", "x", "y", int64(-1), int64(1<<62), "DAY")
	x := &Exchange{md: NewMarketData(DefaultSymbols())}
	s := &Server{x: x}
	f.Fuzz(func(t *testing.T, sym, side, typ string, price, qty int64, tif string) {
		c, err := s.normalize(OrderRequest{Symbol: sym, Side: side, OrderType: typ, Price: price, Quantity: qty, TimeInForce: tif}, 1)
		if err != nil {
			return
		}
		if !validOrder(c) || int(c.Symbol) >= len(DefaultSymbols()) {
			t.Fatalf("gateway let through %+v", c)
		}
		if _, err := DecodeCommand(AppendCommand(nil, c)); err != nil {
			t.Fatalf("command %+v does not round-trip: %v", c, err)
		}
	})
}
