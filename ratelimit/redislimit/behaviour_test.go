package redislimit_test

import (
	"context"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/sysblocks/sysblocks/ratelimit"
	"github.com/sysblocks/sysblocks/ratelimit/redislimit"
)

// limiters builds one limiter of each algorithm allowing limit per window
// (the token bucket: burst limit, refilling limit per window).
func limiters(t *testing.T, c redis.Scripter, limit int, window time.Duration, opts ...redislimit.Option) map[string]ratelimit.Limiter {
	t.Helper()
	tb, err := redislimit.NewTokenBucket(c, float64(limit)/window.Seconds(), limit, opts...)
	require.NoError(t, err)
	fw, err := redislimit.NewFixedWindow(c, limit, window, opts...)
	require.NoError(t, err)
	sw, err := redislimit.NewSlidingWindow(c, limit, window, opts...)
	require.NoError(t, err)
	sl, err := redislimit.NewSlidingLog(c, limit, window, opts...)
	require.NoError(t, err)
	return map[string]ratelimit.Limiter{"token bucket": tb, "fixed window": fw, "sliding window": sw, "sliding log": sl}
}

// TestConcurrentOneKey has many goroutines, split over four limiter
// instances (four "processes" with their own connection pools), hammer one
// key at one instant: each algorithm must allow exactly limit requests, never
// more, however the scripts interleave.
func TestConcurrentOneKey(t *testing.T) {
	srv := startRedis(t)
	const limit, goroutines, perG = 50, 16, 20
	at := time.Unix(1_800_000_000, 0)
	var insts []map[string]ratelimit.Limiter
	for i := 0; i < 4; i++ {
		insts = append(insts, limiters(t, srv.client(t), limit, time.Minute))
	}
	for name := range insts[0] {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			var allowed atomic.Int64
			var wg sync.WaitGroup
			for g := 0; g < goroutines; g++ {
				wg.Add(1)
				go func(l ratelimit.Limiter) {
					defer wg.Done()
					for i := 0; i < perG; i++ {
						if d := l.AllowN("hot", 1, at); d.Allowed {
							allowed.Add(1)
						} else if d.RetryAfter <= 0 {
							t.Errorf("denied with RetryAfter %v", d.RetryAfter)
						}
					}
				}(insts[g%len(insts)][name])
			}
			wg.Wait()
			require.EqualValues(t, limit, allowed.Load())
		})
	}
}

// failingClient is a client of a server that has been stopped, with retries
// off so that each call fails fast.
func failingClient(t *testing.T) *redis.Client {
	srv := startRedis(t)
	c := redis.NewClient(&redis.Options{Network: "unix", Addr: srv.sock, MaxRetries: -1,
		DialTimeout: 200 * time.Millisecond, DialerRetries: 1})
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.Ping(context.Background()).Err())
	srv.stop()
	return c
}

// TestFailurePolicy kills the server under the limiters: Allow and AllowN
// answer by the failure policy and report the error to the handler;
// AllowNContext returns it.
func TestFailurePolicy(t *testing.T) {
	c := failingClient(t)
	at := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		name        string
		opt         redislimit.Option
		wantAllowed bool
		wantRetry   time.Duration
		wantRemain  int
	}{
		{"default is open", nil, true, 0, 7},
		{"open", redislimit.WithFailOpen(), true, 0, 7},
		{"closed", redislimit.WithFailClosed(3 * time.Second), false, 3 * time.Second, 0},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			var mu sync.Mutex
			var errs []error
			var keys []string
			onErr := redislimit.WithErrorHandler(func(key string, err error) {
				mu.Lock()
				defer mu.Unlock()
				keys, errs = append(keys, key), append(errs, err)
			})
			for name, l := range limiters(t, c, 10, time.Second, tc.opt, onErr, redislimit.WithTimeout(time.Second)) {
				errs, keys = nil, nil
				d := l.AllowN("k", 3, at)
				require.Equal(t, tc.wantAllowed, d.Allowed, name)
				require.Equal(t, tc.wantRetry, d.RetryAfter, name)
				require.Equal(t, tc.wantRemain, d.Remaining, name)
				require.Equal(t, 10, d.Limit, name)
				require.Len(t, errs, 1, name)
				require.Equal(t, []string{"k"}, keys, name)
				require.ErrorContains(t, errs[0], `key "k"`, name)

				// An impossible request stays impossible, even failing open.
				d = l.AllowN("k", 11, at)
				require.False(t, d.Allowed, name)
				require.Equal(t, ratelimit.Never, d.RetryAfter, name)

				ctxer := l.(interface {
					AllowNContext(context.Context, string, int, time.Time) (ratelimit.Decision, error)
				})
				d, err := ctxer.AllowNContext(context.Background(), "k", 1, at)
				require.Error(t, err, name)
				require.Equal(t, tc.wantAllowed, d.Allowed, name)
				require.Len(t, errs, 2, name) // AllowNContext calls no handler
			}
		})
	}
}

