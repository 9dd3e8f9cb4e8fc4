package exchange

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/sysblocks/sysblocks/wal"
)

type api struct {
	t   *testing.T
	x   *Exchange
	srv *httptest.Server
}

func newAPI(t *testing.T, opts ServerOptions) *api {
	x, err := Open(t.TempDir(), Options{Config: Config{Symbols: DefaultSymbols()[:5], Accounts: 10}, Clock: stepClock(),
		Sync: wal.SyncNever, Sessions: 4})
	require.NoError(t, err)
	if opts.Keys == nil {
		opts.Keys = map[string]uint64{"alice-key": 1, "bob-key": 2}
	}
	s, err := NewServer(x, opts)
	require.NoError(t, err)
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		srv.Close()
		require.NoError(t, x.Close())
		require.NoError(t, x.State().Check())
	})
	return &api{t: t, x: x, srv: srv}
}

func (a *api) do(method, path, key, body string, out any) int {
	a.t.Helper()
	req, err := http.NewRequest(method, a.srv.URL+path, strings.NewReader(body))
	require.NoError(a.t, err)
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := a.srv.Client().Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(a.t, err)
	if out != nil && resp.StatusCode == http.StatusOK {
		require.NoError(a.t, json.Unmarshal(b, out), string(b))
	}
	if resp.StatusCode != http.StatusOK {
		var e map[string]string
		require.NoError(a.t, json.Unmarshal(b, &e), "error bodies are JSON: %s", b)
		require.NotEmpty(a.t, e["error"])
	}
	return resp.StatusCode
}

func TestHTTPTradingFlow(t *testing.T) {
	a := newAPI(t, ServerOptions{})
	var sell, buy, rest, canceled OrderResponse
	require.Equal(t, 200, a.do("POST", "/v1/order", "alice-key",
		`{"symbol":"aapl","side":"sell","orderType":"limit","price":15000,"quantity":100}`, &sell))
	require.Equal(t, "new", sell.Status)
	require.Equal(t, "AAPL", sell.Symbol, "the gateway normalises symbols")
	require.EqualValues(t, 100, sell.RemainingQuantity)

	require.Equal(t, 200, a.do("POST", "/v1/order", "bob-key",
		`{"symbol":"AAPL","side":"buy","orderType":"limit","price":15100,"quantity":30}`, &buy))
	require.Equal(t, "filled", buy.Status)
	require.EqualValues(t, 30, buy.FilledQuantity)
	require.EqualValues(t, 30*15000, buy.Notional, "trades at the resting order's price")

	require.Equal(t, 200, a.do("POST", "/v1/order", "bob-key",
		`{"symbol":"AAPL","side":"buy","price":14000,"quantity":5}`, &rest))
	require.Equal(t, "new", rest.Status)

	var book BookResponse
	require.Equal(t, 200, a.do("GET", "/marketdata/orderBook/L2?symbol=AAPL&depth=5", "", "", &book))
	// Market data flows through the outbound ring asynchronously: wait for
	// the publisher to catch up by polling the stream's sequence.
	a.waitBook(&book, func(b BookResponse) bool { return len(b.Asks) == 1 && len(b.Bids) == 1 })
	require.Equal(t, [][2]int64{{15000, 70}}, book.Asks)
	require.Equal(t, [][2]int64{{14000, 5}}, book.Bids)

	require.Equal(t, 200, a.do("DELETE", fmt.Sprintf("/v1/order/%d", sell.OrderID), "alice-key", "", &canceled))
	require.EqualValues(t, 70, canceled.CanceledQuantity)
	require.Equal(t, 404, a.do("DELETE", fmt.Sprintf("/v1/order/%d", sell.OrderID), "alice-key", "", nil))
	require.Equal(t, 404, a.do("DELETE", fmt.Sprintf("/v1/order/%d", rest.OrderID), "alice-key", "", nil), "not alice's order")
	a.waitBook(&book, func(b BookResponse) bool { return len(b.Asks) == 0 })

	var ex struct{ Executions []Execution }
	require.Equal(t, 200, a.do("GET", "/v1/execution?symbol=AAPL", "alice-key", "", &ex))
	require.Len(t, ex.Executions, 1)
	require.Equal(t, Execution{ID: 1, OrderID: sell.OrderID, Symbol: "AAPL", Side: "sell", Price: 15000, Qty: 30,
		Time: ex.Executions[0].Time, Liquidity: "maker", Filled: 30, Remaining: 70}, ex.Executions[0])
	require.Equal(t, 200, a.do("GET", fmt.Sprintf("/v1/execution?orderId=%d", buy.OrderID), "bob-key", "", &ex))
	require.Len(t, ex.Executions, 1)
	require.Equal(t, "taker", ex.Executions[0].Liquidity)
	require.Equal(t, 200, a.do("GET", fmt.Sprintf("/v1/execution?symbol=MSFT&orderId=%d", buy.OrderID), "bob-key", "", &ex))
	require.Empty(t, ex.Executions)
	require.Equal(t, 200, a.do("GET", "/v1/execution?startTime=0&endTime=1", "bob-key", "", &ex))
	require.Empty(t, ex.Executions)

	var candles struct {
		Symbol     string
		Resolution int64
		Candles    []Candle
	}
	require.Equal(t, 200, a.do("GET", "/marketdata/candles?symbol=AAPL&resolution=60", "", "", &candles))
	require.Len(t, candles.Candles, 1)
	c := candles.Candles[0]
	require.Equal(t, Candle{Start: c.Start, Open: 15000, High: 15000, Low: 15000, Close: 15000, Volume: 30, Trades: 1}, c)
	require.Zero(t, c.Start%60)

	var acct map[string]int64
	require.Equal(t, 200, a.do("GET", "/v1/account?symbol=AAPL", "bob-key", "", &acct))
	require.EqualValues(t, 100_000+30, acct["shares"])
	require.EqualValues(t, 5*14000, acct["cashWithheld"])
}

