package orderbook

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/cespare/xxhash/v2"
	"github.com/google/btree"
)

// order is a resting order in the slab. Orders of one level form an
// intrusive doubly-linked list through prev/next (slab indexes, 0 = none).
type order struct {
	id, owner uint64
	price     int64
	qty       int64 // quantity asked for by the last Submit or Amend
	rem       int64 // open quantity
	prev      int32
	next      int32 // also links the free list
	lvl       int32
	side      Side
	postOnly  bool
}

// level is one price level: a FIFO of orders, oldest at head.
type level struct {
	price      int64
	qty        int64
	head, tail int32
	count      int32 // also links the free list (as the next free index)
}

// Book is a limit order book for one instrument with a price-time priority
// matching engine. Create it with New (or Restore); the zero Book is not
// usable.
//
// Costs: Submit of an order that rests, Cancel and Amend are O(1) for prices
// inside the window (see Config.Window) and O(log levels) outside it; a
// taker costs O(1) per order and per level it trades with. In steady state
// (once the book has reached its largest size and dst has room for the
// trades) no call allocates.
//
// A Book is not safe for concurrent use: it is meant to be driven by a single
// goroutine (the sequencer's output), which is what makes it deterministic.
// Read-only methods may run concurrently with each other but not with a
// mutating call.
type Book struct {
	cfg       Config
	orders    []order // slab; index 0 is unused
	freeOrder int32
	levels    []level // slab; index 0 is unused
	freeLevel int32
	ids       idmap
	bids      *ladder
	asks      *ladder
	n         int
	lis       Listener
}

// New returns an empty book. The caller's cfg is copied, not modified.
func New(cfg Config) (*Book, error) {
	c, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	return newBook(c), nil
}

func newBook(c Config) *Book {
	fl := btree.NewFreeListG[farLevel](64)
	return &Book{
		cfg:    c,
		orders: make([]order, 1, 64),
		levels: make([]level, 1, 64),
		ids:    newIDMap(),
		bids:   newLadder(true, c.Window, fl),
		asks:   newLadder(false, c.Window, fl),
		lis:    c.Listener,
	}
}

func (b *Book) ladder(s Side) *ladder {
	if s == Buy {
		return b.bids
	}
	return b.asks
}

// Len returns the number of resting orders. O(1).
func (b *Book) Len() int { return b.n }

// BestBid returns the highest bid price and the quantity resting there. O(1).
func (b *Book) BestBid() (price, qty int64, ok bool) { return b.best(b.bids) }

// BestAsk returns the lowest ask price and the quantity resting there. O(1).
func (b *Book) BestAsk() (price, qty int64, ok bool) { return b.best(b.asks) }

func (b *Book) best(l *ladder) (price, qty int64, ok bool) {
	if l.best == 0 {
		return 0, 0, false
	}
	lv := &b.levels[l.best]
	return lv.price, lv.qty, true
}

// Depth appends up to levels price levels of side, best first, to dst and
// returns it; levels <= 0 means every level. O(levels) inside the window.
func (b *Book) Depth(side Side, levels int, dst []Level) []Level {
	if side != Buy && side != Sell {
		return dst
	}
	l := b.ladder(side)
	for li, n := l.best, 0; li != 0 && (levels <= 0 || n < levels); n++ {
		lv := &b.levels[li]
		dst = append(dst, Level{Price: lv.price, Qty: lv.qty, Orders: int(lv.count)})
		li, _ = l.next(lv.price)
	}
	return dst
}

// Walk calls fn for each resting order of side in priority order (best
// price first, oldest first within a price) with its open quantity, until fn
// returns false. fn must not modify the book. O(orders visited).
func (b *Book) Walk(side Side, fn func(o Order, remaining int64) bool) {
	if side != Buy && side != Sell {
		return
	}
	l := b.ladder(side)
	for li := l.best; li != 0; {
		lv := &b.levels[li]
		for oi := lv.head; oi != 0; oi = b.orders[oi].next {
			if !fn(b.orders[oi].public(), b.orders[oi].rem) {
				return
			}
		}
		li, _ = l.next(lv.price)
	}
}