// TestContextCancelled: a cancelled context fails the decision with the
// context's error.
func TestContextCancelled(t *testing.T) {
	c := startRedis(t).client(t)
	tb, err := redislimit.NewTokenBucket(c, 1, 1, redislimit.WithFailClosed(time.Second))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := tb.AllowNContext(ctx, "k", 1, time.Now())
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, d.Allowed)
	require.Equal(t, time.Second, d.RetryAfter)
}

// TestCorruptState: a key holding a value another program (or another
// algorithm sharing the prefix) wrote fails with ErrCorruptState and is left
// alone.
func TestCorruptState(t *testing.T) {
	c := startRedis(t).client(t)
	ctx := context.Background()
	opt := redislimit.WithPrefix("x:")
	tb, err := redislimit.NewTokenBucket(c, 1, 5, opt)
	require.NoError(t, err)
	fw, err := redislimit.NewFixedWindow(c, 5, time.Second, opt)
	require.NoError(t, err)
	sw, err := redislimit.NewSlidingWindow(c, 5, time.Second, opt)
	require.NoError(t, err)
	sl, err := redislimit.NewSlidingLog(c, 5, time.Second, opt)
	require.NoError(t, err)
	type ctxLimiter interface {
		AllowNContext(context.Context, string, int, time.Time) (ratelimit.Decision, error)
	}
	require.NoError(t, c.Set(ctx, "x:str", "hello", 0).Err())
	require.NoError(t, c.HSet(ctx, "x:hash", "f", "v").Err())
	at := time.Unix(1_800_000_000, 0)
	require.NoError(t, c.HSet(ctx, "x:otherhash", "sl", "2").Err())
	_, err = sl.AllowNContext(ctx, "otherhash", 1, at)
	require.ErrorIs(t, err, redislimit.ErrCorruptState)
	for _, l := range []ctxLimiter{tb, fw, sw, sl} {
		for _, key := range []string{"str", "hash"} {
			_, err := l.AllowNContext(ctx, key, 1, at)
			require.ErrorIs(t, err, redislimit.ErrCorruptState, "%T %s", l, key)
		}
	}
	// Each algorithm's value is foreign to the others.
	_, err = tb.AllowNContext(ctx, "mixed", 1, at)
	require.NoError(t, err)
	_, err = fw.AllowNContext(ctx, "mixed", 1, at)
	require.ErrorIs(t, err, redislimit.ErrCorruptState)
	_, err = sw.AllowNContext(ctx, "mixed", 1, at)
	require.ErrorIs(t, err, redislimit.ErrCorruptState)
	_, err = sl.AllowNContext(ctx, "mixed", 1, at)
	require.ErrorIs(t, err, redislimit.ErrCorruptState)
	require.Equal(t, "hello", c.Get(ctx, "x:str").Val())
}

