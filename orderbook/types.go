package orderbook

import (
	"errors"
	"fmt"
)

// Side is the side of the book an order is on. The zero value is invalid,
// so an Order must always say which side it is.
type Side uint8

// Sides.
const (
	Buy Side = 1 + iota
	Sell
)

// Opposite returns the other side.
func (s Side) Opposite() Side {
	if s == Buy {
		return Sell
	}
	return Buy
}

func (s Side) String() string {
	switch s {
	case Buy:
		return "buy"
	case Sell:
		return "sell"
	}
	return fmt.Sprintf("Side(%d)", uint8(s))
}

// Kind is the order type. The zero value is Limit.
type Kind uint8

// Kinds.
const (
	Limit  Kind = iota // trades at Price or better; the remainder rests if TIF is GTC
	Market             // trades at any price; never rests
)

// TIF is an order's time in force. The zero value is GTC.
type TIF uint8

// Times in force.
const (
	GTC TIF = iota // good till canceled: the unfilled remainder rests
	IOC            // immediate or cancel: fill what is possible, cancel the rest
	FOK            // fill or kill: fill completely or do nothing
)

// STP is a self-trade prevention policy: what happens when an incoming order
// would trade with a resting order of the same non-zero Owner.
type STP uint8

// Self-trade prevention policies.
const (
	STPNone        STP = iota // trade as usual
	CancelResting             // cancel the resting order and keep matching
	CancelIncoming            // cancel the rest of the incoming order; it never rests
	CancelBoth                // cancel the resting order and the rest of the incoming one
)

// Order is an instruction to buy or sell. ID must be unique among the orders
// resting in a book (an ID may be reused once its order has left the book).
type Order struct {
	ID       uint64 // unique within a book; 0 is invalid
	Owner    uint64 // account, for self-trade prevention; 0 = anonymous
	Side     Side
	Kind     Kind
	TIF      TIF   // Market orders behave as IOC (FOK stays FOK)
	Price    int64 // ticks, > 0 for Limit; ignored for Market
	Qty      int64 // lots, > 0
	PostOnly bool  // rejected with ErrWouldCross if it would trade; GTC Limit only
}

// Trade is one fill between an incoming (taker) and a resting (maker) order.
type Trade struct {
	TakerID, MakerID       uint64
	TakerOwner, MakerOwner uint64
	TakerSide              Side
	Price, Qty             int64 // Price is always the resting (maker) order's price
}

// Result is the outcome of Submit or Amend. Filled + Resting + Canceled is
// the quantity the call asked for: Order.Qty for Submit, qty for Amend (the
// open quantity it canceled when qty is 0).
type Result struct {
	Trades   []Trade // the dst slice passed in, with this order's trades appended in match order
	Filled   int64
	Resting  int64 // quantity left resting on the book
	Canceled int64 // quantity not filled and not resting (IOC/FOK/Market remainder, STP)
}

// Level is one price level of the aggregated (L2) book.
type Level struct {
	Price, Qty int64
	Orders     int
}

// Errors. They are wrapped with context; match them with errors.Is.
var (
	ErrInvalidOrder    = errors.New("orderbook: invalid order")
	ErrDuplicateID     = errors.New("orderbook: duplicate order id")
	ErrUnknownOrder    = errors.New("orderbook: unknown order")
	ErrWouldCross      = errors.New("orderbook: post-only order would cross")
	ErrInvalidConfig   = errors.New("orderbook: invalid config")
	ErrCorrupt         = errors.New("orderbook: corrupt snapshot")
	ErrUnknownSymbol   = errors.New("orderbook: unknown symbol")
	ErrDuplicateSymbol = errors.New("orderbook: duplicate symbol")
)

// Config configures a Book. The zero value is a book without self-trade
// prevention, without a price band and with the default window.
type Config struct {
	// STP is the self-trade prevention policy (default STPNone).
	STP STP
	// MinPrice and MaxPrice bound the limit prices the book accepts; 0
	// leaves that end unbounded.
	MinPrice, MaxPrice int64
	// Window is the number of ticks per side whose levels are indexed
	// directly (O(1) add, remove and next-best); levels outside it are kept
	// in a B-tree (O(log n)). 0 means DefaultWindow; otherwise a power of
	// two from 64 to 262144. It costs 4 bytes per tick per side and does not
	// change behaviour, only speed.
	Window int
	// Listener, if not nil, receives market data synchronously from the
	// book's mutating calls.
	Listener Listener
}

// validate checks c and returns a copy with defaults filled in.
func (c Config) validate() (Config, error) {
	if c.STP > CancelBoth {
		return c, fmt.Errorf("%w: STP policy %d", ErrInvalidConfig, c.STP)
	}
	if c.MinPrice < 0 || c.MaxPrice < 0 || (c.MaxPrice != 0 && c.MinPrice > c.MaxPrice) {
		return c, fmt.Errorf("%w: price band [%d, %d]", ErrInvalidConfig, c.MinPrice, c.MaxPrice)
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.Window < minWindow || c.Window > maxWindow || c.Window&(c.Window-1) != 0 {
		return c, fmt.Errorf("%w: window %d is not a power of two in [%d, %d]", ErrInvalidConfig, c.Window, minWindow, maxWindow)
	}
	return c, nil
}

// inBand reports whether a limit price is acceptable.
func (c *Config) inBand(price int64) bool {
	return price > 0 && price >= c.MinPrice && (c.MaxPrice == 0 || price <= c.MaxPrice)
}

// Listener receives market data from a Book as it changes. Calls are made
// synchronously from inside Submit, Cancel and Amend, on the caller's
// goroutine, in the order the events happen; a Listener must not call back
// into the Book. Within one call, each trade is reported before the level
// changes it caused.
type Listener interface {
	// OnTrade reports one fill.
	OnTrade(t Trade)
	// OnLevel reports the new total quantity at one price level of one
	// side; qty 0 means the level is gone.
	OnLevel(side Side, price, qty int64)
}
