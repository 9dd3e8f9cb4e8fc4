package exchange

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sysblocks/sysblocks/orderbook"
	"github.com/sysblocks/sysblocks/ratelimit"
)

//go:embed web
var webFS embed.FS

// ServerOptions configure the HTTP gateway. Rate and Burst default to 50
// requests per second with bursts of 100 per API key (per client IP for
// requests without a key).
type ServerOptions struct {
	Keys    map[string]uint64 // API key -> account
	DemoKey string            // a key the page at / pre-fills in its order form ("" = none)
	Rate    float64
	Burst   int
	// StreamInterval is the minimum time between two Server-Sent Events of
	// one stream (default 100ms).
	StreamInterval time.Duration
}

// Server is the client gateway over HTTP: authentication by API key,
// per-client rate limiting, validation and normalisation of orders, and the
// market-data and execution queries of the design's REST API, plus a
// Server-Sent Events stream and the live page. Safe for concurrent use.
type Server struct {
	x    *Exchange
	opts ServerOptions
	mux  *http.ServeMux
	page *template.Template
}

// NewServer returns the HTTP gateway of x.
func NewServer(x *Exchange, opts ServerOptions) (*Server, error) {
	if opts.Rate == 0 {
		opts.Rate = 50
	}
	if opts.Burst == 0 {
		opts.Burst = 100
	}
	if opts.StreamInterval == 0 {
		opts.StreamInterval = 100 * time.Millisecond
	}
	keys := make(map[string]uint64, len(opts.Keys))
	for k, a := range opts.Keys {
		if k == "" || a == 0 || a > uint64(x.state.cfg.Accounts) {
			return nil, fmt.Errorf("%w: API key for account %d", ErrConfig, a)
		}
		keys[k] = a
	}
	opts.Keys = keys
	lim, err := ratelimit.NewTokenBucket(opts.Rate, opts.Burst, ratelimit.WithMaxKeys(1<<16))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	page, err := template.ParseFS(webFS, "web/index.html")
	if err != nil {
		return nil, err
	}
	s := &Server{x: x, opts: opts, mux: http.NewServeMux(), page: page}
	limit := ratelimit.Middleware(lim, ratelimit.APIKey("X-API-Key", ratelimit.ClientIP()),
		ratelimit.WithPolicyName("gateway"),
		ratelimit.WithDeniedHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, http.StatusTooManyRequests, "rate limit exceeded")
		})))
	auth := func(h func(http.ResponseWriter, *http.Request, uint64)) http.Handler {
		return limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			acct, ok := s.opts.Keys[r.Header.Get("X-API-Key")]
			if !ok {
				writeError(w, http.StatusUnauthorized, "missing or unknown X-API-Key")
				return
			}
			h(w, r, acct)
		}))
	}
	s.mux.Handle("POST /v1/order", auth(s.placeOrder))
	s.mux.Handle("DELETE /v1/order/{id}", auth(s.cancelOrder))
	s.mux.Handle("GET /v1/execution", auth(s.executions))
	s.mux.Handle("GET /v1/account", auth(s.account))
	s.mux.Handle("GET /marketdata/orderBook/L2", limit(http.HandlerFunc(s.orderBook)))
	s.mux.Handle("GET /marketdata/candles", limit(http.HandlerFunc(s.candles)))
	s.mux.Handle("GET /marketdata/symbols", limit(http.HandlerFunc(s.symbols)))
	s.mux.HandleFunc("GET /marketdata/stream", s.stream)
	static, err := fs.Sub(webFS, "web")
	if err != nil {
		return nil, err
	}
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /{$}", s.index)
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

var _ http.Handler = (*Server)(nil)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// OrderRequest is the body of POST /v1/order. Prices are integer cents.
type OrderRequest struct {
	Symbol      string `json:"symbol"`
	Side        string `json:"side"`                  // buy | sell
	OrderType   string `json:"orderType"`             // limit | market
	Price       int64  `json:"price"`                 // cents; omitted for market orders
	Quantity    int64  `json:"quantity"`              // shares
	TimeInForce string `json:"timeInForce,omitempty"` // GTC (default) | IOC | FOK
}

