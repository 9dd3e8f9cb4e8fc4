package orderbook

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func lim(id, owner uint64, s Side, price, qty int64) Order {
	return Order{ID: id, Owner: owner, Side: s, Price: price, Qty: qty}
}

func mustBook(t *testing.T, cfg Config, orders ...Order) *Book {
	t.Helper()
	b, err := New(cfg)
	require.NoError(t, err)
	for _, o := range orders {
		res, err := b.Submit(o, nil)
		require.NoError(t, err)
		require.Equal(t, o.Qty, res.Resting, "setup order %d must rest", o.ID)
	}
	return b
}

// rejected checks err against wantErr and reports whether the call was
// rejected, in which case the book must still hash to before.
func rejected(t *testing.T, b *Book, before uint64, err, wantErr error) bool {
	t.Helper()
	if wantErr == nil {
		require.NoError(t, err)
		return false
	}
	require.ErrorIs(t, err, wantErr)
	require.Equal(t, before, b.Hash(), "a rejected call changes nothing")
	return true
}

func ids(b *Book, s Side) []uint64 {
	var out []uint64
	b.Walk(s, func(o Order, _ int64) bool { out = append(out, o.ID); return true })
	return out
}

// TestSeedExample is the design document's example: a market buy of 2,700
// shares sweeps the best ask queue (100.10) and partially fills the first
// order of the next level (100.11); the best ask becomes 100.11. Prices are
// in cents. The excerpt does not list the queue sizes (they are in its
// Figure 13), so these are ours.
func TestSeedExample(t *testing.T) {
	b := mustBook(t, Config{},
		lim(1, 0, Sell, 10010, 200), lim(2, 0, Sell, 10010, 400), lim(3, 0, Sell, 10010, 1100),
		lim(4, 0, Sell, 10010, 800), lim(5, 0, Sell, 10011, 500), lim(6, 0, Sell, 10011, 300),
		lim(7, 0, Sell, 10012, 1000), lim(8, 0, Buy, 10009, 600))
	res, err := b.Submit(Order{ID: 9, Side: Buy, Kind: Market, Qty: 2700}, nil)
	require.NoError(t, err)
	want := []Trade{
		{TakerID: 9, MakerID: 1, TakerSide: Buy, Price: 10010, Qty: 200},
		{TakerID: 9, MakerID: 2, TakerSide: Buy, Price: 10010, Qty: 400},
		{TakerID: 9, MakerID: 3, TakerSide: Buy, Price: 10010, Qty: 1100},
		{TakerID: 9, MakerID: 4, TakerSide: Buy, Price: 10010, Qty: 800},
		{TakerID: 9, MakerID: 5, TakerSide: Buy, Price: 10011, Qty: 200},
	}
	require.Equal(t, Result{Trades: want, Filled: 2700}, res)
	price, qty, ok := b.BestAsk()
	require.True(t, ok)
	require.Equal(t, [2]int64{10011, 600}, [2]int64{price, qty})
	_, rem, ok := b.Order(5)
	require.True(t, ok)
	require.EqualValues(t, 300, rem)
	require.Equal(t, []Level{{10011, 600, 2}, {10012, 1000, 1}}, b.Depth(Sell, 0, nil))
	require.Equal(t, []uint64{5, 6, 7}, ids(b, Sell), "the partly filled order keeps its place")
	bid, _, _ := b.BestBid()
	require.EqualValues(t, 10011-10009, price-bid, "the spread widened from 1 to 2 ticks")
}

