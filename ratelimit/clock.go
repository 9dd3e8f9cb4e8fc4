package ratelimit

import (
	"sync/atomic"
	"time"

	"github.com/sysblocks/sysblocks/ratelimit/internal/exact"
)

// rebaseEvery bounds how long the default clock runs on the monotonic clock
// alone before it re-reads the wall clock, so that a wall-clock step (NTP,
// a VM resumed from suspend) reaches the window boundaries within a second.
const rebaseEvery = time.Second

// monoClock is the default clock of Allow: Unix nanoseconds computed as a
// wall-clock base plus the monotonic time elapsed since it. time.Now reads
// two clocks (wall and monotonic); time.Since of a Time that carries a
// monotonic reading reads only the monotonic one, which halves the cost of
// the clock on the hot path without linkname tricks.
type monoClock struct {
	base atomic.Pointer[clockBase]
}

type clockBase struct {
	at   time.Time // with its monotonic reading
	unix int64     // exact.UnixNano(at)
}

func newMonoClock() *monoClock {
	c := &monoClock{}
	c.rebase()
	return c
}

//go:noinline
func (c *monoClock) rebase() int64 {
	b := &clockBase{at: time.Now()}
	b.unix = exact.UnixNano(b.at)
	c.base.Store(b)
	return b.unix
}

// unixNano returns now in Unix nanoseconds. Cost: one monotonic clock read
// and one atomic load; once a second one time.Now and a small allocation.
// Safe for concurrent use.
func (c *monoClock) unixNano() int64 {
	b := c.base.Load()
	if d := time.Since(b.at); uint64(d) < uint64(rebaseEvery) { // also d >= 0
		return b.unix + int64(d)
	}
	return c.rebase()
}

// unixNow is the limiter's clock in Unix nanoseconds: the injected clock if
// any, else the monotonic-based default.
func (c *config) unixNow() int64 {
	if c.mono != nil {
		return c.mono.unixNano()
	}
	return exact.UnixNano(c.now())
}