// OrderResponse answers POST /v1/order and DELETE /v1/order/{id}.
type OrderResponse struct {
	OrderID           uint64 `json:"orderId"`
	CreationTime      int64  `json:"creationTime"` // unix ms, the sequencer's stamp
	Symbol            string `json:"symbol,omitempty"`
	Side              string `json:"side,omitempty"`
	OrderType         string `json:"orderType,omitempty"`
	Price             int64  `json:"price,omitempty"`
	Quantity          int64  `json:"quantity,omitempty"`
	FilledQuantity    int64  `json:"filledQuantity"`
	RemainingQuantity int64  `json:"remainingQuantity"`
	CanceledQuantity  int64  `json:"canceledQuantity"`
	Notional          int64  `json:"notional"`
	Status            string `json:"status"` // new | partially_filled | filled | canceled | rejected
	Reason            string `json:"reason,omitempty"`
}

// normalize validates an order request and turns it into a command: the
// gateway's input validation and normalisation. Errors are for the client.
func (s *Server) normalize(req OrderRequest, acct uint64) (Command, error) {
	c := Command{Op: OpPlace, Account: acct}
	sym, ok := s.x.md.Symbol(strings.ToUpper(strings.TrimSpace(req.Symbol)))
	if !ok {
		return c, fmt.Errorf("unknown symbol %q", req.Symbol)
	}
	c.Symbol = uint16(sym)
	switch strings.ToLower(req.Side) {
	case "buy":
		c.Side = orderbook.Buy
	case "sell":
		c.Side = orderbook.Sell
	default:
		return c, fmt.Errorf("side must be buy or sell")
	}
	switch strings.ToLower(req.OrderType) {
	case "limit", "":
		if req.Price < 1 || req.Price > maxPrice {
			return c, fmt.Errorf("price must be 1..%d cents", int64(maxPrice))
		}
		c.Price = req.Price
	case "market":
		if req.Price != 0 {
			return c, fmt.Errorf("a market order has no price")
		}
		c.Kind = orderbook.Market
	default:
		return c, fmt.Errorf("orderType must be limit or market")
	}
	switch strings.ToUpper(req.TimeInForce) {
	case "", "GTC":
	case "IOC":
		c.TIF = orderbook.IOC
	case "FOK":
		c.TIF = orderbook.FOK
	default:
		return c, fmt.Errorf("timeInForce must be GTC, IOC or FOK")
	}
	if req.Quantity < 1 || req.Quantity > maxQty {
		return c, fmt.Errorf("quantity must be 1..%d", int64(maxQty))
	}
	c.Qty = req.Quantity
	return c, nil
}

func (s *Server) placeOrder(w http.ResponseWriter, r *http.Request, acct uint64) {
	var req OrderRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "bad JSON: "+err.Error())
		return
	}
	c, err := s.normalize(req, acct)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ack, err := s.x.Submit(r.Context(), c)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	resp := OrderResponse{OrderID: ack.OrderID, CreationTime: ack.Time / 1e6, Symbol: s.x.state.cfg.Symbols[c.Symbol].Name,
		Side: sideName(c.Side), OrderType: "limit", Price: c.Price, Quantity: c.Qty, FilledQuantity: ack.Filled,
		RemainingQuantity: ack.Resting, CanceledQuantity: ack.Canceled, Notional: ack.Notional}
	if c.Kind == orderbook.Market {
		resp.OrderType = "market"
	}
	switch {
	case ack.Reject != Accepted:
		resp.Status, resp.Reason, resp.CanceledQuantity = "rejected", ack.Reject.String(), c.Qty
	case ack.Resting == 0 && ack.Filled == c.Qty:
		resp.Status = "filled"
	case ack.Resting == 0:
		resp.Status = "canceled"
	case ack.Filled > 0:
		resp.Status = "partially_filled"
	default:
		resp.Status = "new"
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) cancelOrder(w http.ResponseWriter, r *http.Request, acct uint64) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		writeError(w, http.StatusBadRequest, "order id must be a positive integer")
		return
	}
	ack, err := s.x.Submit(r.Context(), Command{Op: OpCancel, Account: acct, OrderID: id})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if ack.Reject == RejectUnknownOrder {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no open order %d for this account", id))
		return
	}
	writeJSON(w, http.StatusOK, OrderResponse{OrderID: id, CreationTime: ack.Time / 1e6, CanceledQuantity: ack.Canceled,
		Status: "canceled"})
}