// Order returns the resting order with the given id and its open quantity.
// The returned Order is a GTC Limit order whose Price and Qty are those of
// the last Submit or Amend. O(1).
func (b *Book) Order(id uint64) (o Order, remaining int64, ok bool) {
	oi := b.ids.get(id)
	if id == 0 || oi == 0 {
		return Order{}, 0, false
	}
	return b.orders[oi].public(), b.orders[oi].rem, true
}

func (o *order) public() Order {
	return Order{ID: o.id, Owner: o.owner, Side: o.side, Kind: Limit, TIF: GTC,
		Price: o.price, Qty: o.qty, PostOnly: o.postOnly}
}

// Hash returns an xxhash of the book's full state: the configuration's
// matching rules (STP policy and price band, not Window) and every resting
// order with all its fields, bids then asks, in priority order. Two books
// fed the same commands have the same Hash; so do a book and its Restore.
// O(orders); it does not allocate.
func (b *Book) Hash() uint64 {
	var d xxhash.Digest
	d.Reset()
	var buf [56]byte
	binary.LittleEndian.PutUint64(buf[0:], uint64(b.cfg.STP))
	binary.LittleEndian.PutUint64(buf[8:], uint64(b.cfg.MinPrice))
	binary.LittleEndian.PutUint64(buf[16:], uint64(b.cfg.MaxPrice))
	_, _ = d.Write(buf[:24])
	for _, l := range [2]*ladder{b.bids, b.asks} {
		binary.LittleEndian.PutUint64(buf[0:], uint64(l.len()))
		_, _ = d.Write(buf[:8])
		for li := l.best; li != 0; {
			lv := &b.levels[li]
			for oi := lv.head; oi != 0; oi = b.orders[oi].next {
				o := &b.orders[oi]
				binary.LittleEndian.PutUint64(buf[0:], o.id)
				binary.LittleEndian.PutUint64(buf[8:], o.owner)
				binary.LittleEndian.PutUint64(buf[16:], uint64(o.price))
				binary.LittleEndian.PutUint64(buf[24:], uint64(o.qty))
				binary.LittleEndian.PutUint64(buf[32:], uint64(o.rem))
				binary.LittleEndian.PutUint64(buf[40:], uint64(o.side))
				var po uint64
				if o.postOnly {
					po = 1
				}
				binary.LittleEndian.PutUint64(buf[48:], po)
				_, _ = d.Write(buf[:])
			}
			li, _ = l.next(lv.price)
		}
	}
	return d.Sum64()
}

// validate checks the fields of an incoming order.
func (b *Book) validate(o *Order) error {
	switch {
	case o.ID == 0:
		return fmt.Errorf("%w: id 0", ErrInvalidOrder)
	case o.Side != Buy && o.Side != Sell:
		return fmt.Errorf("%w: order %d: side %d", ErrInvalidOrder, o.ID, o.Side)
	case o.Kind > Market:
		return fmt.Errorf("%w: order %d: kind %d", ErrInvalidOrder, o.ID, o.Kind)
	case o.TIF > FOK:
		return fmt.Errorf("%w: order %d: time in force %d", ErrInvalidOrder, o.ID, o.TIF)
	case o.Qty <= 0:
		return fmt.Errorf("%w: order %d: qty %d", ErrInvalidOrder, o.ID, o.Qty)
	case o.Kind == Limit && !b.cfg.inBand(o.Price):
		return fmt.Errorf("%w: order %d: price %d outside (0 or band [%d, %d])", ErrInvalidOrder, o.ID, o.Price, b.cfg.MinPrice, b.cfg.MaxPrice)
	case o.PostOnly && (o.Kind != Limit || o.TIF != GTC):
		return fmt.Errorf("%w: order %d: post-only must be a GTC limit order", ErrInvalidOrder, o.ID)
	}
	return nil
}

