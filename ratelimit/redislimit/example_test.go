package redislimit_test

import (
	"fmt"
	"log"
	"net/http"
	"net/netip"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sysblocks/sysblocks/ratelimit"
	"github.com/sysblocks/sysblocks/ratelimit/redislimit"
)

// Example shares one token bucket per client (10 requests per second,
// bursts of 20) between every instance of a service behind the same Redis,
// in front of a handler. It needs a Redis server, so it is compiled but not
// run by go test.
func Example() {
	client := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer client.Close()
	limiter, err := redislimit.NewTokenBucket(client, 10, 20,
		redislimit.WithPrefix("api:tb:"),
		redislimit.WithTimeout(50*time.Millisecond),
		redislimit.WithFailClosed(time.Second), // Redis down: deny, retry in 1s
		redislimit.WithErrorHandler(func(key string, err error) { log.Printf("rate limit %q: %v", key, err) }))
	if err != nil {
		log.Fatal(err)
	}
	key := ratelimit.ClientIP(netip.MustParsePrefix("10.0.0.0/8")) // our load balancers
	hello := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "hello") })
	http.Handle("/", ratelimit.Middleware(limiter, key, ratelimit.WithPolicyName("api"))(hello))
	log.Fatal(http.ListenAndServe(":8080", nil))
}

// ExampleWithFailClosed shows the failure policies when Redis cannot be
// reached (nothing listens on port 1): failing open allows as if the key
// were fresh, failing closed denies, and the error handler hears of both.
func ExampleWithFailClosed() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1})
	defer client.Close()
	report := redislimit.WithErrorHandler(func(key string, err error) { fmt.Printf("error for %q\n", key) })
	open, _ := redislimit.NewFixedWindow(client, 100, time.Minute, report)
	closed, _ := redislimit.NewFixedWindow(client, 100, time.Minute, report, redislimit.WithFailClosed(5*time.Second))

	d := open.Allow("alice")
	fmt.Printf("open: allowed=%v remaining=%d\n", d.Allowed, d.Remaining)
	d = closed.Allow("alice")
	fmt.Printf("closed: allowed=%v retry-after=%v\n", d.Allowed, d.RetryAfter)
	// Output:
	// error for "alice"
	// open: allowed=true remaining=99
	// error for "alice"
	// closed: allowed=false retry-after=5s
}
