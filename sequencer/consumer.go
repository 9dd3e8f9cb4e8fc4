package sequencer

import (
	"context"
	"fmt"
	"sync/atomic"
)

// Consumer reads a Ring's events in sequence order. Its position is the next
// sequence it will read; everything below has been released to the stages
// that depend on it and, for the last stage, back to the producers.
//
// Concurrency: a Consumer belongs to one goroutine at a time; Position is
// safe from any goroutine.
type Consumer[T any] struct {
	_   [cacheLine]byte
	pos atomic.Uint64
	_   [cacheLine - 8]byte

	r    *Ring[T]
	deps []*Consumer[T]
	// handed is the upper bound last returned by Wait (consumer-owned): the
	// limit for Release.
	handed uint64
}

// Position returns the next sequence the consumer will read.
func (c *Consumer[T]) Position() uint64 { return c.pos.Load() }

// upstream returns the exclusive upper bound of what this consumer may read.
func (c *Consumer[T]) upstream(from uint64) uint64 {
	if len(c.deps) == 0 {
		return c.r.available(from)
	}
	m := c.deps[0].pos.Load()
	for _, d := range c.deps[1:] {
		if p := d.pos.Load(); p < m {
			m = p
		}
	}
	return m
}

// Wait blocks, under the ring's wait strategy, until at least one event past
// Position is readable and returns the exclusive upper bound of the readable
// range: the slots [Position, upper) may be read through Ring.Slot and are
// then released with Release. It returns ErrClosed once the ring is closed and
// everything published has been read, or ctx.Err() when ctx ends first.
// Cost: O(1) when events are waiting (O(batch) with many producers).
func (c *Consumer[T]) Wait(ctx context.Context) (upper uint64, err error) {
	pos := c.pos.Load()
	if up := c.upstream(pos); up > pos {
		c.handed = up
		return up, nil
	}
	var up uint64
	ready := func() bool {
		// The closed flag is read before the cursors: when a close is seen,
		// everything published before it is visible in the same pass. A
		// pipeline stage is drained only when the producers' cursor, not
		// just its upstream stage, has nothing more for it.
		closed := c.r.closed.Load()
		up = c.upstream(pos)
		return up > pos || closed && c.r.available(pos) <= pos
	}
	if !c.r.waiter.await(c.r.strategy, ctx, ready, func() bool { return false }) {
		return pos, ctx.Err()
	}
	if up > pos {
		c.handed = up
		return up, nil
	}
	return pos, ErrClosed
}

// Release marks every sequence below upper as done, handing those slots on
// to dependent consumers and producers. upper must lie between Position and
// the last value returned by Wait (ErrRelease otherwise); releasing part of a
// batch is allowed.
func (c *Consumer[T]) Release(upper uint64) error {
	if upper < c.pos.Load() || upper > c.handed {
		return fmt.Errorf("%w: %d not in [%d, %d]", ErrRelease, upper, c.pos.Load(), c.handed)
	}
	c.pos.Store(upper)
	if c.r.strategy == Block {
		c.r.waiter.wake()
	}
	return nil
}

// Consume runs the consumer loop: it waits for events and hands them to fn in
// batches of consecutive slots, first being the sequence of batch[0]. A batch
// never crosses the end of the ring's buffer, so one Wait may yield two
// calls. fn may modify the slots in place (for later pipeline stages); the
// slice is only valid during the call. Each batch is released when fn returns
// nil. Consume returns fn's first error (its batch stays unreleased),
// ErrClosed after the ring closes and drains, or ctx.Err().
func (c *Consumer[T]) Consume(ctx context.Context, fn func(first uint64, batch []T) error) error {
	r := c.r
	for {
		upper, err := c.Wait(ctx)
		if err != nil {
			return err
		}
		pos := c.pos.Load()
		for pos < upper {
			i := pos & r.mask
			end := min(upper, pos+uint64(len(r.buf))-i)
			if err := fn(pos, r.buf[i:i+(end-pos)]); err != nil {
				return err
			}
			pos = end
			c.pos.Store(pos)
			if r.strategy == Block {
				r.waiter.wake()
			}
		}
	}
}