func TestSubmitRules(t *testing.T) {
	book := func(cfg Config) []Order {
		return []Order{lim(1, 1, Sell, 101, 10), lim(2, 2, Sell, 101, 10), lim(3, 1, Sell, 102, 10),
			lim(4, 3, Buy, 99, 10), lim(5, 3, Buy, 98, 10)}
	}
	tests := []struct {
		name      string
		cfg       Config
		o         Order
		want      Result
		wantErr   error
		wantAsks  []Level
		wantBids  []Level
		wantOrder []uint64 // asks in priority order, if set
	}{
		{name: "limit rests without crossing", o: lim(9, 0, Buy, 100, 5), want: Result{Resting: 5},
			wantBids: []Level{{100, 5, 1}, {99, 10, 1}, {98, 10, 1}}},
		{name: "price-time priority: FIFO within the level, trade at maker price", o: lim(9, 0, Buy, 102, 15),
			want: Result{Filled: 15, Trades: []Trade{
				{TakerID: 9, MakerID: 1, MakerOwner: 1, TakerSide: Buy, Price: 101, Qty: 10},
				{TakerID: 9, MakerID: 2, MakerOwner: 2, TakerSide: Buy, Price: 101, Qty: 5}}},
			wantAsks: []Level{{101, 5, 1}, {102, 10, 1}}},
		{name: "GTC remainder rests", o: lim(9, 0, Buy, 101, 25),
			want:     Result{Filled: 20, Resting: 5, Trades: []Trade{{9, 1, 0, 1, Buy, 101, 10}, {9, 2, 0, 2, Buy, 101, 10}}},
			wantAsks: []Level{{102, 10, 1}}, wantBids: []Level{{101, 5, 1}, {99, 10, 1}, {98, 10, 1}}},
		{name: "IOC remainder canceled", o: Order{ID: 9, Side: Buy, TIF: IOC, Price: 101, Qty: 25},
			want:     Result{Filled: 20, Canceled: 5, Trades: []Trade{{9, 1, 0, 1, Buy, 101, 10}, {9, 2, 0, 2, Buy, 101, 10}}},
			wantAsks: []Level{{102, 10, 1}}},
		{name: "IOC without a cross cancels everything", o: Order{ID: 9, Side: Buy, TIF: IOC, Price: 100, Qty: 5},
			want: Result{Canceled: 5}},
		{name: "FOK short does nothing", o: Order{ID: 9, Side: Buy, TIF: FOK, Price: 101, Qty: 21},
			want: Result{Canceled: 21}},
		{name: "FOK fills across levels", o: Order{ID: 9, Side: Sell, TIF: FOK, Price: 98, Qty: 20},
			want:     Result{Filled: 20, Trades: []Trade{{9, 4, 0, 3, Sell, 99, 10}, {9, 5, 0, 3, Sell, 98, 10}}},
			wantBids: []Level{}},
		{name: "market sweeps, remainder canceled", o: Order{ID: 9, Side: Sell, Kind: Market, Qty: 25},
			want:     Result{Filled: 20, Canceled: 5, Trades: []Trade{{9, 4, 0, 3, Sell, 99, 10}, {9, 5, 0, 3, Sell, 98, 10}}},
			wantBids: []Level{}},
		{name: "market GTC behaves as IOC", o: Order{ID: 9, Side: Buy, Kind: Market, TIF: GTC, Qty: 40},
			want: Result{Filled: 30, Canceled: 10, Trades: []Trade{{9, 1, 0, 1, Buy, 101, 10}, {9, 2, 0, 2, Buy, 101, 10},
				{9, 3, 0, 1, Buy, 102, 10}}},
			wantAsks: []Level{}},
		{name: "market FOK short does nothing", o: Order{ID: 9, Side: Buy, Kind: Market, TIF: FOK, Qty: 31},
			want: Result{Canceled: 31}},
		{name: "market FOK exact", o: Order{ID: 9, Side: Buy, Kind: Market, TIF: FOK, Qty: 30},
			want: Result{Filled: 30, Trades: []Trade{{9, 1, 0, 1, Buy, 101, 10}, {9, 2, 0, 2, Buy, 101, 10},
				{9, 3, 0, 1, Buy, 102, 10}}},
			wantAsks: []Level{}},
		{name: "post-only that would cross", o: Order{ID: 9, Side: Buy, Price: 101, Qty: 1, PostOnly: true},
			wantErr: ErrWouldCross},
		{name: "post-only passive rests", o: Order{ID: 9, Side: Buy, Price: 100, Qty: 1, PostOnly: true},
			want: Result{Resting: 1}, wantBids: []Level{{100, 1, 1}, {99, 10, 1}, {98, 10, 1}}},
		{name: "post-only IOC", o: Order{ID: 9, Side: Buy, TIF: IOC, Price: 90, Qty: 1, PostOnly: true}, wantErr: ErrInvalidOrder},
		{name: "post-only FOK", o: Order{ID: 9, Side: Buy, TIF: FOK, Price: 90, Qty: 1, PostOnly: true}, wantErr: ErrInvalidOrder},
		{name: "post-only market", o: Order{ID: 9, Side: Buy, Kind: Market, Qty: 1, PostOnly: true}, wantErr: ErrInvalidOrder},
		{name: "id 0", o: lim(0, 0, Buy, 100, 1), wantErr: ErrInvalidOrder},
		{name: "side 0", o: lim(9, 0, 0, 100, 1), wantErr: ErrInvalidOrder},
		{name: "side 3", o: lim(9, 0, 3, 100, 1), wantErr: ErrInvalidOrder},
		{name: "bad kind", o: Order{ID: 9, Side: Buy, Kind: 2, Price: 100, Qty: 1}, wantErr: ErrInvalidOrder},
		{name: "bad TIF", o: Order{ID: 9, Side: Buy, TIF: 3, Price: 100, Qty: 1}, wantErr: ErrInvalidOrder},
		{name: "qty 0", o: lim(9, 0, Buy, 100, 0), wantErr: ErrInvalidOrder},
		{name: "qty < 0", o: lim(9, 0, Buy, 100, -1), wantErr: ErrInvalidOrder},
		{name: "price 0", o: lim(9, 0, Buy, 0, 1), wantErr: ErrInvalidOrder},
		{name: "price < 0", o: lim(9, 0, Buy, -5, 1), wantErr: ErrInvalidOrder},
		{name: "market ignores price", o: Order{ID: 9, Side: Buy, Kind: Market, Price: -5, Qty: 1},
			want:     Result{Filled: 1, Trades: []Trade{{9, 1, 0, 1, Buy, 101, 1}}},
			wantAsks: []Level{{101, 19, 2}, {102, 10, 1}}},
		{name: "below band", cfg: Config{MinPrice: 95, MaxPrice: 105}, o: lim(9, 0, Buy, 94, 1), wantErr: ErrInvalidOrder},
		{name: "above band", cfg: Config{MinPrice: 95, MaxPrice: 105}, o: lim(9, 0, Sell, 106, 1), wantErr: ErrInvalidOrder},
		{name: "band edge", cfg: Config{MinPrice: 95, MaxPrice: 105}, o: lim(9, 0, Sell, 105, 1), want: Result{Resting: 1},
			wantAsks: []Level{{101, 20, 2}, {102, 10, 1}, {105, 1, 1}}},
		{name: "duplicate of a resting id", o: lim(3, 0, Buy, 100, 1), wantErr: ErrDuplicateID},
		{name: "level quantity overflow", o: lim(9, 0, Sell, 101, math.MaxInt64-10), wantErr: ErrInvalidOrder},
		{name: "STP none trades with self", cfg: Config{STP: STPNone}, o: lim(9, 1, Buy, 101, 5),
			want:     Result{Filled: 5, Trades: []Trade{{9, 1, 1, 1, Buy, 101, 5}}},
			wantAsks: []Level{{101, 15, 2}, {102, 10, 1}}},
		{name: "STP anonymous owner never self-trades", cfg: Config{STP: CancelBoth}, o: lim(9, 0, Buy, 101, 5),
			want:     Result{Filled: 5, Trades: []Trade{{9, 1, 0, 1, Buy, 101, 5}}},
			wantAsks: []Level{{101, 15, 2}, {102, 10, 1}}},
		{name: "STP cancel resting", cfg: Config{STP: CancelResting}, o: lim(9, 1, Buy, 102, 25),
			want:     Result{Filled: 10, Resting: 15, Trades: []Trade{{9, 2, 1, 2, Buy, 101, 10}}},
			wantAsks: []Level{}, wantBids: []Level{{102, 15, 1}, {99, 10, 1}, {98, 10, 1}}},
		{name: "STP cancel incoming never rests", cfg: Config{STP: CancelIncoming}, o: lim(9, 1, Buy, 102, 25),
			want: Result{Canceled: 25}},
		{name: "STP cancel incoming after fills", cfg: Config{STP: CancelIncoming}, o: lim(9, 2, Buy, 102, 25),
			want:     Result{Filled: 10, Canceled: 15, Trades: []Trade{{9, 1, 2, 1, Buy, 101, 10}}},
			wantAsks: []Level{{101, 10, 1}, {102, 10, 1}}},
		{name: "STP cancel both", cfg: Config{STP: CancelBoth}, o: lim(9, 1, Buy, 102, 25),
			want: Result{Canceled: 25}, wantAsks: []Level{{101, 10, 1}, {102, 10, 1}}, wantOrder: []uint64{2, 3}},
		{name: "FOK with STP cancel resting counts only others", cfg: Config{STP: CancelResting},
			o: Order{ID: 9, Owner: 1, Side: Buy, TIF: FOK, Price: 102, Qty: 11}, want: Result{Canceled: 11}},
		{name: "FOK with STP cancel resting fills", cfg: Config{STP: CancelResting},
			o:        Order{ID: 9, Owner: 1, Side: Buy, TIF: FOK, Price: 102, Qty: 10},
			want:     Result{Filled: 10, Trades: []Trade{{9, 2, 1, 2, Buy, 101, 10}}},
			wantAsks: []Level{{102, 10, 1}}},
		{name: "FOK with STP cancel incoming blocked by own order", cfg: Config{STP: CancelIncoming},
			o: Order{ID: 9, Owner: 1, Side: Buy, TIF: FOK, Price: 102, Qty: 1}, want: Result{Canceled: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := mustBook(t, tc.cfg, book(tc.cfg)...)
			before := b.Hash()
			asks, bids := b.Depth(Sell, 0, nil), b.Depth(Buy, 0, nil)
			res, err := b.Submit(tc.o, nil)
			if rejected(t, b, before, err, tc.wantErr) {
				return
			}
			require.Equal(t, tc.want, res)
			if tc.want.Trades == nil && tc.want.Resting == 0 && tc.wantAsks == nil {
				require.Equal(t, before, b.Hash(), "nothing traded, nothing rested: nothing changed")
			}
			if tc.wantAsks != nil {
				asks = tc.wantAsks
			}
			if tc.wantBids != nil {
				bids = tc.wantBids
			}
			require.Equal(t, asks, append([]Level{}, b.Depth(Sell, 0, nil)...))
			require.Equal(t, bids, append([]Level{}, b.Depth(Buy, 0, nil)...))
			if tc.wantOrder != nil {
				require.Equal(t, tc.wantOrder, ids(b, Sell))
			}
		})
	}
}

