// Package orderbookbench compares sysblocks/orderbook with
// github.com/i25959341/orderbook v0.2.5 on the exchange-core benchmark mix
// (package orderbook/benchmix): the same commands, replayed on a fresh book.
// The peer has no IOC and no amend, so an IOC is a limit order followed by
// a cancel of any remainder, and a move is a cancel followed by a new limit
// order with the order's open quantity, which is also what sysblocks' Amend
// does to time priority. Order ids (strings for the peer) and decimal
// prices and quantities are converted before the timer starts.
package orderbookbench

import (
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"

	peer "github.com/i25959341/orderbook"
	"github.com/shopspring/decimal"

	"github.com/sysblocks/sysblocks/orderbook"
	"github.com/sysblocks/sysblocks/orderbook/benchmix"
)

var (
	mixOnce  sync.Once
	mixCmds  []benchmix.Command
	mixStats benchmix.Stats
	peerIDs  []string          // by order id
	peerQty  []decimal.Decimal // by quantity
	peerPx   map[int32]decimal.Decimal
)

// mix returns the stream (3M commands, 100k under -short) and the peer's
// pre-converted ids, prices and quantities.
func mix(b *testing.B) []benchmix.Command {
	mixOnce.Do(func() {
		n := 3_000_000
		if testing.Short() {
			n = 100_000
		}
		mixCmds, mixStats = benchmix.Generate(n, 1)
		var maxID uint32
		var maxQty int32
		peerPx = make(map[int32]decimal.Decimal)
		for _, c := range mixCmds {
			maxID = max(maxID, c.ID)
			maxQty = max(maxQty, c.Qty)
			if _, ok := peerPx[c.Price]; !ok {
				peerPx[c.Price] = decimal.New(int64(c.Price), 0)
			}
		}
		peerIDs = make([]string, maxID+1)
		for i := range peerIDs {
			peerIDs[i] = strconv.Itoa(i)
		}
		peerQty = make([]decimal.Decimal, maxQty+1)
		for i := range peerQty {
			peerQty[i] = decimal.New(int64(i), 0)
		}
	})
	b.Logf("%v", mixStats)
	return mixCmds
}

// prices returns the peer's decimal prices indexed like cmds.
func prices(cmds []benchmix.Command) []decimal.Decimal {
	out := make([]decimal.Decimal, len(cmds))
	for i, c := range cmds {
		out[i] = peerPx[c.Price]
	}
	return out
}

func peerSide(s orderbook.Side) peer.Side {
	if s == orderbook.Buy {
		return peer.Buy
	}
	return peer.Sell
}

// replayPeer runs cmds on the peer and returns how many commands it could
// not apply as sysblocks did (an order missing for a cancel or move).
func replayPeer(ob *peer.OrderBook, cmds []benchmix.Command, px []decimal.Decimal) (missing int) {
	for i := range cmds {
		c := &cmds[i]
		id := peerIDs[c.ID]
		switch c.Op {
		case benchmix.GTC:
			ob.ProcessLimitOrder(peerSide(c.Side), id, peerQty[c.Qty], px[i])
		case benchmix.IOC:
			ob.ProcessLimitOrder(peerSide(c.Side), id, peerQty[c.Qty], px[i])
			if ob.Order(id) != nil {
				ob.CancelOrder(id)
			}
		case benchmix.Cancel:
			if ob.CancelOrder(id) == nil {
				missing++
			}
		case benchmix.Move:
			o := ob.CancelOrder(id)
			if o == nil {
				missing++
				continue
			}
			ob.ProcessLimitOrder(o.Side(), id, o.Quantity(), px[i])
		}
	}
	return missing
}

