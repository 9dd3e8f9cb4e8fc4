package ratelimit_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"time"

	"github.com/sysblocks/sysblocks/ratelimit"
)

// Example puts a per-client token bucket (2 requests per second, bursts of
// 2) in front of a handler, keyed by client IP behind a trusted proxy.
func Example() {
	clock := time.Unix(1_700_000_000, 0) // an injected clock keeps the output fixed
	limiter, err := ratelimit.NewTokenBucket(2, 2, ratelimit.WithClock(func() time.Time { return clock }))
	if err != nil {
		panic(err)
	}
	key := ratelimit.ClientIP(netip.MustParsePrefix("10.0.0.0/8")) // our load balancers
	hello := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "hello") })
	handler := ratelimit.Middleware(limiter, key, ratelimit.WithPolicyName("gateway"))(hello)

	for i := 0; i < 3; i++ {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "10.0.0.7:4711"                   // the proxy…
		r.Header.Set("X-Forwarded-For", "198.51.100.23") // …vouching for the client
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		fmt.Printf("%d %s retry-after=%q\n", w.Code, w.Header().Get("RateLimit"), w.Header().Get("Retry-After"))
	}
	// Output:
	// 200 "gateway";r=1;t=1 retry-after=""
	// 200 "gateway";r=0;t=1 retry-after=""
	// 429 "gateway";r=0;t=1 retry-after="1"
}

// ExampleTokenBucket shows a decision's fields, and that the bucket agrees
// with golang.org/x/time/rate on when the next token is due.
func ExampleTokenBucket() {
	tb, err := ratelimit.NewTokenBucket(3, 1) // 3 per second, no burst
	if err != nil {
		panic(err)
	}
	t0 := time.Unix(1_700_000_000, 0)
	fmt.Println(tb.AllowN("alice", 1, t0).Allowed)
	d := tb.AllowN("alice", 1, t0)
	fmt.Println(d.Allowed, d.RetryAfter)
	// 333333333ns later the bucket is short by a third of a nanosecond's
	// refill, which x/time/rate (and so this bucket) lets through.
	fmt.Println(tb.AllowN("alice", 1, t0.Add(d.RetryAfter)).Allowed)
	// Output:
	// true
	// false 333.333333ms
	// true
}

// ExampleLeakyBucket_TakeN spaces a burst of calls evenly.
func ExampleLeakyBucket_TakeN() {
	lb, err := ratelimit.NewLeakyBucket(10, 3) // one every 100ms, 3 queued at most
	if err != nil {
		panic(err)
	}
	t0 := time.Unix(1_700_000_000, 0)
	for i := 0; i < 4; i++ {
		wait, err := lb.TakeN("job", 1, t0)
		fmt.Println(wait, err)
	}
	// Output:
	// 0s <nil>
	// 100ms <nil>
	// 200ms <nil>
	// 0s ratelimit: queue full: retry after 100ms
}
