package exchange

import "github.com/sysblocks/sysblocks/orderbook"

// OutKind is the kind of an outbound event.
type OutKind uint8

// Outbound event kinds.
const (
	OutTrade OutKind = 1 // an execution: one fill between a taker and a maker
	OutLevel OutKind = 2 // an L2 change: the new total at one price of one side (0 = gone)
)

// OrderInfo is the part of an order an execution report carries.
type OrderInfo struct {
	ID, Account uint64
	Kind        orderbook.Kind
	Price, Qty  int64 // limit price (0 for market) and original quantity
	Filled      int64 // cumulative filled quantity after this execution
}

// OutEvent is one event of the outbound stream (the executions and market
// data the matching engine emits), in the order the state machine produced it.
// It is a plain value so that the outbound ring holds it without pointers.
type OutEvent struct {
	Kind    OutKind
	Sym     uint16
	Side    orderbook.Side // OutLevel: the book side; OutTrade: the taker's side
	Seq     uint64         // OutTrade: the inbound sequence of the taker's command
	Time    int64          // sequencer timestamp, unix ns
	Price   int64
	Qty     int64
	TradeID uint64 // OutTrade: 1, 2, 3… in execution order
	// OutTrade: the ledger transfers settling the trade: escrow pays the
	// buyer the shares and the seller the cash.
	BuyPayout, SellPayout uint64
	Taker                 OrderInfo
	Maker                 OrderInfo
}
