package orderbook

import (
	"math"
	"slices"
	"sort"
)

// model is the naive reference book the differential tests trust: two
// slices of resting orders kept sorted by priority (price, then arrival
// sequence), matched by scanning from the front. It shares no code with
// Book except the public types and sentinel errors.
type model struct {
	cfg  Config
	bids []*mOrder // best (highest price, oldest) first
	asks []*mOrder // best (lowest price, oldest) first
	seq  uint64
}

type mOrder struct {
	o   Order // as resting: Kind Limit, TIF GTC, Qty as last asked
	rem int64
	seq uint64
}

func newModel(cfg Config) *model { return &model{cfg: cfg} }

func (m *model) side(s Side) *[]*mOrder {
	if s == Buy {
		return &m.bids
	}
	return &m.asks
}

func (m *model) find(id uint64) (Side, int) {
	for i, o := range m.bids {
		if o.o.ID == id {
			return Buy, i
		}
	}
	for i, o := range m.asks {
		if o.o.ID == id {
			return Sell, i
		}
	}
	return 0, -1
}

func (m *model) priceOK(p int64) bool {
	return p > 0 && p >= m.cfg.MinPrice && (m.cfg.MaxPrice == 0 || p <= m.cfg.MaxPrice)
}

func (m *model) levelQty(s Side, price int64) int64 {
	var q int64
	for _, o := range *m.side(s) {
		if o.o.Price == price {
			q += o.rem
		}
	}
	return q
}

func (m *model) insert(o *mOrder) {
	m.seq++
	o.seq = m.seq
	list := m.side(o.o.Side)
	buy := o.o.Side == Buy
	// After every order of a better or equal price: the newest is last.
	i := sort.Search(len(*list), func(i int) bool {
		if buy {
			return (*list)[i].o.Price < o.o.Price
		}
		return (*list)[i].o.Price > o.o.Price
	})
	*list = slices.Insert(*list, i, o)
}

// top returns the best level of side s.
func (m *model) top(s Side) (Level, bool) {
	var l Level
	for _, o := range *m.side(s) {
		if l.Orders > 0 && o.o.Price != l.Price {
			break
		}
		l.Price = o.o.Price
		l.Qty += o.rem
		l.Orders++
	}
	return l, l.Orders > 0
}

func (m *model) removeAt(s Side, i int) {
	list := m.side(s)
	*list = append((*list)[:i], (*list)[i+1:]...)
}

func crossesModel(side Side, limit, price int64) bool {
	if side == Buy {
		return price <= limit
	}
	return price >= limit
}

// take matches an incoming order; it returns filled, remaining, whether STP
// stopped it, and the trades appended to dst.
func (m *model) take(id, owner uint64, side Side, market bool, price, qty int64, fok bool, dst []Trade) ([]Trade, int64, int64, bool, bool) {
	opp := m.side(side.Opposite())
	stp := m.cfg.STP != STPNone && owner != 0
	if fok {
		need := qty
		ok := false
		for _, r := range *opp {
			if !market && !crossesModel(side, price, r.o.Price) {
				break
			}
			if stp && r.o.Owner == owner {
				if m.cfg.STP == CancelResting {
					continue
				}
				break
			}
			need -= r.rem
			if need <= 0 {
				ok = true
				break
			}
		}
		if !ok {
			return dst, 0, qty, false, false
		}
	}
	rem, filled, stopped := qty, int64(0), false
	for rem > 0 && len(*opp) > 0 {
		r := (*opp)[0]
		if !market && !crossesModel(side, price, r.o.Price) {
			break
		}
		if stp && r.o.Owner == owner {
			if m.cfg.STP != CancelIncoming {
				*opp = (*opp)[1:]
			}
			if m.cfg.STP != CancelResting {
				stopped = true
				break
			}
			continue
		}
		q := min(rem, r.rem)
		dst = append(dst, Trade{TakerID: id, MakerID: r.o.ID, TakerOwner: owner, MakerOwner: r.o.Owner,
			TakerSide: side, Price: r.o.Price, Qty: q})
		rem -= q
		filled += q
		r.rem -= q
		if r.rem == 0 {
			*opp = (*opp)[1:]
		}
	}
	return dst, filled, rem, stopped, true
}