// crosses reports whether a limit order of side at price would trade with
// the best level of the other side.
func (b *Book) crosses(side Side, price int64) bool {
	if side == Buy {
		return b.asks.best != 0 && b.asks.bestPrice <= price
	}
	return b.bids.best != 0 && b.bids.bestPrice >= price
}

// taker is an incoming order while it matches.
type taker struct {
	id, owner uint64
	side      Side
	market    bool
	price     int64
	rem       int64
	filled    int64
	stopped   bool // self-trade prevention canceled the rest
}

// Submit enters an order: it trades with resting orders by price-time
// priority, then rests (GTC Limit) or cancels (IOC, FOK, Market) what is
// left. Trades are appended to dst, which Result.Trades returns. A rejected
// order (ErrInvalidOrder, ErrDuplicateID, ErrWouldCross) changes nothing.
// Cost: O(1) to rest, plus O(1) per order and level traded with (see Book).
func (b *Book) Submit(o Order, dst []Trade) (Result, error) {
	res := Result{Trades: dst}
	if err := b.validate(&o); err != nil {
		return res, err
	}
	if b.ids.get(o.ID) != 0 {
		return res, fmt.Errorf("%w: %d", ErrDuplicateID, o.ID)
	}
	if o.Kind == Limit && o.TIF == GTC && !b.fits(o.Side, o.Price, o.Qty, 0) {
		return res, fmt.Errorf("%w: order %d: level %d quantity would overflow", ErrInvalidOrder, o.ID, o.Price)
	}
	market := o.Kind == Market
	tif := o.TIF
	if market && tif == GTC {
		tif = IOC
	}
	if o.PostOnly && b.crosses(o.Side, o.Price) {
		return res, fmt.Errorf("%w: order %d at %d", ErrWouldCross, o.ID, o.Price)
	}
	t := taker{id: o.ID, owner: o.Owner, side: o.Side, market: market, price: o.Price, rem: o.Qty}
	if tif == FOK && !b.canFill(&t) {
		res.Canceled = o.Qty
		return res, nil
	}
	b.match(&t, &res.Trades)
	res.Filled = t.filled
	if t.rem == 0 {
		return res, nil
	}
	if tif != GTC || t.stopped {
		res.Canceled = t.rem
		return res, nil
	}
	oi := b.allocOrder()
	b.orders[oi] = order{id: o.ID, owner: o.Owner, price: o.Price, qty: o.Qty, rem: t.rem,
		side: o.Side, postOnly: o.PostOnly}
	b.ids.put(o.ID, oi)
	b.n++
	b.rest(oi)
	res.Resting = t.rem
	return res, nil
}

// Cancel removes a resting order and returns its open quantity. O(1) inside
// the window. An unknown id is ErrUnknownOrder and changes nothing.
func (b *Book) Cancel(id uint64) (remaining int64, err error) {
	oi := b.ids.get(id)
	if id == 0 || oi == 0 {
		return 0, fmt.Errorf("%w: %d", ErrUnknownOrder, id)
	}
	rem := b.orders[oi].rem
	b.unlink(oi, true)
	b.drop(oi)
	return rem, nil
}