// TestExpiry checks that every key written carries an expiry no later than
// the instant its state turns fresh plus the margin, so that Redis memory
// stays bounded, and that an expired key is a fresh one.
func TestExpiry(t *testing.T) {
	c := startRedis(t).client(t)
	ctx := context.Background()
	const margin = 5 * time.Second
	at := time.Unix(1_800_000_000, 250_000_000) // 250ms into a second
	opts := []redislimit.Option{redislimit.WithPrefix("e:"), redislimit.WithExpiryMargin(margin)}
	tb, err := redislimit.NewTokenBucket(c, 2, 10, opts...) // 10 tokens refill in 5s
	require.NoError(t, err)
	fw, err := redislimit.NewFixedWindow(c, 10, time.Minute, append(opts, redislimit.WithPrefix("f:"))...)
	require.NoError(t, err)
	sw, err := redislimit.NewSlidingWindow(c, 10, time.Minute, append(opts, redislimit.WithPrefix("s:"))...)
	require.NoError(t, err)
	sl, err := redislimit.NewSlidingLog(c, 10, time.Minute, append(opts, redislimit.WithPrefix("l:"))...)
	require.NoError(t, err)
	for _, tc := range []struct {
		l    ratelimit.Limiter
		key  string
		idle time.Duration // from at until the state is fresh again
	}{
		{tb, "e:k", 2 * time.Second}, // 4 tokens taken at 2/s
		{fw, "f:k", time.Minute - 250*time.Millisecond},
		{sw, "s:k", 2*time.Minute - 250*time.Millisecond},
		{sl, "l:k", time.Minute + time.Millisecond}, // rounding slack
	} {
		require.True(t, tc.l.AllowN("k", 4, at).Allowed)
		pttl := c.PTTL(ctx, tc.key).Val()
		require.LessOrEqual(t, pttl, tc.idle+margin, tc.key)
		require.Greater(t, pttl, tc.idle+margin-time.Second, tc.key) // a slow machine may take a while
		// An idle key that Redis dropped decides as a fresh one.
		require.NoError(t, c.Del(ctx, tc.key).Err())
		d := tc.l.AllowN("k", 10, at)
		require.True(t, d.Allowed, tc.key)
	}
	// A denied request writes nothing: the expiry stays.
	require.False(t, fw.AllowN("k", 1, at).Allowed)
}

// TestValidation: bad policies and options fail with the ratelimit
// package's sentinels, without contacting Redis.
func TestValidation(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	defer c.Close()
	for _, tc := range []struct {
		name string
		err  error
		mk   func() error
	}{
		{"rate 0", ratelimit.ErrInvalidRate, func() error { _, err := redislimit.NewTokenBucket(c, 0, 1); return err }},
		{"rate NaN", ratelimit.ErrInvalidRate, func() error { _, err := redislimit.NewTokenBucket(c, math.NaN(), 1); return err }},
		{"rate too high", ratelimit.ErrInvalidRate, func() error { _, err := redislimit.NewTokenBucket(c, 2e9, 1); return err }},
		{"burst 0", ratelimit.ErrInvalidLimit, func() error { _, err := redislimit.NewTokenBucket(c, 1, 0); return err }},
		{"burst too big", ratelimit.ErrInvalidLimit, func() error { _, err := redislimit.NewTokenBucket(c, 1, math.MaxInt); return err }},
		{"limit 0", ratelimit.ErrInvalidLimit, func() error { _, err := redislimit.NewFixedWindow(c, 0, time.Second); return err }},
		{"window 0", ratelimit.ErrInvalidWindow, func() error { _, err := redislimit.NewSlidingWindow(c, 1, 0); return err }},
		{"window < 0", ratelimit.ErrInvalidWindow, func() error { _, err := redislimit.NewFixedWindow(c, 1, -time.Second); return err }},
		{"nil clock", ratelimit.ErrInvalidOption, func() error {
			_, err := redislimit.NewSlidingLog(c, 1, time.Second, redislimit.WithClock(nil))
			return err
		}},
		{"nil client", ratelimit.ErrInvalidOption, func() error { _, err := redislimit.NewFixedWindow(nil, 1, time.Second); return err }},
		{"timeout < 0", ratelimit.ErrInvalidOption, func() error {
			_, err := redislimit.NewFixedWindow(c, 1, time.Second, redislimit.WithTimeout(-time.Second))
			return err
		}},
		{"margin < 0", ratelimit.ErrInvalidOption, func() error {
			_, err := redislimit.NewFixedWindow(c, 1, time.Second, redislimit.WithExpiryMargin(-1))
			return err
		}},
		{"fail closed without retry", ratelimit.ErrInvalidOption, func() error {
			_, err := redislimit.NewFixedWindow(c, 1, time.Second, redislimit.WithFailClosed(0))
			return err
		}},
		{"bad override", ratelimit.ErrInvalidLimit, func() error {
			_, err := redislimit.NewSlidingWindow(c, 1, time.Second, redislimit.WithOverride("k", ratelimit.Policy{Window: time.Second}))
			return err
		}},
		{"bad override rate", ratelimit.ErrInvalidRate, func() error {
			_, err := redislimit.NewTokenBucket(c, 1, 1, redislimit.WithOverride("k", ratelimit.Policy{Limit: 1}))
			return err
		}},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			if tc.name == "burst too big" && math.MaxInt <= ratelimit.MaxLimit {
				t.Skip("every int is within MaxLimit on this platform")
			}
			err := tc.mk()
			require.ErrorIs(t, err, tc.err)
			require.True(t, strings.HasPrefix(err.Error(), "redislimit: ") || strings.HasPrefix(err.Error(), "override"), err.Error())
		})
	}
}

