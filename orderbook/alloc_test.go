package orderbook

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestZeroAllocs checks that Submit (resting and matching), Cancel, Amend
// and the read paths do not allocate once the book has reached its size.
func TestZeroAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	for _, tree := range []bool{false, true} {
		bb := newBenchBook(t, 2_000, tree)
		trades := make([]Trade, 0, 16)
		lv := make([]Level, 0, 4096)
		var ops int
		allocs := testing.AllocsPerRun(500, func() {
			ops++
			id := bb.randomLive()
			o, rem, _ := bb.b.Order(id)
			// A move to a new price, a cancel, a resting submit and a 1:1
			// match, keeping the size constant.
			// (No require calls in here: boxing their arguments allocates.)
			if _, err := bb.b.Amend(id, bb.price(o.Side), rem, trades[:0]); err != nil {
				t.Fatal(err)
			}
			if _, err := bb.b.Cancel(bb.randomLive()); err != nil {
				t.Fatal(err)
			}
			bb.add(t)
			bb.nextID++
			res, err := bb.b.Submit(Order{ID: bb.nextID, Side: Side(1 + ops%2), Kind: Market, Qty: 10}, trades[:0])
			if err != nil || len(res.Trades) != 1 {
				t.Fatal(err, res)
			}
			bb.add(t)
			lv = bb.b.Depth(Buy, 0, lv[:0])
			_ = bb.b.Hash()
		})
		require.Zero(t, allocs, "tree=%v", tree)
	}
}
