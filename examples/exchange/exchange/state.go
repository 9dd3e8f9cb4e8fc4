package exchange

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/sysblocks/sysblocks/ledger"
	"github.com/sysblocks/sysblocks/orderbook"
)

// ErrInvariant reports a state that breaks one of the exchange's invariants:
// a bug, never bad input. The state machine stops at the first one.
var ErrInvariant = errors.New("exchange: invariant violated")

// Reject says why the order manager refused a command (Accepted when it did not).
type Reject uint8

// Outcomes of a command.
const (
	Accepted           Reject = iota
	RejectAccount             // unknown account
	RejectSymbol              // unknown symbol
	RejectInvalid             // malformed order: side, type, price or quantity
	RejectOrderSize           // risk check: larger than Config.MaxOrderQty
	RejectDailyLimit          // risk check: over Config.DailyLimit for the day
	RejectFunds               // fund check: not enough cash or shares to withhold
	RejectNoLiquidity         // a market order with nothing to trade against
	RejectUnknownOrder        // cancel of an order that is not open (or not the caller's)
)

var rejectNames = [...]string{"accepted", "unknown account", "unknown symbol", "invalid order",
	"order too large", "daily volume limit", "insufficient funds", "no liquidity", "unknown order"}

func (r Reject) String() string {
	if int(r) < len(rejectNames) {
		return rejectNames[r]
	}
	return fmt.Sprintf("reject(%d)", uint8(r))
}

// Ack is the order manager's answer to one sequenced command.
type Ack struct {
	Seq      uint64 // the command's sequence; a placed order's id
	Time     int64  // the sequencer's timestamp (unix ns)
	Op       Op
	OrderID  uint64
	Reject   Reject
	Filled   int64 // shares traded by this command
	Resting  int64 // shares left on the book
	Canceled int64 // shares canceled (IOC/market remainder, or a cancel)
	Notional int64 // cents traded by this command
}

// order is an open order as the order manager tracks it: what it asked for,
// what filled, and the pending ledger transfer withholding the rest.
type order struct {
	id, acct   uint64
	sym        uint16
	side       orderbook.Side
	kind       orderbook.Kind
	price, qty int64
	filled     int64
	resID      uint64 // pending transfer withholding funds for the open quantity
	resAmt     uint64
	created    int64
}

type dayVol struct{ day, qty int64 }

// Ledger transfer codes.
const (
	codeGenesis = 1 // issuer -> account at genesis
	codeReserve = 2 // pending: account -> escrow for an open order
	codePayout  = 3 // escrow -> account for a fill
)

// Account codes.
const (
	codeTrader = 1
	codeEscrow = 2
	codeIssuer = 3
)

const (
	escrowOwner = 1 << 48
	issuerOwner = 1<<48 + 1
	genesisTime = 1 // unix ns: the ledger's clock before the first event
)

// accountID is the ledger id of owner's account in asset (0 = cash, 1+i = shares of symbol i).
func accountID(owner uint64, asset int) uint64 { return owner<<8 | uint64(asset) }

func ledgerOf(asset int) uint32 { return uint32(asset + 1) }

// State is the deterministic state machine of the exchange: the order
// manager (risk checks, fund checks through a ledger, order states) and the
// matching engine. Apply is its only input and the sequencer's timestamp its
// only clock, so replaying a journal into a fresh State (same Config) gives the
// same Hash.
//
// A State is single-writer: Apply, Check and Hash must be called from one
// goroutine (the sequencer's Run loop). Its ledger is safe for concurrent reads.
type State struct {
	cfg     Config
	eng     *orderbook.Engine
	books   []*orderbook.Book
	led     *ledger.Ledger
	now     int64
	nextID  uint64 // next ledger transfer id
	tradeID uint64
	orders  map[uint64]*order
	vol     []dayVol
	emit    func(*OutEvent)

	trades  []orderbook.Trade
	xfers   []ledger.Transfer
	results []ledger.Result
	depth   []orderbook.Level
	ev      OutEvent
	payouts []uint64 // ids of the payout transfers, two per trade, in trade order

	// Counters, part of the state.
	Orders, Trades, Rejects, Cancels uint64
	Volume                           int64
}

// levelSink forwards one book's L2 changes to the outbound stream.
type levelSink struct {
	s   *State
	sym uint16
}