// timeRange reads startTime and endTime (unix ms; both optional).
func timeRange(r *http.Request) (from, to int64, err error) {
	from, to = 0, math.MaxInt64
	if v := r.URL.Query().Get("startTime"); v != "" {
		if from, err = strconv.ParseInt(v, 10, 64); err != nil {
			return 0, 0, fmt.Errorf("startTime must be unix milliseconds")
		}
	}
	if v := r.URL.Query().Get("endTime"); v != "" {
		if to, err = strconv.ParseInt(v, 10, 64); err != nil {
			return 0, 0, fmt.Errorf("endTime must be unix milliseconds")
		}
	}
	if from > to {
		return 0, 0, fmt.Errorf("startTime after endTime")
	}
	return from, to, nil
}

// symbolParam reads the symbol query parameter: 400 when absent, 404 when unknown.
func (s *Server) symbolParam(w http.ResponseWriter, r *http.Request, required bool) (int, bool) {
	name := strings.ToUpper(r.URL.Query().Get("symbol"))
	if name == "" {
		if required {
			writeError(w, http.StatusBadRequest, "symbol is required")
			return 0, false
		}
		return -1, true
	}
	i, ok := s.x.md.Symbol(name)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown symbol %q", name))
	}
	return i, ok
}

func (s *Server) executions(w http.ResponseWriter, r *http.Request, acct uint64) {
	sym, ok := s.symbolParam(w, r, false)
	if !ok {
		return
	}
	from, to, err := timeRange(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var orderID uint64
	if v := r.URL.Query().Get("orderId"); v != "" {
		if orderID, err = strconv.ParseUint(v, 10, 64); err != nil {
			writeError(w, http.StatusBadRequest, "orderId must be a positive integer")
			return
		}
	}
	name := ""
	if sym >= 0 {
		name = s.x.state.cfg.Symbols[sym].Name
	}
	writeJSON(w, http.StatusOK, map[string]any{"executions": s.x.rep.Executions(acct, name, orderID, from, to)})
}

func (s *Server) account(w http.ResponseWriter, r *http.Request, acct uint64) {
	sym, ok := s.symbolParam(w, r, true)
	if !ok {
		return
	}
	cash, cashHeld, shares, sharesHeld := s.x.state.Balances(acct, sym)
	writeJSON(w, http.StatusOK, map[string]int64{"account": int64(acct), "cash": cash, "cashWithheld": cashHeld,
		"shares": shares, "sharesWithheld": sharesHeld})
}

// BookResponse is the L2 book: [price, quantity] pairs, best first.
type BookResponse struct {
	Symbol string     `json:"symbol"`
	Bids   [][2]int64 `json:"bids"`
	Asks   [][2]int64 `json:"asks"`
}

func (s *Server) book(sym, depth int) BookResponse {
	bids, asks := s.x.md.Depth(sym, depth)
	out := BookResponse{Symbol: s.x.state.cfg.Symbols[sym].Name, Bids: [][2]int64{}, Asks: [][2]int64{}}
	for _, l := range bids {
		out.Bids = append(out.Bids, [2]int64{l.Price, l.Qty})
	}
	for _, l := range asks {
		out.Asks = append(out.Asks, [2]int64{l.Price, l.Qty})
	}
	return out
}

func (s *Server) orderBook(w http.ResponseWriter, r *http.Request) {
	sym, ok := s.symbolParam(w, r, true)
	if !ok {
		return
	}
	depth := 10
	if v := r.URL.Query().Get("depth"); v != "" {
		d, err := strconv.Atoi(v)
		if err != nil || d < 1 || d > 1000 {
			writeError(w, http.StatusBadRequest, "depth must be 1..1000")
			return
		}
		depth = d
	}
	writeJSON(w, http.StatusOK, s.book(sym, depth))
}

func (s *Server) candles(w http.ResponseWriter, r *http.Request) {
	sym, ok := s.symbolParam(w, r, true)
	if !ok {
		return
	}
	res := -1
	v := r.URL.Query().Get("resolution")
	if v == "" {
		v = "60"
	}
	for i, sec := range Resolutions {
		if v == strconv.FormatInt(sec, 10) {
			res = i
		}
	}
	if res < 0 {
		writeError(w, http.StatusBadRequest, "resolution must be 60, 300 or 3600 (seconds)")
		return
	}
	from, to, err := timeRange(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"symbol": s.x.state.cfg.Symbols[sym].Name, "resolution": Resolutions[res],
		"candles": s.x.md.Candles(sym, res, from/1000, to/1000)})
}

