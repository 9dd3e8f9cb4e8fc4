package orderbook

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEngineRouting(t *testing.T) {
	e := NewEngine()
	_, err := e.Add("AAPL", Config{})
	require.NoError(t, err)
	_, err = e.Add("MSFT", Config{STP: CancelBoth})
	require.NoError(t, err)
	_, err = e.Add("AAPL", Config{})
	require.ErrorIs(t, err, ErrDuplicateSymbol)
	_, err = e.Add("", Config{})
	require.ErrorIs(t, err, ErrInvalidConfig)
	_, err = e.Add(string(make([]byte, 256)), Config{})
	require.ErrorIs(t, err, ErrInvalidConfig)
	_, err = e.Add("BAD", Config{Window: 3})
	require.ErrorIs(t, err, ErrInvalidConfig)
	require.Equal(t, []string{"AAPL", "MSFT"}, e.Symbols())

	_, err = e.Submit("AAPL", lim(1, 1, Sell, 100, 10), nil)
	require.NoError(t, err)
	// The same id in another book is another order.
	_, err = e.Submit("MSFT", lim(1, 1, Sell, 200, 10), nil)
	require.NoError(t, err)
	res, err := e.Submit("MSFT", lim(2, 1, Buy, 200, 5), nil)
	require.NoError(t, err)
	require.Equal(t, Result{Canceled: 5}, res, "MSFT's STP (CancelBoth) cancels both orders")
	res, err = e.Submit("AAPL", lim(2, 1, Buy, 100, 4), nil)
	require.NoError(t, err)
	require.EqualValues(t, 4, res.Filled)
	res, err = e.Amend("AAPL", 1, 101, 6, nil)
	require.NoError(t, err)
	require.EqualValues(t, 6, res.Resting)
	rem, err := e.Cancel("AAPL", 1)
	require.NoError(t, err)
	require.EqualValues(t, 6, rem)
	require.Equal(t, 0, e.Book("AAPL").Len())
	require.Equal(t, 0, e.Book("MSFT").Len())
	require.Nil(t, e.Book("IBM"))

	_, err = e.Submit("IBM", lim(3, 0, Buy, 1, 1), nil)
	require.ErrorIs(t, err, ErrUnknownSymbol)
	_, err = e.Cancel("IBM", 3)
	require.ErrorIs(t, err, ErrUnknownSymbol)
	_, err = e.Amend("IBM", 3, 1, 1, nil)
	require.ErrorIs(t, err, ErrUnknownSymbol)
}

func TestEngineSnapshot(t *testing.T) {
	e := NewEngine()
	syms := []string{"ZZ", "A", "MID", "B"}
	for i, s := range syms {
		_, err := e.Add(s, diffConfigs[i])
		require.NoError(t, err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 4000; i++ {
		s := syms[r.IntN(len(syms))]
		side := Side(1 + r.IntN(2))
		_, _ = e.Submit(s, Order{ID: uint64(i + 1), Owner: uint64(r.IntN(3)), Side: side,
			Price: 950 + int64(r.IntN(100)), Qty: 1 + int64(r.IntN(20))}, nil)
	}
	var buf bytes.Buffer
	require.NoError(t, e.Snapshot(&buf))
	seen := map[string]*recorder{}
	e2, err := RestoreEngine(bytes.NewReader(buf.Bytes()), func(s string) Listener {
		seen[s] = &recorder{levels: map[Side]map[int64]int64{Buy: {}, Sell: {}}}
		return seen[s]
	})
	require.NoError(t, err)
	require.Equal(t, e.Hash(), e2.Hash())
	require.Equal(t, e.Symbols(), e2.Symbols())
	for _, s := range syms {
		require.Equal(t, e.Book(s).Hash(), e2.Book(s).Hash(), s)
	}
	// Each restored book reports to its own listener.
	_, err = e2.Submit("MID", Order{ID: 999_999, Side: Buy, Kind: Market, Qty: 1}, nil)
	require.NoError(t, err)
	require.Len(t, seen["MID"].trades, 1)
	require.Empty(t, seen["A"].trades)

	snap := buf.Bytes()
	for i := 0; i < len(snap); i += 1 + i/64 {
		c := bytes.Clone(snap)
		c[i] ^= 4
		_, err := RestoreEngine(bytes.NewReader(c), nil)
		require.ErrorIs(t, err, ErrCorrupt, "flip at %d", i)
	}
	for n := 0; n < len(snap); n += 1 + n/16 {
		_, err := RestoreEngine(bytes.NewReader(snap[:n]), nil)
		require.ErrorIs(t, err, ErrCorrupt, "truncated to %d", n)
	}
}

// FuzzRestoreEngine: arbitrary bytes never panic RestoreEngine.
func FuzzRestoreEngine(f *testing.F) {
	e := NewEngine()
	for i, s := range []string{"X", "Y"} {
		_, _ = e.Add(s, Config{})
		_, _ = e.Submit(s, lim(uint64(i+1), 0, Buy, 10, 5), nil)
	}
	var buf bytes.Buffer
	if err := e.Snapshot(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := RestoreEngine(bytes.NewReader(data), nil)
		if err != nil {
			return
		}
		var out bytes.Buffer
		require.NoError(t, e.Snapshot(&out))
		require.Equal(t, data[:out.Len()], out.Bytes(), fmt.Sprint(e.Symbols()))
	})
}