func (m *model) Submit(o Order, dst []Trade) (Result, error) {
	res := Result{Trades: dst}
	switch {
	case o.ID == 0, o.Side != Buy && o.Side != Sell, o.Kind != Limit && o.Kind != Market,
		o.TIF != GTC && o.TIF != IOC && o.TIF != FOK, o.Qty <= 0,
		o.Kind == Limit && !m.priceOK(o.Price),
		o.PostOnly && (o.Kind != Limit || o.TIF != GTC):
		return res, ErrInvalidOrder
	}
	if _, i := m.find(o.ID); i >= 0 {
		return res, ErrDuplicateID
	}
	if o.Kind == Limit && o.TIF == GTC && m.levelQty(o.Side, o.Price) > math.MaxInt64-o.Qty {
		return res, ErrInvalidOrder
	}
	if o.PostOnly {
		if opp := *m.side(o.Side.Opposite()); len(opp) > 0 && crossesModel(o.Side, o.Price, opp[0].o.Price) {
			return res, ErrWouldCross
		}
	}
	var rem int64
	var stopped bool
	res.Trades, res.Filled, rem, stopped, _ = m.take(o.ID, o.Owner, o.Side, o.Kind == Market, o.Price, o.Qty, o.TIF == FOK, dst)
	if rem > 0 {
		if o.Kind == Limit && o.TIF == GTC && !stopped {
			ro := o
			m.insert(&mOrder{o: ro, rem: rem})
			res.Resting = rem
		} else {
			res.Canceled = rem
		}
	}
	return res, nil
}

func (m *model) Cancel(id uint64) (int64, error) {
	s, i := m.find(id)
	if i < 0 {
		return 0, ErrUnknownOrder
	}
	rem := (*m.side(s))[i].rem
	m.removeAt(s, i)
	return rem, nil
}

func (m *model) Amend(id uint64, price, qty int64, dst []Trade) (Result, error) {
	res := Result{Trades: dst}
	s, i := m.find(id)
	if i < 0 {
		return res, ErrUnknownOrder
	}
	if !m.priceOK(price) || qty < 0 {
		return res, ErrInvalidOrder
	}
	r := (*m.side(s))[i]
	switch {
	case qty == 0:
		res.Canceled = r.rem
		m.removeAt(s, i)
		return res, nil
	case price == r.o.Price && qty == r.rem:
		res.Resting = qty
		return res, nil
	case price == r.o.Price && qty < r.rem:
		r.rem, r.o.Qty = qty, qty
		res.Resting = qty
		return res, nil
	}
	lq := m.levelQty(s, price)
	if price == r.o.Price {
		lq -= r.rem
	}
	if lq > math.MaxInt64-qty {
		return res, ErrInvalidOrder
	}
	if r.o.PostOnly {
		if opp := *m.side(s.Opposite()); len(opp) > 0 && crossesModel(s, price, opp[0].o.Price) {
			return res, ErrWouldCross
		}
	}
	m.removeAt(s, i)
	var rem int64
	var stopped bool
	res.Trades, res.Filled, rem, stopped, _ = m.take(id, r.o.Owner, s, false, price, qty, false, dst)
	if rem > 0 && !stopped {
		r.o.Price, r.o.Qty, r.rem = price, qty, rem
		m.insert(r)
		res.Resting = rem
	} else {
		res.Canceled = rem
	}
	return res, nil
}

func (m *model) Len() int { return len(m.bids) + len(m.asks) }

func (m *model) Depth(s Side) []Level {
	var out []Level
	for _, o := range *m.side(s) {
		if n := len(out); n > 0 && out[n-1].Price == o.o.Price {
			out[n-1].Qty += o.rem
			out[n-1].Orders++
			continue
		}
		out = append(out, Level{Price: o.o.Price, Qty: o.rem, Orders: 1})
	}
	return out
}

type l3 struct {
	o   Order
	rem int64
}

func (m *model) L3(s Side) []l3 {
	var out []l3
	for _, o := range *m.side(s) {
		out = append(out, l3{o.o, o.rem})
	}
	return out
}