// Amend changes a resting order's price and open quantity (qty is the new
// open quantity, not the original size). Lowering qty at the same price
// keeps time priority and returns Resting = qty; qty 0 cancels (Canceled =
// what was open); the same price and qty is a no-op success; any other
// change re-queues the order at the tail of its (new) price, where it may
// trade like a GTC limit order, with the usual self-trade prevention. A
// post-only order amended to a crossing price is ErrWouldCross. Errors
// (ErrUnknownOrder, ErrInvalidOrder for a price outside the band or qty < 0,
// ErrWouldCross) change nothing. Cost: as Cancel plus Submit.
func (b *Book) Amend(id uint64, price, qty int64, dst []Trade) (Result, error) {
	res := Result{Trades: dst}
	oi := b.ids.get(id)
	if id == 0 || oi == 0 {
		return res, fmt.Errorf("%w: %d", ErrUnknownOrder, id)
	}
	if !b.cfg.inBand(price) || qty < 0 {
		return res, fmt.Errorf("%w: amend %d to price %d qty %d", ErrInvalidOrder, id, price, qty)
	}
	o := &b.orders[oi]
	switch {
	case qty == 0:
		res.Canceled = o.rem
		b.unlink(oi, true)
		b.drop(oi)
		return res, nil
	case price == o.price && qty == o.rem:
		res.Resting = qty
		return res, nil
	case price == o.price && qty < o.rem:
		lv := &b.levels[o.lvl]
		lv.qty -= o.rem - qty
		o.rem, o.qty = qty, qty
		if b.lis != nil {
			b.lis.OnLevel(o.side, lv.price, lv.qty)
		}
		res.Resting = qty
		return res, nil
	}
	if !b.fits(o.side, price, qty, oi) {
		return res, fmt.Errorf("%w: amend %d: level %d quantity would overflow", ErrInvalidOrder, id, price)
	}
	if o.postOnly && b.crosses(o.side, price) {
		return res, fmt.Errorf("%w: amend %d to %d", ErrWouldCross, id, price)
	}
	b.unlink(oi, true)
	o = &b.orders[oi]
	o.price, o.qty, o.rem = price, qty, qty
	t := taker{id: id, owner: o.owner, side: o.side, price: price, rem: qty}
	b.match(&t, &res.Trades)
	res.Filled = t.filled
	if t.rem == 0 || t.stopped {
		res.Canceled = t.rem
		b.drop(oi)
		return res, nil
	}
	b.orders[oi].rem = t.rem
	b.rest(oi)
	res.Resting = t.rem
	return res, nil
}

// canFill reports whether t can be filled completely now, taking
// self-trade prevention into account, without changing anything.
func (b *Book) canFill(t *taker) bool {
	opp := b.ladder(t.side.Opposite())
	stp := b.cfg.STP != STPNone && t.owner != 0
	need := t.rem
	for li := opp.best; li != 0; {
		lv := &b.levels[li]
		if !t.market && !limitCrosses(t.side, t.price, lv.price) {
			return false
		}
		if !stp {
			need -= lv.qty
		} else {
			for oi := lv.head; oi != 0 && need > 0; oi = b.orders[oi].next {
				mo := &b.orders[oi]
				if mo.owner != t.owner {
					need -= mo.rem
				} else if b.cfg.STP != CancelResting {
					return false
				}
			}
		}
		if need <= 0 {
			return true
		}
		li, _ = opp.next(lv.price)
	}
	return false
}

func limitCrosses(side Side, limit, price int64) bool {
	if side == Buy {
		return price <= limit
	}
	return price >= limit
}

// match trades t against the other side until it is filled, its limit
// price stops it, the other side is empty or self-trade prevention stops it.
func (b *Book) match(t *taker, trades *[]Trade) {
	oppSide := t.side.Opposite()
	opp := b.ladder(oppSide)
	stp := b.cfg.STP != STPNone && t.owner != 0
	for t.rem > 0 && opp.best != 0 {
		li := opp.best
		lv := &b.levels[li]
		if !t.market && !limitCrosses(t.side, t.price, lv.price) {
			return
		}
		for oi := lv.head; oi != 0 && t.rem > 0; {
			mo := &b.orders[oi]
			next := mo.next
			if stp && mo.owner == t.owner {
				if b.cfg.STP != CancelIncoming {
					b.unlink(oi, false)
					b.drop(oi)
				}
				if b.cfg.STP != CancelResting {
					t.stopped = true
					break
				}
				oi = next
				continue
			}
			q := min(t.rem, mo.rem)
			tr := Trade{TakerID: t.id, MakerID: mo.id, TakerOwner: t.owner, MakerOwner: mo.owner,
				TakerSide: t.side, Price: lv.price, Qty: q}
			*trades = append(*trades, tr)
			t.rem -= q
			t.filled += q
			mo.rem -= q
			lv.qty -= q
			if b.lis != nil {
				b.lis.OnTrade(tr)
			}
			if mo.rem == 0 {
				b.unlink(oi, false)
				b.drop(oi)
			}
			oi = next
		}
		price, qty, empty := lv.price, lv.qty, lv.count == 0
		if empty {
			opp.remove(price)
			b.freeLevelSlot(li)
		}
		if b.lis != nil {
			b.lis.OnLevel(oppSide, price, qty)
		}
		if t.stopped {
			return
		}
	}
}