// waitBook re-reads the L2 endpoint until cond holds: the market-data
// publisher consumes the outbound stream on its own goroutine, so the test
// waits for its change notifications (no timer-based polling).
func (a *api) waitBook(book *BookResponse, cond func(BookResponse) bool) {
	a.t.Helper()
	for {
		_, changed := a.x.md.Changed()
		require.Equal(a.t, 200, a.do("GET", "/marketdata/orderBook/L2?symbol=AAPL", "", "", book))
		if cond(*book) {
			return
		}
		select {
		case <-changed:
		case <-time.After(10 * time.Second):
			a.t.Fatalf("book never reached the expected state: %+v", *book)
		}
	}
}

func TestHTTPErrors(t *testing.T) {
	a := newAPI(t, ServerOptions{})
	tests := []struct {
		name, method, path, key, body string
		want                          int
	}{
		{"no key", "POST", "/v1/order", "", `{"symbol":"AAPL","side":"buy","price":1,"quantity":1}`, 401},
		{"unknown key", "POST", "/v1/order", "mallory", `{"symbol":"AAPL","side":"buy","price":1,"quantity":1}`, 401},
		{"executions without key", "GET", "/v1/execution", "", "", 401},
		{"cancel without key", "DELETE", "/v1/order/1", "", "", 401},
		{"bad json", "POST", "/v1/order", "alice-key", `{"symbol":`, 400},
		{"unknown field", "POST", "/v1/order", "alice-key", `{"symbol":"AAPL","side":"buy","price":1,"quantity":1,"x":1}`, 400},
		{"unknown symbol", "POST", "/v1/order", "alice-key", `{"symbol":"NOPE","side":"buy","price":1,"quantity":1}`, 400},
		{"bad side", "POST", "/v1/order", "alice-key", `{"symbol":"AAPL","side":"hold","price":1,"quantity":1}`, 400},
		{"zero price", "POST", "/v1/order", "alice-key", `{"symbol":"AAPL","side":"buy","price":0,"quantity":1}`, 400},
		{"negative qty", "POST", "/v1/order", "alice-key", `{"symbol":"AAPL","side":"buy","price":1,"quantity":-1}`, 400},
		{"market with price", "POST", "/v1/order", "alice-key", `{"symbol":"AAPL","side":"buy","orderType":"market","price":5,"quantity":1}`, 400},
		{"bad tif", "POST", "/v1/order", "alice-key", `{"symbol":"AAPL","side":"buy","price":5,"quantity":1,"timeInForce":"DAY"}`, 400},
		{"bad order id", "DELETE", "/v1/order/abc", "alice-key", "", 400},
		{"unknown order", "DELETE", "/v1/order/12345", "alice-key", "", 404},
		{"bad time", "GET", "/v1/execution?startTime=x", "alice-key", "", 400},
		{"unknown symbol executions", "GET", "/v1/execution?symbol=NOPE", "alice-key", "", 404},
		{"book without symbol", "GET", "/marketdata/orderBook/L2", "", "", 400},
		{"book unknown symbol", "GET", "/marketdata/orderBook/L2?symbol=NOPE", "", "", 404},
		{"book bad depth", "GET", "/marketdata/orderBook/L2?symbol=AAPL&depth=0", "", "", 400},
		{"candles bad resolution", "GET", "/marketdata/candles?symbol=AAPL&resolution=7", "", "", 400},
		{"candles unknown symbol", "GET", "/marketdata/candles?symbol=NOPE", "", "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, a.do(tt.method, tt.path, tt.key, tt.body, nil))
		})
	}
	var r OrderResponse
	require.Equal(t, 200, a.do("POST", "/v1/order", "alice-key", `{"symbol":"AAPL","side":"buy","price":10000000,"quantity":10000}`, &r))
	require.Equal(t, "rejected", r.Status)
	require.Equal(t, "insufficient funds", r.Reason)
}

func TestHTTPRateLimit(t *testing.T) {
	a := newAPI(t, ServerOptions{Rate: 0.001, Burst: 3})
	for range 3 {
		require.Equal(t, 200, a.do("GET", "/v1/execution", "alice-key", "", nil))
	}
	require.Equal(t, 429, a.do("GET", "/v1/execution", "alice-key", "", nil))
	require.Equal(t, 429, a.do("POST", "/v1/order", "alice-key", `{"symbol":"AAPL","side":"buy","price":1,"quantity":1}`, nil))
	require.Equal(t, 200, a.do("GET", "/v1/execution", "bob-key", "", nil), "limits are per client")
}

func TestHTTPPageAndStream(t *testing.T) {
	a := newAPI(t, ServerOptions{DemoKey: "alice-key"})
	resp, err := a.srv.Client().Get(a.srv.URL + "/")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, string(page), "alice-key")
	require.NotContains(t, string(page), "http://", "the page loads nothing from the network")
	require.NotContains(t, string(page), "https://")

	resp, err = a.srv.Client().Get(a.srv.URL + "/marketdata/stream?symbol=MSFT")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	require.NoError(t, err)
	data, ok := strings.CutPrefix(line, "data: ")
	require.True(t, ok, line)
	var snap Snapshot
	require.NoError(t, json.Unmarshal([]byte(data), &snap))
	require.Equal(t, "MSFT", snap.Symbol)
}
