package sequencer

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// WaitStrategy selects how a Ring's producers and consumers wait when they
// cannot proceed (no event to read, or no free slot to write). The zero value
// is Block.
type WaitStrategy uint8

const (
	// Block spins briefly, then yields a few times, then sleeps on a condition
	// variable until the other side signals. Idle loops use no CPU; a wake-up
	// costs a few microseconds. The default, for tests and low-CPU deployments.
	Block WaitStrategy = iota
	// Yield spins briefly, then calls runtime.Gosched in a loop: low latency,
	// lets other goroutines run, but an idle waiter keeps a core busy.
	Yield
	// BusySpin re-reads the cursor in a tight loop, yielding the processor
	// only once every 1024 rounds: the lowest latency, and a core burnt per
	// waiter. Use it only with a core reserved per waiter.
	BusySpin
)

// String returns the strategy's name.
func (w WaitStrategy) String() string {
	switch w {
	case Block:
		return "block"
	case Yield:
		return "yield"
	case BusySpin:
		return "busy-spin"
	}
	return "unknown"
}

func (w WaitStrategy) valid() bool { return w <= BusySpin }

// Tuning of the waiting loops. A spin is a handful of nanoseconds, a yield
// around a hundred: Block reaches the condition variable after roughly a few
// microseconds of waiting, which covers the gap between two events of a busy
// stream without a sleep.
const (
	spinTries  = 128
	yieldTries = 16
	// checkEvery bounds how many busy-spin rounds pass between two looks at
	// the ring's closed flag and the caller's context.
	checkEvery = 1024
)

// waiter is the sleeping half of the Block strategy. Publishers and releasers
// call wake after every cursor move; it costs one atomic load unless someone
// sleeps. The sleeper registers (sleepers.Add) before its final look at the
// cursor and the waker looks at sleepers after its cursor store; sequentially
// consistent atomics guarantee that at least one of the two sees the other,
// and the mutex orders the broadcast after the sleeper's cond.Wait.
type waiter struct {
	mu       sync.Mutex
	cond     sync.Cond
	sleepers atomic.Int32
}

func (w *waiter) init() { w.cond.L = &w.mu }

func (w *waiter) wake() {
	if w.sleepers.Load() > 0 {
		w.mu.Lock()
		w.cond.Broadcast()
		w.mu.Unlock()
	}
}

// await returns once ready reports true, or with false once stop reports true.
// ready and stop are polled under the strategy's rhythm; with Block, whoever
// makes ready or stop true must call wake afterwards. done, when not nil, is a
// context's Done channel that also stops the wait.
func (w *waiter) await(strategy WaitStrategy, ctx context.Context, ready, stop func() bool) bool {
	done := ctx.Done()
	for i := 0; ; i++ {
		if ready() {
			return true
		}
		if strategy == BusySpin {
			if i%checkEvery == checkEvery-1 {
				if stop() || isDone(done) {
					return false
				}
				// With more spinners than Ps, a pure spin would hold its
				// P until the scheduler's 10 ms preemption; one yield per
				// round of checks bounds that at a few microseconds.
				runtime.Gosched()
			}
			continue
		}
		if stop() || isDone(done) {
			return false
		}
		switch {
		case i < spinTries:
		case i < spinTries+yieldTries || strategy == Yield:
			runtime.Gosched()
		default:
			return w.sleep(ctx, ready, stop)
		}
	}
}

// sleep blocks on the condition variable until ready or stop holds or ctx ends.
func (w *waiter) sleep(ctx context.Context, ready, stop func() bool) bool {
	done := ctx.Done()
	if done != nil {
		// Only a cancellable context costs the registration (and its
		// allocation); the wake-up takes the mutex so it cannot slip in
		// between the sleeper's last check and its cond.Wait.
		unregister := context.AfterFunc(ctx, func() {
			w.mu.Lock()
			w.cond.Broadcast()
			w.mu.Unlock()
		})
		defer unregister()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sleepers.Add(1)
	defer w.sleepers.Add(-1)
	for {
		if ready() {
			return true
		}
		if stop() || isDone(done) {
			return false
		}
		w.cond.Wait()
	}
}

func isDone(done <-chan struct{}) bool {
	if done == nil {
		return false
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}