// rest appends order oi at the tail of its price level, creating the level
// if needed.
func (b *Book) rest(oi int32) {
	side, price := b.orders[oi].side, b.orders[oi].price
	l := b.ladder(side)
	li := l.get(price)
	if li == 0 {
		li = b.allocLevel()
		b.levels[li] = level{price: price}
		l.insert(price, li)
	}
	lv := &b.levels[li]
	o := &b.orders[oi]
	o.lvl, o.next, o.prev = li, 0, lv.tail
	if lv.tail != 0 {
		b.orders[lv.tail].next = oi
	} else {
		lv.head = oi
	}
	lv.tail = oi
	lv.count++
	lv.qty += o.rem
	if b.lis != nil {
		b.lis.OnLevel(side, price, lv.qty)
	}
}

// unlink takes order oi out of its level's list (removing the level if it
// empties, unless the caller is matching that level, which does so itself).
// The order keeps its slot and its id; see drop.
func (b *Book) unlink(oi int32, removeEmpty bool) {
	o := &b.orders[oi]
	li := o.lvl
	lv := &b.levels[li]
	if o.prev != 0 {
		b.orders[o.prev].next = o.next
	} else {
		lv.head = o.next
	}
	if o.next != 0 {
		b.orders[o.next].prev = o.prev
	} else {
		lv.tail = o.prev
	}
	lv.count--
	lv.qty -= o.rem
	if !removeEmpty {
		return
	}
	price, qty := lv.price, lv.qty
	if lv.count == 0 {
		b.ladder(o.side).remove(price)
		b.freeLevelSlot(li)
	}
	if b.lis != nil {
		b.lis.OnLevel(o.side, price, qty)
	}
}

// fits reports whether qty more can rest at price on side without the
// level's total overflowing; self is an order of that level that is about
// to leave it (0 if none).
func (b *Book) fits(side Side, price, qty int64, self int32) bool {
	li := b.ladder(side).get(price)
	if li == 0 {
		return true
	}
	have := b.levels[li].qty
	if self != 0 && b.orders[self].lvl == li {
		have -= b.orders[self].rem
	}
	return have <= math.MaxInt64-qty
}

// drop forgets an unlinked order: its id and its slot.
func (b *Book) drop(oi int32) {
	b.ids.del(b.orders[oi].id)
	b.orders[oi] = order{next: b.freeOrder}
	b.freeOrder = oi
	b.n--
}

func (b *Book) allocOrder() int32 {
	if oi := b.freeOrder; oi != 0 {
		b.freeOrder = b.orders[oi].next
		return oi
	}
	b.orders = append(b.orders, order{})
	return int32(len(b.orders) - 1)
}

func (b *Book) allocLevel() int32 {
	if li := b.freeLevel; li != 0 {
		b.freeLevel = b.levels[li].count
		return li
	}
	b.levels = append(b.levels, level{})
	return int32(len(b.levels) - 1)
}

func (b *Book) freeLevelSlot(li int32) {
	b.levels[li] = level{count: b.freeLevel}
	b.freeLevel = li
}
