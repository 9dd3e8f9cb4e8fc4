package exchange

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/sysblocks/sysblocks/ledger"
	"github.com/sysblocks/sysblocks/orderbook"
)

// maxExecutions bounds the executions kept per account for queries.
const maxExecutions = 1000

// Execution is one fill as its owner sees it (GET /v1/execution).
type Execution struct {
	ID        uint64 `json:"id"` // trade id
	OrderID   uint64 `json:"orderId"`
	Symbol    string `json:"symbol"`
	Side      string `json:"side"`
	Price     int64  `json:"price"`
	Qty       int64  `json:"quantity"`
	Time      int64  `json:"time"`      // unix ms
	Liquidity string `json:"liquidity"` // "maker" or "taker"
	Filled    int64  `json:"filledQuantity"`
	Remaining int64  `json:"remainingQuantity"`
}

// Reporter merges order and execution attributes into the trade report
// (one CSV row per trade, for settlement) and keeps each account's recent
// executions for queries. It is fed by one goroutine (the outbound ring's
// consumer) and safe for concurrent readers.
type Reporter struct {
	symbols []Symbol
	path    string
	f       *os.File
	w       *bufio.Writer
	row     []byte
	sf      *os.File // settlement instructions
	sw      *bufio.Writer

	mu       sync.Mutex
	execs    map[uint64][]Execution // per account, a ring of maxExecutions
	counts   map[uint64]int
	rows     int64 // trades reported
	qty      int64 // shares reported
	notional int64 // cents reported
}

const reportHeader = "trade_id,time_ns,symbol,price,quantity,notional,aggressor," +
	"buy_order,buy_account,buy_type,buy_limit,buy_quantity,buy_filled,buy_remaining," +
	"sell_order,sell_account,sell_type,sell_limit,sell_quantity,sell_filled,sell_remaining\n"

// NewReporter creates (or truncates: both files are derived from the
// journal, which a restart replays) the trade report trades.csv and the
// settlement file settlement.csv in dir. The settlement file lists, per trade,
// the two transfers that settle it (id, amount, ledger, status), in the format
// ledger.Reconcile reads.
func NewReporter(dir string, symbols []Symbol) (*Reporter, error) {
	path := filepath.Join(dir, "trades.csv")
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("exchange: report: %w", err)
	}
	sf, err := os.Create(filepath.Join(dir, "settlement.csv"))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("exchange: report: %w", err)
	}
	r := &Reporter{symbols: symbols, path: path, f: f, w: bufio.NewWriterSize(f, 1<<16), sf: sf,
		sw: bufio.NewWriterSize(sf, 1<<16), execs: make(map[uint64][]Execution), counts: make(map[uint64]int)}
	_, _ = r.w.WriteString(reportHeader)
	_, _ = r.sw.WriteString("id,amount,ledger,status\n")
	return r, nil
}

// SettlementPath returns the settlement file's path.
func (r *Reporter) SettlementPath() string { return r.sf.Name() }

func (r *Reporter) settle(id uint64, amount int64, asset int) {
	b := strconv.AppendUint(r.row[:0], id, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, amount, 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(ledgerOf(asset)), 10)
	b = append(b, ",posted\n"...)
	_, _ = r.sw.Write(b)
	r.row = b
}

// Path returns the report file's path.
func (r *Reporter) Path() string { return r.path }

func (r *Reporter) apply(batch []OutEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range batch {
		e := &batch[i]
		if e.Kind != OutTrade {
			continue
		}
		buy, sell := e.Taker, e.Maker
		if e.Side == orderbook.Sell {
			buy, sell = sell, buy
		}
		b := r.row[:0]
		b = strconv.AppendUint(b, e.TradeID, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, e.Time, 10)
		b = append(b, ',')
		b = append(b, r.symbols[e.Sym].Name...)
		b = append(b, ',')
		b = ledger.AppendAmount(b, uint64(e.Price), 2)
		b = append(b, ',')
		b = strconv.AppendInt(b, e.Qty, 10)
		b = append(b, ',')
		b = ledger.AppendAmount(b, uint64(e.Price*e.Qty), 2)
		b = append(b, ',')
		b = append(b, sideName(e.Side)...)
		for _, o := range [2]OrderInfo{buy, sell} {
			b = append(b, ',')
			b = strconv.AppendUint(b, o.ID, 10)
			b = append(b, ',')
			b = strconv.AppendUint(b, o.Account, 10)
			if o.Kind == orderbook.Market {
				b = append(b, ",market,"...)
			} else {
				b = append(b, ",limit,"...)
				b = ledger.AppendAmount(b, uint64(o.Price), 2)
			}
			b = append(b, ',')
			b = strconv.AppendInt(b, o.Qty, 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, o.Filled, 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, o.Qty-o.Filled, 10)
		}
		b = append(b, '\n')
		_, _ = r.w.Write(b)
		r.row = b
		r.settle(e.BuyPayout, e.Qty, 1+int(e.Sym))
		r.settle(e.SellPayout, e.Price*e.Qty, 0)
		r.rows++
		r.qty += e.Qty
		r.notional += e.Price * e.Qty
		r.add(e, e.Taker, e.Side, "taker")
		r.add(e, e.Maker, e.Side.Opposite(), "maker")
	}
}

func (r *Reporter) add(e *OutEvent, o OrderInfo, side orderbook.Side, liq string) {
	x := Execution{ID: e.TradeID, OrderID: o.ID, Symbol: r.symbols[e.Sym].Name, Side: sideName(side), Price: e.Price,
		Qty: e.Qty, Time: e.Time / 1e6, Liquidity: liq, Filled: o.Filled, Remaining: o.Qty - o.Filled}
	l := r.execs[o.Account]
	n := r.counts[o.Account]
	if len(l) < maxExecutions {
		l = append(l, x)
	} else {
		l[n%maxExecutions] = x
	}
	r.execs[o.Account], r.counts[o.Account] = l, n+1
}

// Executions returns account's most recent executions (at most 1000 are
// kept), oldest first, filtered by symbol ("" = any), order id (0 = any) and
// time range [from, to] in unix ms.
func (r *Reporter) Executions(account uint64, symbol string, orderID uint64, from, to int64) []Execution {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, n := r.execs[account], r.counts[account]
	out := []Execution{}
	for k := range len(l) {
		x := l[(n-len(l)+k)%maxExecutions]
		if (symbol == "" || x.Symbol == symbol) && (orderID == 0 || x.OrderID == orderID) && x.Time >= from && x.Time <= to {
			out = append(out, x)
		}
	}
	return out
}

// Totals returns the rows, shares and cents reported so far.
func (r *Reporter) Totals() (rows, qty, notional int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rows, r.qty, r.notional
}

// Close flushes and closes the report.
func (r *Reporter) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := errors.Join(r.w.Flush(), r.f.Close(), r.sw.Flush(), r.sf.Close())
	r.f = nil
	return err
}
