package exchange

import (
	"slices"
	"sync"

	"github.com/sysblocks/sysblocks/orderbook"
)

// Resolutions are the candlestick intervals the publisher builds, in seconds.
var Resolutions = [...]int64{60, 300, 3600}

const (
	maxCandles = 2000 // per symbol and resolution; older ones are dropped
	lastTrades = 64   // recent trades kept per symbol
)

// Candle is one candlestick: prices in ticks, Start in unix seconds.
type Candle struct {
	Start  int64 `json:"start"`
	Open   int64 `json:"open"`
	High   int64 `json:"high"`
	Low    int64 `json:"low"`
	Close  int64 `json:"close"`
	Volume int64 `json:"volume"`
	Trades int64 `json:"trades"`
}

// Tick is one trade as market data shows it.
type Tick struct {
	ID    uint64 `json:"id"`
	Time  int64  `json:"time"` // unix ms
	Price int64  `json:"price"`
	Qty   int64  `json:"qty"`
	Side  string `json:"side"` // the aggressor's side
}

// Quote is the L1 view of one symbol.
type Quote struct {
	BidPrice int64 `json:"bidPrice"`
	BidQty   int64 `json:"bidQty"`
	AskPrice int64 `json:"askPrice"`
	AskQty   int64 `json:"askQty"`
	Last     int64 `json:"last"`
	Volume   int64 `json:"volume"`
	Trades   int64 `json:"trades"`
}

type mdSymbol struct {
	bids, asks map[int64]int64
	candles    [len(Resolutions)][]Candle
	ticks      []Tick // ring of lastTrades
	nticks     int
	quote      Quote
	version    uint64
}

// MarketData is the market-data publisher: it folds the outbound stream into
// L1 and L2 books, recent trades and 1m/5m/1h candlesticks per symbol.
// It is fed by one goroutine (the outbound ring's consumer) and safe for
// concurrent readers.
type MarketData struct {
	mu      sync.RWMutex
	symbols []Symbol
	index   map[string]int
	s       []mdSymbol
	version uint64
	changed chan struct{} // closed and replaced on every update
}

// NewMarketData returns an empty publisher for symbols.
func NewMarketData(symbols []Symbol) *MarketData {
	m := &MarketData{symbols: symbols, index: make(map[string]int), s: make([]mdSymbol, len(symbols)),
		changed: make(chan struct{})}
	for i, s := range symbols {
		m.index[s.Name] = i
		m.s[i].bids = make(map[int64]int64)
		m.s[i].asks = make(map[int64]int64)
		m.s[i].ticks = make([]Tick, lastTrades)
	}
	return m
}

// Symbol returns the index of a ticker.
func (m *MarketData) Symbol(name string) (int, bool) { i, ok := m.index[name]; return i, ok }

// Symbols returns the listed symbols.
func (m *MarketData) Symbols() []Symbol { return m.symbols }

func (m *MarketData) apply(batch []OutEvent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range batch {
		e := &batch[i]
		s := &m.s[e.Sym]
		s.version++
		switch e.Kind {
		case OutLevel:
			side := s.bids
			if e.Side == orderbook.Sell {
				side = s.asks
			}
			if e.Qty == 0 {
				delete(side, e.Price)
			} else {
				side[e.Price] = e.Qty
			}
		case OutTrade:
			s.quote.Last = e.Price
			s.quote.Volume += e.Qty
			s.quote.Trades++
			s.ticks[s.nticks%lastTrades] = Tick{ID: e.TradeID, Time: e.Time / 1e6, Price: e.Price, Qty: e.Qty, Side: sideName(e.Side)}
			s.nticks++
			for r, res := range Resolutions {
				start := e.Time / 1e9
				start -= start % res
				cs := s.candles[r]
				if n := len(cs); n > 0 && cs[n-1].Start == start {
					c := &cs[n-1]
					c.High, c.Low, c.Close = max(c.High, e.Price), min(c.Low, e.Price), e.Price
					c.Volume += e.Qty
					c.Trades++
					continue
				}
				if len(cs) == maxCandles {
					cs = append(cs[:0], cs[1:]...)
				}
				s.candles[r] = append(cs, Candle{Start: start, Open: e.Price, High: e.Price, Low: e.Price, Close: e.Price,
					Volume: e.Qty, Trades: 1})
			}
		}
	}
	m.version++
	close(m.changed)
	m.changed = make(chan struct{})
}

func sideName(s orderbook.Side) string {
	if s == orderbook.Buy {
		return "buy"
	}
	return "sell"
}

// Changed returns the current version of all market data and a channel that
// is closed at the next change (for streaming).
func (m *MarketData) Changed() (uint64, <-chan struct{}) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.version, m.changed
}

// Depth returns up to depth L2 levels of each side of symbol i, best first
// (depth <= 0: all). Cost: O(levels log levels).
func (m *MarketData) Depth(i, depth int) (bids, asks []orderbook.Level) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := &m.s[i]
	return levels(s.bids, depth, true), levels(s.asks, depth, false)
}

func levels(side map[int64]int64, depth int, desc bool) []orderbook.Level {
	out := make([]orderbook.Level, 0, len(side))
	for p, q := range side {
		out = append(out, orderbook.Level{Price: p, Qty: q})
	}
	slices.SortFunc(out, func(a, b orderbook.Level) int {
		if desc {
			a, b = b, a
		}
		return int(a.Price - b.Price)
	})
	if depth > 0 && len(out) > depth {
		out = out[:depth]
	}
	return out
}

// Quote returns the L1 view of symbol i.
func (m *MarketData) Quote(i int) Quote {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := &m.s[i]
	q := s.quote
	for p, n := range s.bids {
		if p > q.BidPrice {
			q.BidPrice, q.BidQty = p, n
		}
	}
	for p, n := range s.asks {
		if q.AskPrice == 0 || p < q.AskPrice {
			q.AskPrice, q.AskQty = p, n
		}
	}
	return q
}

// Candles returns symbol i's candles of resolution index r (see
// Resolutions) whose start lies in [from, to] (unix seconds), oldest first.
func (m *MarketData) Candles(i, r int, from, to int64) []Candle {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := []Candle{}
	for _, c := range m.s[i].candles[r] {
		if c.Start >= from && c.Start <= to {
			out = append(out, c)
		}
	}
	return out
}

// Trades returns up to n of symbol i's most recent trades, newest first.
func (m *MarketData) Trades(i, n int) []Tick {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := &m.s[i]
	n = min(n, s.nticks, lastTrades)
	out := make([]Tick, 0, n)
	for k := 1; k <= n; k++ {
		out = append(out, s.ticks[(s.nticks-k)%lastTrades])
	}
	return out
}

// Version returns a counter that grows with every update of symbol i.
func (m *MarketData) Version(i int) uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.s[i].version
}