func TestAmendRules(t *testing.T) {
	setup := []Order{lim(1, 1, Sell, 101, 10), lim(2, 2, Sell, 101, 10), lim(3, 1, Sell, 102, 10),
		lim(4, 3, Buy, 99, 10), {ID: 5, Owner: 3, Side: Buy, Price: 98, Qty: 10, PostOnly: true}}
	tests := []struct {
		name       string
		cfg        Config
		id         uint64
		price, qty int64
		want       Result
		wantErr    error
		wantAsks   []uint64 // ask ids in priority order
		wantBids   []uint64
		wantRem    int64 // of id afterwards, -1 if gone
	}{
		{name: "decrease keeps priority", id: 1, price: 101, qty: 4, want: Result{Resting: 4},
			wantAsks: []uint64{1, 2, 3}, wantRem: 4},
		{name: "no-op", id: 1, price: 101, qty: 10, want: Result{Resting: 10}, wantAsks: []uint64{1, 2, 3}, wantRem: 10},
		{name: "increase loses priority", id: 1, price: 101, qty: 11, want: Result{Resting: 11},
			wantAsks: []uint64{2, 1, 3}, wantRem: 11},
		{name: "price change loses priority", id: 3, price: 101, qty: 10, want: Result{Resting: 10},
			wantAsks: []uint64{1, 2, 3}, wantRem: 10},
		{name: "price change to a new level", id: 1, price: 103, qty: 10, want: Result{Resting: 10},
			wantAsks: []uint64{2, 3, 1}, wantRem: 10},
		{name: "zero cancels", id: 2, price: 101, qty: 0, want: Result{Canceled: 10}, wantAsks: []uint64{1, 3}, wantRem: -1},
		{name: "crossing amend trades", id: 4, price: 101, qty: 15,
			want:     Result{Filled: 15, Trades: []Trade{{4, 1, 3, 1, Buy, 101, 10}, {4, 2, 3, 2, Buy, 101, 5}}},
			wantAsks: []uint64{2, 3}, wantBids: []uint64{5}, wantRem: -1},
		{name: "crossing amend rests the remainder", id: 4, price: 101, qty: 25,
			want:     Result{Filled: 20, Resting: 5, Trades: []Trade{{4, 1, 3, 1, Buy, 101, 10}, {4, 2, 3, 2, Buy, 101, 10}}},
			wantAsks: []uint64{3}, wantBids: []uint64{4, 5}, wantRem: 5},
		{name: "crossing amend with STP cancel incoming", cfg: Config{STP: CancelIncoming}, id: 1, price: 99, qty: 10,
			want: Result{Filled: 10, Trades: []Trade{{1, 4, 1, 3, Sell, 99, 10}}}, wantAsks: []uint64{2, 3}, wantBids: []uint64{5}, wantRem: -1},
		{name: "post-only amend that would cross", id: 5, price: 101, qty: 10, wantErr: ErrWouldCross},
		{name: "post-only amend passive", id: 5, price: 100, qty: 3, want: Result{Resting: 3},
			wantBids: []uint64{5, 4}, wantRem: 3},
		{name: "unknown", id: 77, price: 100, qty: 1, wantErr: ErrUnknownOrder},
		{name: "id 0", id: 0, price: 100, qty: 1, wantErr: ErrUnknownOrder},
		{name: "negative qty", id: 1, price: 101, qty: -1, wantErr: ErrInvalidOrder},
		{name: "price 0", id: 1, price: 0, qty: 1, wantErr: ErrInvalidOrder},
		{name: "outside band", cfg: Config{MaxPrice: 150}, id: 1, price: 151, qty: 1, wantErr: ErrInvalidOrder},
		{name: "overflow", id: 1, price: 102, qty: math.MaxInt64 - 5, wantErr: ErrInvalidOrder},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := mustBook(t, tc.cfg, setup...)
			before := b.Hash()
			asks, bids := ids(b, Sell), ids(b, Buy)
			res, err := b.Amend(tc.id, tc.price, tc.qty, nil)
			if rejected(t, b, before, err, tc.wantErr) {
				return
			}
			require.Equal(t, tc.want, res)
			if tc.wantAsks != nil {
				asks = tc.wantAsks
			}
			if tc.wantBids != nil {
				bids = tc.wantBids
			}
			require.Equal(t, asks, ids(b, Sell))
			require.Equal(t, bids, ids(b, Buy))
			o, rem, ok := b.Order(tc.id)
			if tc.wantRem < 0 {
				require.False(t, ok)
				return
			}
			require.True(t, ok)
			require.Equal(t, tc.wantRem, rem)
			require.Equal(t, tc.price, o.Price)
		})
	}
}

