package sequencer

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
)

// Ring errors.
var (
	// ErrRingSize: the size given to NewRing is not a power of two in [1, MaxRingSize].
	ErrRingSize = errors.New("sequencer: ring size must be a power of two")
	// ErrClaim: a claim of fewer than one or more than Cap slots.
	ErrClaim = errors.New("sequencer: claim size out of range")
	// ErrRelease: a release outside what the consumer was handed by Wait.
	ErrRelease = errors.New("sequencer: release out of range")
	// ErrFull: TryClaim found too few free slots.
	ErrFull = errors.New("sequencer: ring full")
	// ErrStarted: a consumer added after the first claim.
	ErrStarted = errors.New("sequencer: ring already started")
	// ErrForeign: a consumer dependency that belongs to another ring.
	ErrForeign = errors.New("sequencer: consumer belongs to another ring")
	// ErrInvalidOption: an option value out of range.
	ErrInvalidOption = errors.New("sequencer: invalid option")
)

// MaxRingSize is the largest slot count NewRing accepts.
const MaxRingSize = 1 << 30

// cacheLine is the padding unit between hot atomics; 128 bytes covers the
// adjacent-line prefetcher of x86 and the 128-byte lines of some arm64 cores
// (the same choice as sync.Pool).
const cacheLine = 128

// RingOption configures NewRing.
type RingOption func(*ringConfig)

type ringConfig struct {
	multi bool
	wait  WaitStrategy
}

// WithMultiProducer lets many goroutines call Claim, Publish and Put at once:
// slots are claimed with one atomic add and each slot carries a publication
// flag. Without it the ring is single-producer: one goroutine at a time owns
// the producer side, which makes a claim a plain add and a publish one store.
func WithMultiProducer() RingOption { return func(c *ringConfig) { c.multi = true } }

// WithWait selects how producers and consumers wait (default Block).
func WithWait(w WaitStrategy) RingOption { return func(c *ringConfig) { c.wait = w } }

// Ring is a bounded, pre-allocated ring buffer in the style of the LMAX
// Disruptor: producers claim slots, fill them in place and publish them;
// consumers read published slots in sequence order, in batches, and release
// them; a consumer may depend on other consumers, forming a pipeline in which
// every event passes each stage in order. Sequences start at 0 and never wrap
// (2^64 events).
//
// Concurrency: Claim, Slot, Publish and Put form the producer side; with
// WithMultiProducer it is safe for concurrent use, otherwise one goroutine at
// a time must use it. Each Consumer belongs to one goroutine at a time.
// Close and Cap are safe from any goroutine. The hot paths take no lock.
//
// The zero value is not usable; call NewRing.
type Ring[T any] struct {
	_ [cacheLine]byte
	// cursor: single producer, the count of published events (every
	// sequence below it is readable); multi producer, the count of claimed
	// events (publication is then per slot, in published).
	cursor atomic.Uint64
	_      [cacheLine - 8]byte
	// gate caches the slowest gating consumer's position, so that a
	// producer reads the consumers' cursors only when the ring looks full.
	gate atomic.Uint64
	_    [cacheLine - 8]byte
	// next is the single producer's next sequence to claim (producer-owned).
	next uint64
	_    [cacheLine - 8]byte

	buf       []T
	published []atomic.Uint32 // multi producer: round+1 of the last publication per slot
	mask      uint64
	shift     uint
	multi     bool
	strategy  WaitStrategy

	started   atomic.Bool
	closed    atomic.Bool
	mu        sync.Mutex // guards consumers until started
	consumers []*Consumer[T]
	gating    []*Consumer[T] // consumers no other consumer depends on; fixed once started
	waiter    waiter
}

// NewRing returns a ring with size slots, which must be a power of two
// between 1 and MaxRingSize (ErrRingSize otherwise). All slots are allocated
// up front: O(size) memory, no allocation afterwards.
func NewRing[T any](size int, opts ...RingOption) (*Ring[T], error) {
	if size < 1 || size > MaxRingSize || size&(size-1) != 0 {
		return nil, fmt.Errorf("%w: got %d", ErrRingSize, size)
	}
	var cfg ringConfig
	for _, o := range opts {
		o(&cfg)
	}
	if !cfg.wait.valid() {
		return nil, fmt.Errorf("%w: wait strategy %d", ErrInvalidOption, cfg.wait)
	}
	r := &Ring[T]{
		buf:      make([]T, size),
		mask:     uint64(size - 1),
		shift:    uint(bits.TrailingZeros(uint(size))),
		multi:    cfg.multi,
		strategy: cfg.wait,
	}
	if cfg.multi {
		r.published = make([]atomic.Uint32, size)
	}
	r.waiter.init()
	return r, nil
}

// Cap returns the number of slots.
func (r *Ring[T]) Cap() int { return len(r.buf) }

// NewConsumer adds a consumer that reads every published event after each of
// deps has released it (with no deps, as soon as it is published). Consumers
// must be added before the first Claim (ErrStarted otherwise); producers then
// wait for the slowest consumer that no other consumer depends on. A ring
// without consumers never makes its producers wait.
func (r *Ring[T]) NewConsumer(deps ...*Consumer[T]) (*Consumer[T], error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started.Load() {
		return nil, ErrStarted
	}
	for _, d := range deps {
		if d == nil || d.r != r {
			return nil, ErrForeign
		}
	}
	c := &Consumer[T]{r: r, deps: append([]*Consumer[T](nil), deps...)}
	r.consumers = append(r.consumers, c)
	return c, nil
}