// TestServerClock: with WithServerClock, Allow decides at the server's time,
// not the local clock's.
func TestServerClock(t *testing.T) {
	c := startRedis(t).client(t)
	ctx := context.Background()
	// The local clock is stuck in 1970; the server's is today's. A fixed
	// window of 10 years must still count in the server's decade.
	epoch := func() time.Time { return time.Unix(0, 0) }
	const decade = 10 * 365 * 24 * time.Hour
	var syncErrs atomic.Int64
	fw, err := redislimit.NewFixedWindow(c, 5, decade, redislimit.WithClock(epoch), redislimit.WithPrefix("clk:"),
		redislimit.WithServerClock(time.Hour), redislimit.WithErrorHandler(func(string, error) { syncErrs.Add(1) }))
	require.NoError(t, err)
	d := fw.Allow("k")
	require.True(t, d.Allowed)
	require.Zero(t, syncErrs.Load())
	v := strings.Fields(c.Get(ctx, "clk:k").Val())
	require.Len(t, v, 4)
	hi, _ := strconv.ParseInt(v[1], 10, 64)
	lo, _ := strconv.ParseInt(v[2], 10, 64)
	require.Equal(t, time.Now().UnixNano()/int64(decade), hi<<26|lo, "window index from the server's clock")
	// Without the option the local clock decides.
	local, err := redislimit.NewFixedWindow(c, 5, decade, redislimit.WithClock(epoch), redislimit.WithPrefix("loc:"))
	require.NoError(t, err)
	require.True(t, local.Allow("k").Allowed)
	require.Equal(t, "fw 0 0 1", c.Get(ctx, "loc:k").Val())
	require.LessOrEqual(t, d.ResetAfter, decade)
}

// TestServerClockUnreachable: a clock that cannot synchronise reports it
// and keeps the local time.
func TestServerClockUnreachable(t *testing.T) {
	c := failingClient(t)
	var errs atomic.Int64
	at := time.Unix(1_800_000_000, 0)
	fw, err := redislimit.NewFixedWindow(c, 5, time.Minute, redislimit.WithClock(func() time.Time { return at }),
		redislimit.WithServerClock(0), redislimit.WithErrorHandler(func(string, error) { errs.Add(1) }))
	require.NoError(t, err)
	d := fw.Allow("k")
	require.True(t, d.Allowed) // fails open
	require.EqualValues(t, 2, errs.Load(), "one for the clock, one for the decision")
}

// TestTimeout pauses the server: a decision under WithTimeout, on a client
// that applies context deadlines to its socket, fails by the deadline and
// the failure policy answers.
func TestTimeout(t *testing.T) {
	srv := startRedis(t)
	admin := srv.client(t)
	c := redis.NewClient(&redis.Options{Network: "unix", Addr: srv.sock, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	var got error
	fw, err := redislimit.NewFixedWindow(c, 5, time.Minute, redislimit.WithTimeout(50*time.Millisecond),
		redislimit.WithFailClosed(time.Second), redislimit.WithErrorHandler(func(_ string, err error) { got = err }))
	require.NoError(t, err)
	require.True(t, fw.Allow("k").Allowed) // connects and loads the script
	ctx := context.Background()
	// The pause ends by itself; the server is killed before then anyway.
	require.NoError(t, admin.Do(ctx, "CLIENT", "PAUSE", "20000", "ALL").Err())
	start := time.Now()
	d := fw.Allow("k")
	require.False(t, d.Allowed)
	require.Equal(t, time.Second, d.RetryAfter)
	var ne net.Error
	require.ErrorAs(t, got, &ne)
	require.True(t, ne.Timeout(), "%v", got)
	require.Less(t, time.Since(start), 10*time.Second, "the deadline, not the pause, ended the call")
}
