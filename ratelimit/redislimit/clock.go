package redislimit

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sysblocks/sysblocks/ratelimit/internal/exact"
)

// timeScript reads the server's clock. A script rather than the TIME command
// keeps redis.Scripter the only interface a client must satisfy.
var timeScript = redis.NewScript(`local t = redis.call('TIME') return {t[1], t[2]}`)

// serverClock is the local clock plus the offset to the Redis server's
// clock, measured every resync with one TIME round trip (NTP's estimate: the
// server read its clock halfway through the round trip). Safe for
// concurrent use: one caller at a time resynchronises, the others use the
// previous offset meanwhile.
type serverClock struct {
	client  redis.Scripter
	local   func() time.Time
	resync  time.Duration
	timeout time.Duration
	onError func(key string, err error)
	offset  atomic.Int64 // server − local, ns
	next    atomic.Int64 // local Unix ns of the next synchronisation
	busy    atomic.Bool
}

func newServerClock(client redis.Scripter, local func() time.Time, resync, timeout time.Duration,
	onError func(string, error)) *serverClock {
	return &serverClock{client: client, local: local, resync: resync, timeout: timeout, onError: onError}
}

// now is the server's time estimated from the local clock. Cost: a local
// clock read and two atomic loads; once per resync, one round trip.
func (c *serverClock) now() time.Time {
	t := c.local()
	if exact.UnixNano(t) >= c.next.Load() && c.busy.CompareAndSwap(false, true) {
		err := c.sync(t)
		c.busy.Store(false)
		if err != nil && c.onError != nil {
			c.onError("", err)
		}
		t = c.local()
	}
	return t.Add(time.Duration(c.offset.Load()))
}

func (c *serverClock) sync(t0 time.Time) error {
	ctx := context.Background()
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	res, err := timeScript.Run(ctx, c.client, nil).StringSlice()
	t1 := c.local()
	c.next.Store(exact.AddSat(exact.UnixNano(t1), int64(c.resync)))
	if err != nil {
		return fmt.Errorf("redislimit: server clock: %w", err)
	}
	if len(res) != 2 {
		return fmt.Errorf("redislimit: server clock: TIME replied %q", res)
	}
	sec, err1 := strconv.ParseInt(res[0], 10, 64)
	usec, err2 := strconv.ParseInt(res[1], 10, 64)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("redislimit: server clock: TIME replied %q", res)
	}
	a, b := exact.UnixNano(t0), exact.UnixNano(t1)
	mid := a + (b-a)/2
	c.offset.Store(exact.SubSat(exact.AddSat(exact.MulSat(sec, 1e9), usec*1e3), mid))
	return nil
}