// start freezes the consumer set on the first claim.
func (r *Ring[T]) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started.Load() {
		return
	}
	depended := make(map[*Consumer[T]]bool)
	for _, c := range r.consumers {
		for _, d := range c.deps {
			depended[d] = true
		}
	}
	for _, c := range r.consumers {
		if !depended[c] {
			r.gating = append(r.gating, c)
		}
	}
	r.started.Store(true)
}

// Claim reserves n consecutive slots, [first, first+n), waiting under the
// wait strategy while the ring is full. The caller fills them through Slot
// and must then Publish them; with a single producer, claims are published in
// claim order. Errors: ErrClaim for n outside [1, Cap], ErrClosed once the
// ring is closed. Cost: O(1) when the ring has room.
func (r *Ring[T]) Claim(n int) (first uint64, err error) {
	if err := r.canClaim(n); err != nil {
		return 0, err
	}
	var end uint64
	if r.multi {
		end = r.cursor.Add(uint64(n))
		first = end - uint64(n)
	} else {
		first = r.next
		end = first + uint64(n)
	}
	if end > r.gate.Load()+uint64(len(r.buf)) {
		if !r.waitForRoom(end) {
			return 0, ErrClosed
		}
	}
	if !r.multi {
		r.next = end
	}
	return first, nil
}

// TryClaim is Claim without waiting: it returns ErrFull when the ring lacks n
// free slots.
func (r *Ring[T]) TryClaim(n int) (first uint64, err error) {
	if err := r.canClaim(n); err != nil {
		return 0, err
	}
	size := uint64(len(r.buf))
	for {
		if r.multi {
			first = r.cursor.Load()
		} else {
			first = r.next
		}
		end := first + uint64(n)
		if end > r.gate.Load()+size {
			g := r.minGating(end - size)
			r.gate.Store(g)
			if end > g+size {
				return 0, ErrFull
			}
		}
		if !r.multi {
			r.next = end
			return first, nil
		}
		if r.cursor.CompareAndSwap(first, end) {
			return first, nil
		}
	}
}

// canClaim checks a claim of n slots and freezes the consumer set on the
// first one.
func (r *Ring[T]) canClaim(n int) error {
	if n < 1 || n > len(r.buf) {
		return fmt.Errorf("%w: %d of %d", ErrClaim, n, len(r.buf))
	}
	if !r.started.Load() {
		r.start()
	}
	if r.closed.Load() {
		return ErrClosed
	}
	return nil
}

// waitForRoom waits until the slowest gating consumer has released enough
// slots for sequences below end to be written, or the ring closes.
func (r *Ring[T]) waitForRoom(end uint64) bool {
	size := uint64(len(r.buf))
	ready := func() bool {
		g := r.minGating(end - size)
		r.gate.Store(g)
		return end <= g+size
	}
	return r.waiter.await(r.strategy, context.Background(), ready, r.closed.Load)
}

// minGating returns the lowest position among the gating consumers, or
// ceiling when there are none (or all are past it).
func (r *Ring[T]) minGating(ceiling uint64) uint64 {
	m := ceiling
	for _, c := range r.gating {
		if p := c.pos.Load(); p < m {
			m = p
		}
	}
	return m
}

// Slot returns the slot of sequence seq. A producer writes only the slots it
// has claimed and not yet published; a consumer reads only sequences below
// what Wait returned and at or above its own position.
func (r *Ring[T]) Slot(seq uint64) *T { return &r.buf[seq&r.mask] }

// Publish makes the n slots claimed at first visible to consumers. Cost: O(1)
// with a single producer, O(n) with many.
func (r *Ring[T]) Publish(first uint64, n int) {
	if r.multi {
		for s := first; s < first+uint64(n); s++ {
			r.published[s&r.mask].Store(uint32(s>>r.shift) + 1)
		}
	} else {
		r.cursor.Store(first + uint64(n))
	}
	if r.strategy == Block {
		r.waiter.wake()
	}
}

// Put claims one slot, copies v into it and publishes it.
func (r *Ring[T]) Put(v T) error {
	seq, err := r.Claim(1)
	if err != nil {
		return err
	}
	r.buf[seq&r.mask] = v
	r.Publish(seq, 1)
	return nil
}

// Close stops the ring: later and waiting claims fail with ErrClosed, and
// consumers return ErrClosed once they have read everything published before
// Close. Producers should stop before Close; an event published concurrently
// with Close may go unread. Close is idempotent.
func (r *Ring[T]) Close() {
	r.closed.Store(true)
	r.waiter.wake()
}

// available returns the exclusive upper bound of the contiguous published
// sequences starting at from.
func (r *Ring[T]) available(from uint64) uint64 {
	if !r.multi {
		return r.cursor.Load()
	}
	claimed := r.cursor.Load()
	for from < claimed && r.published[from&r.mask].Load() == uint32(from>>r.shift)+1 {
		from++
	}
	return from
}