func TestCancel(t *testing.T) {
	b := mustBook(t, Config{}, lim(1, 0, Sell, 101, 10), lim(2, 0, Sell, 101, 7))
	rem, err := b.Cancel(1)
	require.NoError(t, err)
	require.EqualValues(t, 10, rem)
	_, err = b.Cancel(1)
	require.ErrorIs(t, err, ErrUnknownOrder)
	_, err = b.Cancel(0)
	require.ErrorIs(t, err, ErrUnknownOrder)
	require.Equal(t, []Level{{101, 7, 1}}, b.Depth(Sell, 0, nil))
	// An ID may be reused once its order has left the book.
	res, err := b.Submit(lim(1, 0, Buy, 100, 3), nil)
	require.NoError(t, err)
	require.EqualValues(t, 3, res.Resting)
	rem, err = b.Cancel(2)
	require.NoError(t, err)
	require.EqualValues(t, 7, rem)
	_, _, ok := b.BestAsk()
	require.False(t, ok)
	require.Equal(t, 1, b.Len())
}

func TestDepthAndWalk(t *testing.T) {
	b := mustBook(t, Config{}, lim(1, 0, Buy, 100, 1), lim(2, 0, Buy, 98, 2), lim(3, 0, Buy, 100, 3),
		lim(4, 0, Buy, 1<<40, 4), lim(5, 0, Sell, 1<<41, 5))
	require.Equal(t, []Level{{1 << 40, 4, 1}, {100, 4, 2}, {98, 2, 1}}, b.Depth(Buy, 0, nil))
	require.Equal(t, []Level{{1 << 40, 4, 1}, {100, 4, 2}, {98, 2, 1}}, b.Depth(Buy, -1, nil))
	require.Equal(t, []Level{{1 << 40, 4, 1}}, b.Depth(Buy, 1, nil))
	require.Empty(t, b.Depth(3, 0, nil))
	require.Equal(t, []uint64{4, 1, 3, 2}, ids(b, Buy))
	n := 0
	b.Walk(Buy, func(Order, int64) bool { n++; return n < 2 })
	require.Equal(t, 2, n, "Walk stops when fn returns false")
	var e *Book = mustBook(t, Config{})
	require.Empty(t, e.Depth(Sell, 0, nil))
	_, _, ok := e.BestBid()
	require.False(t, ok)
}