func (l levelSink) OnTrade(orderbook.Trade) {}

func (l levelSink) OnLevel(side orderbook.Side, price, qty int64) {
	if l.s.emit == nil {
		return
	}
	l.s.ev = OutEvent{Kind: OutLevel, Sym: l.sym, Side: side, Time: l.s.now, Price: price, Qty: qty}
	l.s.emit(&l.s.ev)
}

var _ orderbook.Listener = levelSink{}

// NewState returns the genesis state: books for every symbol and a ledger
// with, per asset, an issuer, the exchange's escrow and every account funded
// from the issuer. emit, if not nil, receives the outbound stream (trades and
// L2 changes) synchronously from Apply; the event is only valid during the call.
// Cost: O(Accounts × symbols).
func NewState(cfg Config, emit func(*OutEvent)) (*State, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &State{cfg: cfg, eng: orderbook.NewEngine(), orders: make(map[uint64]*order), emit: emit,
		vol: make([]dayVol, cfg.Accounts*len(cfg.Symbols)), now: genesisTime, nextID: 1}
	s.led = ledger.New(ledger.Options{Clock: func() time.Time { return time.Unix(0, s.now) }})
	for i, sym := range cfg.Symbols {
		b, err := s.eng.Add(sym.Name, orderbook.Config{MinPrice: 1, MaxPrice: maxPrice, Listener: levelSink{s, uint16(i)}})
		if err != nil {
			return nil, fmt.Errorf("exchange: add %s: %w", sym.Name, err)
		}
		s.books = append(s.books, b)
	}
	if err := s.genesis(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *State) genesis() error {
	assets := 1 + len(s.cfg.Symbols)
	var accts []ledger.Account
	flushAccts := func() error {
		res, err := s.led.CreateAccounts(accts)
		if err != nil {
			return err
		}
		for _, r := range res {
			if r.Code != ledger.Ok {
				return fmt.Errorf("%w: genesis account %d: %v", ErrInvariant, accts[r.Index].ID, r.Code)
			}
		}
		accts = accts[:0]
		return nil
	}
	for a := 0; a < assets; a++ {
		accts = append(accts,
			ledger.Account{ID: accountID(issuerOwner, a), Ledger: ledgerOf(a), Code: codeIssuer},
			ledger.Account{ID: accountID(escrowOwner, a), Ledger: ledgerOf(a), Code: codeEscrow, Flags: ledger.DebitsMustNotExceedCredits})
		for t := 1; t <= s.cfg.Accounts; t++ {
			accts = append(accts, ledger.Account{ID: accountID(uint64(t), a), Ledger: ledgerOf(a), Code: codeTrader,
				Flags: ledger.DebitsMustNotExceedCredits})
			if len(accts) >= ledger.MaxBatch-2 {
				if err := flushAccts(); err != nil {
					return err
				}
			}
		}
	}
	if err := flushAccts(); err != nil {
		return err
	}
	for a := 0; a < assets; a++ {
		amt := uint64(s.cfg.InitialShares)
		if a == 0 {
			amt = uint64(s.cfg.InitialCash)
		}
		if amt == 0 {
			continue
		}
		for t := 1; t <= s.cfg.Accounts; t++ {
			s.xfers = append(s.xfers, ledger.Transfer{ID: s.newID(), DebitAccountID: accountID(issuerOwner, a),
				CreditAccountID: accountID(uint64(t), a), Amount: amt, Ledger: ledgerOf(a), Code: codeGenesis})
			if err := s.flushIfFull(); err != nil {
				return err
			}
		}
	}
	return s.flush()
}

func (s *State) newID() uint64 { s.nextID++; return s.nextID - 1 }

// flush applies the queued transfers; every one must succeed.
func (s *State) flush() error {
	if len(s.xfers) == 0 {
		return nil
	}
	var err error
	s.results, err = s.led.CreateTransfersInto(s.results[:0], s.xfers)
	if err != nil {
		return fmt.Errorf("exchange: ledger: %w", err)
	}
	for _, r := range s.results {
		if r.Code != ledger.Ok {
			return fmt.Errorf("%w: transfer %+v: %v", ErrInvariant, s.xfers[r.Index], r.Code)
		}
	}
	s.xfers = s.xfers[:0]
	return nil
}

// flushIfFull applies the queued transfers when another linked pair might not
// fit in one ledger batch. Call it only between chains.
func (s *State) flushIfFull() error {
	if len(s.xfers) >= ledger.MaxBatch-4 {
		return s.flush()
	}
	return nil
}

// Config returns the state's configuration, defaults filled in.
func (s *State) Config() Config { return s.cfg }

// Ledger returns the state's ledger (safe for concurrent reads).
func (s *State) Ledger() *ledger.Ledger { return s.led }

// Book returns the order book of symbol index i (single-writer: read it only
// from the goroutine that calls Apply).
func (s *State) Book(i int) *orderbook.Book { return s.books[i] }

// OpenOrders returns the number of open orders.
func (s *State) OpenOrders() int { return len(s.orders) }

// Apply executes one sequenced command. Bad commands are answered with a
// Reject; an error means the state broke an invariant (ErrInvariant) and must
// not be used further. Cost: O(1) plus O(1) per trade, O(levels) for a market buy.
func (s *State) Apply(seq uint64, t int64, payload []byte) (Ack, error) {
	if t > s.now {
		s.now = t
	}
	ack := Ack{Seq: seq, Time: t}
	c, err := DecodeCommand(payload)
	if err != nil {
		ack.Reject = RejectInvalid
		s.Rejects++
		return ack, nil
	}
	ack.Op = c.Op
	switch c.Op {
	case OpPlace:
		s.Orders++
		err = s.place(&ack, seq, c)
	case OpCancel:
		err = s.cancel(&ack, c)
	}
	if ack.Reject != Accepted {
		s.Rejects++
	}
	return ack, err
}

func validOrder(c Command) bool {
	if c.Side != orderbook.Buy && c.Side != orderbook.Sell || c.TIF > orderbook.FOK || c.Qty < 1 {
		return false
	}
	switch c.Kind {
	case orderbook.Limit:
		return c.Price >= 1 && c.Price <= maxPrice
	case orderbook.Market:
		return c.Price == 0
	}
	return false
}

func (s *State) place(ack *Ack, seq uint64, c Command) error {
	ack.OrderID = seq
	switch {
	case c.Account == 0 || c.Account > uint64(s.cfg.Accounts):
		ack.Reject = RejectAccount
		return nil
	case int(c.Symbol) >= len(s.books):
		ack.Reject = RejectSymbol
		return nil
	case !validOrder(c):
		ack.Reject = RejectInvalid
		return nil
	case c.Qty > s.cfg.MaxOrderQty:
		ack.Reject = RejectOrderSize
		return nil
	}
	dv := &s.vol[int(c.Account-1)*len(s.books)+int(c.Symbol)]
	if day := s.now / dayNanos; dv.day != day {
		dv.day, dv.qty = day, 0
	}
	if dv.qty+c.Qty > s.cfg.DailyLimit {
		ack.Reject = RejectDailyLimit
		return nil
	}
	book := s.books[c.Symbol]
	asset, amount := 1+int(c.Symbol), uint64(c.Qty)
	if c.Side == orderbook.Buy {
		asset = 0
		if c.Kind == orderbook.Market {
			amount = uint64(s.marketCost(book, c.Qty))
		} else {
			amount = uint64(c.Price * c.Qty)
		}
	}
	if c.Kind == orderbook.Market && (amount == 0 || c.Side == orderbook.Sell && !hasBid(book)) {
		ack.Reject = RejectNoLiquidity
		return nil
	}
	o := &order{id: seq, acct: c.Account, sym: c.Symbol, side: c.Side, kind: c.Kind, price: c.Price, qty: c.Qty,
		resID: s.newID(), resAmt: amount, created: s.now}
	s.xfers = append(s.xfers[:0], ledger.Transfer{ID: o.resID, DebitAccountID: accountID(c.Account, asset),
		CreditAccountID: accountID(escrowOwner, asset), Amount: amount, Ledger: ledgerOf(asset), Code: codeReserve,
		Flags: ledger.Pending})
	var err error
	s.results, err = s.led.CreateTransfersInto(s.results[:0], s.xfers)
	s.xfers = s.xfers[:0]
	if err != nil {
		return fmt.Errorf("exchange: ledger: %w", err)
	}
	switch code := s.results[0].Code; code {
	case ledger.Ok:
	case ledger.ExceedsCredits:
		ack.Reject = RejectFunds
		return nil
	default:
		return fmt.Errorf("%w: reserve for order %d: %v", ErrInvariant, seq, code)
	}
	dv.qty += c.Qty
	res, err := book.Submit(orderbook.Order{ID: seq, Owner: c.Account, Side: c.Side, Kind: c.Kind, TIF: c.TIF,
		Price: c.Price, Qty: c.Qty}, s.trades[:0])
	if err != nil {
		return fmt.Errorf("%w: order %d passed validation but the book refused it: %v", ErrInvariant, seq, err)
	}
	s.trades = res.Trades[:0]
	ack.Filled, ack.Resting, ack.Canceled = res.Filled, res.Resting, res.Canceled
	return s.settle(ack, o, res)
}

func hasBid(b *orderbook.Book) bool { _, _, ok := b.BestBid(); return ok }

// marketCost is the cash a market buy of qty would spend against the asks now
// (the engine matches exactly this, best price first, with no self-trade
// prevention), so it can be withheld before the order is matched.
func (s *State) marketCost(b *orderbook.Book, qty int64) int64 {
	for n := 16; ; n *= 8 {
		s.depth = b.Depth(orderbook.Sell, n, s.depth[:0])
		need, cost := qty, int64(0)
		for _, l := range s.depth {
			take := min(need, l.Qty)
			cost += take * l.Price
			if need -= take; need == 0 {
				return cost
			}
		}
		if len(s.depth) < n {
			return cost
		}
	}
}

// settle moves money and shares for the trades of taker o: the taker's
// reservation is posted to escrow (its remainder re-reserved if it rests),
// then per trade the maker's likewise, and escrow pays each side of the trade
// what it bought (two payouts per trade, which the settlement file lists).
// Every payout follows the posts that fund it, so escrow never pays out more
// than it holds.
func (s *State) settle(ack *Ack, o *order, res orderbook.Result) error {
	var cost int64
	for _, tr := range res.Trades {
		cost += tr.Price * tr.Qty
	}
	ack.Notional = cost
	o.filled = res.Filled
	cashAsset, shareAsset := 0, 1+int(o.sym)
	if res.Filled > 0 {
		posted, remain := uint64(res.Filled), uint64(res.Resting)
		if o.side == orderbook.Buy {
			posted, remain = uint64(cost), uint64(res.Resting*o.price)
		}
		s.postAndReserve(o, posted, remain)
	} else if res.Resting == 0 {
		s.xfers = append(s.xfers, ledger.Transfer{ID: s.newID(), PendingID: o.resID, Flags: ledger.VoidPending})
	}
	var takerFilled int64
	for _, tr := range res.Trades {
		if err := s.flushIfFull(); err != nil {
			return err
		}
		m := s.orders[tr.MakerID]
		if m == nil || m.side == o.side {
			return fmt.Errorf("%w: trade with unknown maker %d", ErrInvariant, tr.MakerID)
		}
		c := tr.Price * tr.Qty
		m.filled += tr.Qty
		open := m.qty - m.filled
		var buyPay, sellPay uint64
		if m.side == orderbook.Buy {
			s.postAndReserve(m, uint64(c), uint64(open*m.price))
			buyPay = s.payout(m.acct, shareAsset, uint64(tr.Qty))
			sellPay = s.payout(o.acct, cashAsset, uint64(c))
		} else {
			s.postAndReserve(m, uint64(tr.Qty), uint64(open))
			sellPay = s.payout(m.acct, cashAsset, uint64(c))
			buyPay = s.payout(o.acct, shareAsset, uint64(tr.Qty))
		}
		s.payouts = append(s.payouts, buyPay, sellPay)
		if open == 0 {
			delete(s.orders, m.id)
		}
		takerFilled += tr.Qty
		s.Trades++
		s.Volume += tr.Qty
		s.tradeID++
		if s.emit != nil {
			s.ev = OutEvent{Kind: OutTrade, Sym: o.sym, Side: o.side, Seq: o.id, Time: s.now, Price: tr.Price,
				Qty: tr.Qty, TradeID: s.tradeID, BuyPayout: buyPay, SellPayout: sellPay,
				Taker: OrderInfo{ID: o.id, Account: o.acct, Kind: o.kind, Price: o.price, Qty: o.qty, Filled: takerFilled},
				Maker: OrderInfo{ID: m.id, Account: m.acct, Kind: m.kind, Price: m.price, Qty: m.qty, Filled: m.filled}}
			s.emit(&s.ev)
		}
	}
	if res.Resting > 0 {
		s.orders[o.id] = o
	}
	return s.flush()
}

// postAndReserve posts part of o's reservation to escrow and, if open > 0,
// withholds the remainder again with a new pending transfer in the same linked
// chain (a pending transfer resolves only once).
func (s *State) postAndReserve(o *order, posted, open uint64) {
	post := ledger.Transfer{ID: s.newID(), PendingID: o.resID, Amount: posted, Flags: ledger.PostPending}
	if open == 0 {
		s.xfers = append(s.xfers, post)
		o.resID, o.resAmt = 0, 0
		return
	}
	post.Flags |= ledger.Linked
	asset := 0
	if o.side == orderbook.Sell {
		asset = 1 + int(o.sym)
	}
	o.resID, o.resAmt = s.newID(), open
	s.xfers = append(s.xfers, post, ledger.Transfer{ID: o.resID, DebitAccountID: accountID(o.acct, asset),
		CreditAccountID: accountID(escrowOwner, asset), Amount: open, Ledger: ledgerOf(asset), Code: codeReserve,
		Flags: ledger.Pending})
}

// payout queues a transfer from escrow to acct and returns its id.
func (s *State) payout(acct uint64, asset int, amount uint64) uint64 {
	id := s.newID()
	s.xfers = append(s.xfers, ledger.Transfer{ID: id, DebitAccountID: accountID(escrowOwner, asset),
		CreditAccountID: accountID(acct, asset), Amount: amount, Ledger: ledgerOf(asset), Code: codePayout})
	return id
}

func (s *State) cancel(ack *Ack, c Command) error {
	ack.OrderID = c.OrderID
	o := s.orders[c.OrderID]
	if o == nil || o.acct != c.Account {
		ack.Reject = RejectUnknownOrder
		return nil
	}
	rem, err := s.books[o.sym].Cancel(o.id)
	if err != nil || rem != o.qty-o.filled {
		return fmt.Errorf("%w: cancel %d: book has %d open (err %v), order manager %d", ErrInvariant, o.id, rem, err, o.qty-o.filled)
	}
	s.xfers = append(s.xfers, ledger.Transfer{ID: s.newID(), PendingID: o.resID, Flags: ledger.VoidPending})
	delete(s.orders, o.id)
	s.Cancels++
	ack.Canceled = rem
	return s.flush()
}

// Hashes is a digest of the whole state, for comparing a replica or a replay.
type Hashes struct {
	Books, Ledger, Orders uint64
}

// Hash digests the books (orderbook.Engine.Hash), the ledger (ledger.Hash)
// and the order manager (open orders, daily volumes, counters). O(state).
func (s *State) Hash() Hashes {
	ids := make([]uint64, 0, len(s.orders))
	for id := range s.orders {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	h := xxhash.New()
	var b []byte
	for _, id := range ids {
		o := s.orders[id]
		b = binary.LittleEndian.AppendUint64(b[:0], o.id)
		for _, v := range []uint64{o.acct, uint64(o.sym), uint64(o.side), uint64(o.kind), uint64(o.price),
			uint64(o.qty), uint64(o.filled), o.resID, o.resAmt, uint64(o.created)} {
			b = binary.LittleEndian.AppendUint64(b, v)
		}
		_, _ = h.Write(b)
	}
	for _, v := range s.vol {
		b = binary.LittleEndian.AppendUint64(b[:0], uint64(v.day))
		b = binary.LittleEndian.AppendUint64(b, uint64(v.qty))
		_, _ = h.Write(b)
	}
	b = b[:0]
	for _, v := range []uint64{s.nextID, s.tradeID, uint64(s.now), s.Orders, s.Trades, s.Rejects, s.Cancels, uint64(s.Volume)} {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	_, _ = h.Write(b)
	return Hashes{Books: s.eng.Hash(), Ledger: s.led.Hash(), Orders: h.Sum64()}
}
