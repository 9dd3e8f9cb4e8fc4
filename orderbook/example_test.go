package orderbook_test

import (
	"fmt"

	"github.com/sysblocks/sysblocks/orderbook"
)

// Place resting orders, match a taker against them and cancel the rest.
func Example() {
	book, _ := orderbook.New(orderbook.Config{STP: orderbook.CancelIncoming})
	book.Submit(orderbook.Order{ID: 1, Owner: 7, Side: orderbook.Sell, Price: 10010, Qty: 300}, nil)
	book.Submit(orderbook.Order{ID: 2, Owner: 8, Side: orderbook.Sell, Price: 10011, Qty: 500}, nil)

	trades := make([]orderbook.Trade, 0, 8) // reused: no allocation per order
	res, _ := book.Submit(orderbook.Order{ID: 3, Owner: 9, Side: orderbook.Buy, Price: 10011, Qty: 400}, trades[:0])
	for _, t := range res.Trades {
		fmt.Printf("trade %d<-%d: %d @ %d\n", t.TakerID, t.MakerID, t.Qty, t.Price)
	}
	fmt.Println("filled", res.Filled, "resting", res.Resting)

	left, _ := book.Cancel(2)
	fmt.Println("canceled", left, "orders left", book.Len())
	// Output:
	// trade 3<-1: 300 @ 10010
	// trade 3<-2: 100 @ 10011
	// filled 400 resting 0
	// canceled 400 orders left 0
}

// Depth gives the aggregated (L2) book, best first; Walk gives every order.
func ExampleBook_Depth() {
	book, _ := orderbook.New(orderbook.Config{})
	book.Submit(orderbook.Order{ID: 1, Side: orderbook.Buy, Price: 99, Qty: 5}, nil)
	book.Submit(orderbook.Order{ID: 2, Side: orderbook.Buy, Price: 100, Qty: 2}, nil)
	book.Submit(orderbook.Order{ID: 3, Side: orderbook.Buy, Price: 99, Qty: 1}, nil)
	for _, l := range book.Depth(orderbook.Buy, 0, nil) {
		fmt.Printf("%d x %d (%d orders)\n", l.Price, l.Qty, l.Orders)
	}
	book.Walk(orderbook.Buy, func(o orderbook.Order, remaining int64) bool {
		fmt.Println("order", o.ID, remaining)
		return true
	})
	// Output:
	// 100 x 2 (1 orders)
	// 99 x 6 (2 orders)
	// order 2 2
	// order 1 5
	// order 3 1
}

// Amend lowers a quantity in place (keeping priority) or moves an order.
func ExampleBook_Amend() {
	book, _ := orderbook.New(orderbook.Config{})
	book.Submit(orderbook.Order{ID: 1, Side: orderbook.Sell, Price: 50, Qty: 10}, nil)
	book.Submit(orderbook.Order{ID: 2, Side: orderbook.Sell, Price: 50, Qty: 10}, nil)
	book.Amend(1, 50, 4, nil) // still first in the queue
	res, _ := book.Submit(orderbook.Order{ID: 3, Side: orderbook.Buy, Kind: orderbook.Market, Qty: 6}, nil)
	for _, t := range res.Trades {
		fmt.Println("maker", t.MakerID, "qty", t.Qty)
	}
	// Output:
	// maker 1 qty 4
	// maker 2 qty 2
}