// BenchmarkMix reports cmds/s, ns/cmd and cpu-ns/cmd for each
// implementation; its ratio sub-benchmark reports how many times faster
// sysblocks is (median of the runs so far; x-wall from ns/cmd, x-cpu from
// cpu-ns/cmd).
func BenchmarkMix(b *testing.B) {
	var wallSys, wallPeer, cpuSys, cpuPeer []float64
	b.Run("impl=sysblocks", func(b *testing.B) {
		cmds := mix(b)
		trades := make([]orderbook.Trade, 0, 64)
		b.ReportAllocs()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var cpu benchmix.CPUClock
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			bk, err := orderbook.New(orderbook.Config{})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			cpu.Start()
			failed := benchmix.Replay(bk, cmds, trades)
			cpu.Stop()
			if failed != 0 {
				b.Fatalf("%d commands failed", failed)
			}
		}
		wallSys = append(wallSys, report(b, len(cmds)))
		cpuSys = append(cpuSys, cpu.Report(b, len(cmds)))
	})
	b.Run("impl=i25959341", func(b *testing.B) {
		cmds := mix(b)
		px := prices(cmds)
		b.ReportAllocs()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var cpu benchmix.CPUClock
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			ob := peer.NewOrderBook()
			b.StartTimer()
			cpu.Start()
			missing := replayPeer(ob, cmds, px)
			cpu.Stop()
			if missing != 0 {
				b.Fatalf("peer diverged: %d cancels/moves found no order", missing)
			}
			b.StopTimer()
			if len(peerOrders(ob)) != mixStats.Resting {
				b.Fatalf("peer ends with %d orders, sysblocks with %d", len(peerOrders(ob)), mixStats.Resting)
			}
			b.StartTimer()
		}
		wallPeer = append(wallPeer, report(b, len(cmds)))
		cpuPeer = append(cpuPeer, cpu.Report(b, len(cmds)))
	})
	b.Run("ratio", func(b *testing.B) {
		if len(wallSys) == 0 || len(wallPeer) == 0 {
			b.Skip("run both implementations to get a ratio")
		}
		for i := 0; i < b.N; i++ {
			_ = i // nothing to time: the metrics are the result
		}
		b.ReportMetric(median(wallPeer)/median(wallSys), "x-wall")
		if c := median(cpuSys); c > 0 {
			b.ReportMetric(median(cpuPeer)/c, "x-cpu")
		}
	})
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func report(b *testing.B, n int) float64 {
	total := float64(n) * float64(b.N)
	ns := float64(b.Elapsed().Nanoseconds()) / total
	b.ReportMetric(total/b.Elapsed().Seconds(), "cmds/s")
	b.ReportMetric(ns, "ns/cmd")
	return ns
}

// peerOrders lists the peer's resting orders through its public depth API.
func peerOrders(ob *peer.OrderBook) []string {
	var ids []string
	for _, id := range peerIDs {
		if ob.Order(id) != nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// TestPeerAgrees replays a short stream on both books and requires the same
// resting orders with the same open quantities, so the benchmark compares
// equal work.
func TestPeerAgrees(t *testing.T) {
	cmds, st := benchmix.Generate(20_000, 5)
	bk, err := orderbook.New(orderbook.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if failed := benchmix.Replay(bk, cmds, nil); failed != 0 {
		t.Fatalf("%d commands failed", failed)
	}
	ob := peer.NewOrderBook()
	px := make([]decimal.Decimal, len(cmds))
	for i, c := range cmds {
		px[i] = decimal.New(int64(c.Price), 0)
	}
	saveIDs, saveQty := peerIDs, peerQty
	defer func() { peerIDs, peerQty = saveIDs, saveQty }()
	peerIDs = make([]string, len(cmds)+2)
	for i := range peerIDs {
		peerIDs[i] = strconv.Itoa(i)
	}
	peerQty = make([]decimal.Decimal, 101)
	for i := range peerQty {
		peerQty[i] = decimal.New(int64(i), 0)
	}
	if missing := replayPeer(ob, cmds, px); missing != 0 {
		t.Fatalf("peer diverged: %d", missing)
	}
	n := 0
	for id := range peerIDs {
		o := ob.Order(peerIDs[id])
		_, rem, ok := bk.Order(uint64(id))
		if (o != nil) != ok {
			t.Fatalf("order %d: peer has it %v, sysblocks %v", id, o != nil, ok)
		}
		if ok {
			n++
			if !o.Quantity().Equal(decimal.New(rem, 0)) {
				t.Fatalf("order %d: peer qty %v, sysblocks %d", id, o.Quantity(), rem)
			}
		}
	}
	if n != st.Resting || n == 0 {
		t.Fatalf("%d orders compared, %d resting", n, st.Resting)
	}
}