func (s *Server) symbols(w http.ResponseWriter, _ *http.Request) {
	type sym struct {
		Symbol string `json:"symbol"`
		Last   int64  `json:"last"`
		Volume int64  `json:"volume"`
	}
	out := []sym{}
	for i, sy := range s.x.state.cfg.Symbols {
		q := s.x.md.Quote(i)
		out = append(out, sym{sy.Name, q.Last, q.Volume})
	}
	writeJSON(w, http.StatusOK, map[string]any{"symbols": out})
}

// Snapshot is one Server-Sent Event of the market-data stream.
type Snapshot struct {
	BookResponse
	Quote   Quote    `json:"quote"`
	Trades  []Tick   `json:"trades"`
	Candles []Candle `json:"candles"` // 1-minute, the last 60
	Seq     uint64   `json:"seq"`     // last command applied
}

func (s *Server) snapshot(sym int) Snapshot {
	cs := s.x.md.Candles(sym, 0, 0, math.MaxInt64)
	if len(cs) > 60 {
		cs = cs[len(cs)-60:]
	}
	return Snapshot{BookResponse: s.book(sym, 20), Quote: s.x.md.Quote(sym), Trades: s.x.md.Trades(sym, 20),
		Candles: cs, Seq: s.x.Applied()}
}

// stream sends a Snapshot of one symbol whenever its market data changes,
// at most once per StreamInterval (GET /marketdata/stream?symbol=).
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	sym, ok := s.symbolParam(w, r, true)
	if !ok {
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	ctx := r.Context()
	var sent uint64
	var buf bytes.Buffer
	for first := true; ; first = false {
		_, changed := s.x.md.Changed()
		if v := s.x.md.Version(sym); first || v != sent {
			sent = v
			buf.Reset()
			buf.WriteString("data: ")
			_ = json.NewEncoder(&buf).Encode(s.snapshot(sym))
			buf.WriteString("\n")
			if _, err := w.Write(buf.Bytes()); err != nil {
				return
			}
			fl.Flush()
			if !pause(ctx, s.opts.StreamInterval) {
				return
			}
			continue
		}
		select {
		case <-changed:
		case <-time.After(15 * time.Second):
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return
			}
			fl.Flush()
		case <-ctx.Done():
			return
		}
	}
}

// pause waits d unless ctx ends first (it rate-limits a stream).
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Server) index(w http.ResponseWriter, _ *http.Request) {
	var buf bytes.Buffer
	err := s.page.Execute(&buf, map[string]any{"DemoKey": s.opts.DemoKey, "Symbols": s.x.state.cfg.Symbols})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}