func TestConfig(t *testing.T) {
	for _, cfg := range []Config{{STP: 4}, {MinPrice: -1}, {MaxPrice: -1}, {MinPrice: 10, MaxPrice: 9},
		{Window: 63}, {Window: 100}, {Window: 1 << 19}, {Window: -64}} {
		_, err := New(cfg)
		require.ErrorIs(t, err, ErrInvalidConfig, "%+v", cfg)
	}
	cfg := Config{}
	b, err := New(cfg)
	require.NoError(t, err)
	require.Equal(t, Config{}, cfg, "the caller's config is not modified")
	require.Equal(t, DefaultWindow, b.cfg.Window)
	_, err = b.Submit(lim(1, 0, Sell, math.MaxInt64, math.MaxInt64), nil)
	require.NoError(t, err, "Config{} accepts any positive tick")
	_, err = b.Submit(lim(2, 0, Buy, 1, 1), nil)
	require.NoError(t, err)
}

func TestHashDeterminism(t *testing.T) {
	run := func() *Book {
		p := newPair(t, Config{STP: CancelResting, Window: 64})
		g := newGen(42, p.b)
		for i := 0; i < 5000; i++ {
			p.do(fixAmend(g.next(), p.b))
		}
		return p.b
	}
	a, b := run(), run()
	require.Equal(t, a.Hash(), b.Hash())
	require.NotZero(t, a.Len())
	var id uint64
	a.Walk(Sell, func(o Order, _ int64) bool { id = o.ID; return false })
	_, err := a.Amend(id, a.orders[a.ids.get(id)].price, 1, nil)
	require.NoError(t, err)
	require.NotEqual(t, a.Hash(), b.Hash(), "a change of one quantity changes the hash")
}
