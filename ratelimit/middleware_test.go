package ratelimit

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })

func serve(h http.Handler, remote string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = remote
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestMiddlewareFixedWindow(t *testing.T) {
	// 20.5s into a minute-long window.
	clk := &fakeClock{t: time.Unix(60*1000+20, 500_000_000)}
	fw, err := NewFixedWindow(2, time.Minute, WithClock(clk.now))
	require.NoError(t, err)
	h := Middleware(fw, ClientIP())(okHandler)
	for _, tc := range []struct {
		wantCode      int
		wantRemaining string
		wantRetry     string
	}{
		{http.StatusOK, "1", ""},
		{http.StatusOK, "0", ""},
		{http.StatusTooManyRequests, "0", "40"}, // 39.5s to the window's end, rounded up
	} {
		w := serve(h, "192.0.2.1:1234")
		require.Equal(t, tc.wantCode, w.Code)
		hd := w.Header()
		require.Equal(t, `"default";q=2;w=60`, hd.Get("RateLimit-Policy"))
		require.Equal(t, `"default";r=`+tc.wantRemaining+`;t=40`, hd.Get("RateLimit"))
		require.Equal(t, "2", hd.Get("X-RateLimit-Limit"))
		require.Equal(t, tc.wantRemaining, hd.Get("X-RateLimit-Remaining"))
		require.Equal(t, "40", hd.Get("X-RateLimit-Reset"))
		require.Equal(t, tc.wantRetry, hd.Get("Retry-After"))
		for k, vs := range hd {
			for _, v := range vs {
				require.False(t, strings.Contains(v, "UTC"), "%s: %s is not an HTTP date in GMT", k, v)
			}
		}
	}
	// Another client has its own window.
	require.Equal(t, http.StatusOK, serve(h, "192.0.2.2:1234").Code)
	// The next window opens at the promised instant, not before.
	clk.advance(39*time.Second + 499*time.Millisecond)
	require.Equal(t, http.StatusTooManyRequests, serve(h, "192.0.2.1:1234").Code)
	clk.advance(time.Millisecond)
	require.Equal(t, http.StatusOK, serve(h, "192.0.2.1:1234").Code)
}

// TestMiddlewareRetryAfterNeverEarly: with a token bucket at 0.3/s the real
// wait is 3.33…s; Retry-After says 4 and the request succeeds then.
func TestMiddlewareRetryAfterNeverEarly(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_000_000, 0)}
	tb, err := NewTokenBucket(0.3, 1, WithClock(clk.now))
	require.NoError(t, err)
	h := Middleware(tb, APIKey("X-API-Key", nil), WithPolicyName(`gate"way`), WithoutLegacyHeaders())(okHandler)
	req := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("X-API-Key", "k1")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := req()
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, `"gate\"way";q=1;w=4`, w.Header().Get("RateLimit-Policy"))
	require.Equal(t, `"gate\"way";r=0;t=4`, w.Header().Get("RateLimit"))
	require.Empty(t, w.Header().Get("X-RateLimit-Limit"))
	w = req()
	require.Equal(t, http.StatusTooManyRequests, w.Code)
	require.Equal(t, "4", w.Header().Get("Retry-After"))
	clk.advance(3333333332 * time.Nanosecond) // the wait is 3333333333ns (truncated, as x/time/rate)
	require.Equal(t, http.StatusTooManyRequests, req().Code)
	clk.advance(4*time.Second - 3333333332*time.Nanosecond)
	require.Equal(t, http.StatusOK, req().Code)
}

func TestMiddlewareDeniedHandler(t *testing.T) {
	at := time.Unix(1_000_000, 0)
	sl, err := NewSlidingLog(1, time.Second, WithClock(func() time.Time { return at }))
	require.NoError(t, err)
	denied := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	h := Middleware(sl, User(func(r *http.Request) (string, bool) {
		u, _, ok := r.BasicAuth()
		return u, ok
	}, nil), WithDeniedHandler(denied))(okHandler)
	require.Equal(t, http.StatusOK, serve(h, "x").Code)
	w := serve(h, "x")
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	require.Equal(t, "1", w.Header().Get("Retry-After"))
}

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	key := ClientIP(proxies...)
	for _, tc := range []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"no proxy", "198.51.100.7:5000", nil, "ip:198.51.100.7"},
		{"untrusted peer's header ignored", "198.51.100.7:5000", []string{"1.2.3.4"}, "ip:198.51.100.7"},
		{"one trusted proxy", "10.0.0.1:80", []string{"198.51.100.7"}, "ip:198.51.100.7"},
		{"spoofed left entries ignored", "10.0.0.1:80", []string{"6.6.6.6, 198.51.100.7, 10.1.1.1"}, "ip:198.51.100.7"},
		{"several header lines", "10.0.0.1:80", []string{"6.6.6.6", "198.51.100.7", "10.2.2.2"}, "ip:198.51.100.7"},
		{"all trusted", "10.0.0.1:80", []string{"10.9.9.9, 10.8.8.8"}, "ip:10.9.9.9"},
		{"garbage stops at last trusted", "10.0.0.1:80", []string{"198.51.100.7, bogus, 10.3.3.3"}, "ip:10.3.3.3"},
		{"trusted peer, no header", "10.0.0.1:80", nil, "ip:10.0.0.1"},
		{"ipv6 peer", "[2001:db8::1]:443", []string{"2001:db9::5"}, "ip:2001:db9::5"},
		{"mapped ipv4", "[::ffff:198.51.100.7]:1", nil, "ip:198.51.100.7"},
		{"port in entry", "10.0.0.1:80", []string{"198.51.100.7:4242"}, "ip:198.51.100.7"},
		{"empty entries skipped", "10.0.0.1:80", []string{"198.51.100.7,, "}, "ip:198.51.100.7"},
		{"bad remote", "nonsense", nil, "ip:nonsense"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			require.Equal(t, tc.want, key(r))
		})
	}
}

func TestKeyFallbacks(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "192.0.2.9:1"
	require.Equal(t, "key:", APIKey("X-API-Key", nil)(r))
	require.Equal(t, "ip:192.0.2.9", APIKey("X-API-Key", ClientIP())(r))
	anon := func(*http.Request) (string, bool) { return "", false }
	require.Equal(t, "user:", User(anon, nil)(r))
	require.Equal(t, "ip:192.0.2.9", User(anon, ClientIP())(r))
	r.Header.Set("X-API-Key", "abc")
	require.Equal(t, "key:abc", APIKey("X-API-Key", nil)(r))
}
