package sequencer

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sysblocks/sysblocks/wal"
)

// Sequencer errors. Errors returned by the package wrap one of these (or one
// of the ring errors) with context; match them with errors.Is.
var (
	// ErrClosed: the ring or the sequencer is closed.
	ErrClosed = errors.New("sequencer: closed")
	// ErrDuplicate: the (Source, SourceSeq) pair was sequenced before.
	ErrDuplicate = errors.New("sequencer: duplicate submission")
	// ErrOutOfOrder: a SourceSeq that skips ahead of the source's next
	// number (or is 0) without Options.AllowGaps.
	ErrOutOfOrder = errors.New("sequencer: source sequence out of order")
	// ErrTooLarge: a payload longer than Options.MaxPayload.
	ErrTooLarge = errors.New("sequencer: payload too large")
	// ErrStopped: the sequencer stopped after a journal write failed or the
	// handler of Run returned an error; the wrapped error says which.
	ErrStopped = errors.New("sequencer: stopped")
	// ErrRunning: Run called while another Run is active.
	ErrRunning = errors.New("sequencer: Run already active")
	// ErrRange: Replay from a sequence past LastSeq()+1.
	ErrRange = errors.New("sequencer: sequence out of range")
	// ErrAffinity: the loop thread could not be bound to Options.Affinity.
	ErrAffinity = errors.New("sequencer: cannot set CPU affinity")
)

// Defaults and limits of Options.
const (
	DefaultRingSize   = 1 << 14
	DefaultMaxBatch   = 4096
	DefaultMaxPayload = 1 << 20
	// MaxPayload bounds Options.MaxPayload so that an encoded event fits
	// the journal's default record limit.
	MaxPayload = wal.DefaultMaxRecordSize - MaxEventHeader
	// maxBatchBytes closes a journal write early once its records reach
	// this size, keeping one frame (and one latency spike) bounded.
	maxBatchBytes = 4 << 20
	// maxSlotBuf: a ring slot keeps its payload buffer for reuse up to this
	// capacity; larger payloads get a buffer of their own, dropped on reuse.
	maxSlotBuf = 64 << 10
	// maxCPU bounds Options.Affinity (the size of the affinity mask).
	maxCPU = 1024
)

// Options configure a Sequencer. The zero value is ready to use: strict
// per-source numbering, a 16 Ki-slot ring, up to 4096 events per journal
// write, 1 MiB payloads, the Block wait strategy, time.Now and no pinning.
// Open copies the struct; the caller's value is never modified.
type Options struct {
	// AllowGaps accepts a SourceSeq that skips ahead; the numbers skipped
	// can then never be sequenced (they count as duplicates).
	AllowGaps bool
	// RingSize is the number of slots between the journal writes and Run
	// (a power of two). Submit waits when Run falls this far behind.
	RingSize int
	// MaxBatch bounds the events of one journal write (group commit).
	MaxBatch int
	// MaxPayload bounds Submit's payload (at most MaxPayload). The journal's
	// MaxRecordSize must be at least MaxPayload + MaxEventHeader.
	MaxPayload int
	// Wait selects how Run waits for events (and the writer for ring room).
	Wait WaitStrategy
	// Clock stamps Event.Time, once per journal write (default time.Now).
	// Stamps never decrease, even if the clock steps back.
	Clock func() time.Time
	// LockThread runs Run's loop on a goroutine locked to its own OS
	// thread (runtime.LockOSThread), so the thread never serves other
	// goroutines.
	LockThread bool
	// Affinity additionally binds that thread to these CPUs (implies
	// LockThread). Linux only: elsewhere Run fails with ErrAffinity
	// wrapping errors.ErrUnsupported. The thread is discarded when Run
	// returns, so its affinity never leaks to other goroutines.
	Affinity []int
}

func (o Options) withDefaults() (Options, error) {
	if o.RingSize == 0 {
		o.RingSize = DefaultRingSize
	}
	if o.RingSize < 1 || o.RingSize > MaxRingSize || o.RingSize&(o.RingSize-1) != 0 {
		return o, fmt.Errorf("%w: RingSize %d", ErrRingSize, o.RingSize)
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.MaxBatch < 0 {
		return o, fmt.Errorf("%w: MaxBatch %d", ErrInvalidOption, o.MaxBatch)
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = DefaultMaxPayload
	}
	if o.MaxPayload < 0 || o.MaxPayload > MaxPayload {
		return o, fmt.Errorf("%w: MaxPayload %d not in [1, %d]", ErrInvalidOption, o.MaxPayload, MaxPayload)
	}
	if !o.Wait.valid() {
		return o, fmt.Errorf("%w: wait strategy %d", ErrInvalidOption, o.Wait)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	for _, cpu := range o.Affinity {
		if cpu < 0 || cpu >= maxCPU {
			return o, fmt.Errorf("%w: CPU %d in Affinity", ErrInvalidOption, cpu)
		}
	}
	o.Affinity = slices.Clone(o.Affinity)
	return o, nil
}

// slot is a ring entry: the event and the buffer its payload lives in.
type slot struct {
	ev  Event
	buf []byte
}

// request is one Submit waiting for its journal write.
type request struct {
	source, sourceSeq uint64
	payload           []byte
	seq               uint64
	err               error
	lead              bool          // set with the token that makes this Submit the leader
	done              chan struct{} // the answer or the leadership (capacity 1)
}

var requestPool = sync.Pool{New: func() any { return &request{done: make(chan struct{}, 1)} }}

// sourceState is the dedupe state of one source: its latest SourceSeq and
// the Seq that event got.
type sourceState struct{ last, seq uint64 }

// Sequencer stamps submitted commands with a gap-free global sequence,
// persists them in a wal.Log (one record per event, group-committed) and only
// then hands them, in sequence order, to a single-threaded loop (Run) through
// a Ring. Replay re-reads the journal with the original numbers.
//
// Concurrency: Submit, LastSeq, Replay and Close are safe for concurrent use;
// one Run at a time. The sequencer must be the journal's only writer.
type Sequencer struct {
	journal *wal.Log
	opts    Options
	ring    *Ring[slot]
	reader  *Consumer[slot]
	lastSeq atomic.Uint64
	running atomic.Bool

	mu      sync.Mutex
	pending []*request
	leading bool      // a Submit is the leader: it writes the journal
	idle    sync.Cond // signalled when leading turns false
	closed  bool
	err     error // sticky: every later Submit fails with it
	loopErr error // sticky: every later Run fails with it

	// Owned by the leader (handed from leader to leader under mu).
	spare    []*request
	sources  map[uint64]sourceState
	lastTime int64
	records  [][]byte
	ends     []int
	arena    []byte
}

// Open starts a sequencer on journal, which it does not own: Close leaves it
// open. It reads the whole journal once to rebuild LastSeq, the per-source
// dedupe state and the clock floor; events already there are delivered only
// by Replay, never by Run. Event n lives at journal offset n-1, so a journal
// must be dedicated to one sequencer; a record that does not decode, or sits
// at the wrong offset, fails Open with ErrCorrupt.
// Cost: O(journal size) at Open; the sequencer starts no goroutine.
func Open(journal *wal.Log, opts Options) (*Sequencer, error) {
	if journal == nil {
		return nil, fmt.Errorf("%w: nil journal", ErrInvalidOption)
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	ring, err := NewRing[slot](o.RingSize, WithWait(o.Wait))
	if err != nil {
		return nil, err
	}
	reader, err := ring.NewConsumer()
	if err != nil {
		return nil, err
	}
	s := &Sequencer{
		journal: journal,
		opts:    o,
		ring:    ring,
		reader:  reader,
		sources: make(map[uint64]sourceState),
	}
	s.idle.L = &s.mu
	if err := s.recover(); err != nil {
		return nil, err
	}
	return s, nil
}

// recover rebuilds the state from the journal.
func (s *Sequencer) recover() error {
	end := s.journal.NextOffset()
	rd := s.journal.NewReader(s.journal.FirstOffset())
	for rd.Offset() < end {
		rec, err := rd.Next()
		if err != nil {
			// io.EOF included: the journal ended before the NextOffset it
			// reported, so the dedupe state would be incomplete.
			return fmt.Errorf("sequencer: reading journal at offset %d of %d: %w", rd.Offset(), end, err)
		}
		ev, err := decodeAt(rec)
		if err != nil {
			return err
		}
		s.sources[ev.Source] = sourceState{last: ev.SourceSeq, seq: ev.Seq}
		s.lastTime = max(s.lastTime, ev.Time)
	}
	s.lastSeq.Store(end)
	return nil
}

// decodeAt decodes a journal record and checks that it holds event
// Offset+1.
func decodeAt(rec wal.Record) (Event, error) {
	ev, err := DecodeEvent(rec.Data)
	if err != nil {
		return Event{}, fmt.Errorf("journal offset %d: %w", rec.Offset, err)
	}
	if ev.Seq != rec.Offset+1 {
		return Event{}, fmt.Errorf("%w: journal offset %d holds seq %d", ErrCorrupt, rec.Offset, ev.Seq)
	}
	return ev, nil
}

// LastSeq returns the sequence of the last event the journal holds (0 when
// none). Cost: O(1), lock-free.
func (s *Sequencer) LastSeq() uint64 { return s.lastSeq.Load() }

// Submit sequences one command from source, numbered sourceSeq by that
// source (1, 2, 3, …), and returns its global sequence once the journal holds
// it under the journal's sync policy (with SyncAlways: fsynced). Concurrent
// submits share one journal write and one fsync (group commit). The event
// reaches Run only after that write.
//
// A (source, sourceSeq) sequenced before is not sequenced again: Submit
// returns ErrDuplicate with the original sequence when sourceSeq is the
// source's latest, with 0 when it is older. A sourceSeq that skips ahead is
// ErrOutOfOrder unless Options.AllowGaps. Other errors: ErrTooLarge,
// ErrClosed, ErrStopped (after a journal failure or a failed handler).
// payload is copied; the caller may reuse it when Submit returns.
//
// Submit waits while Run lags RingSize events behind, so it must not be
// called from this sequencer's own handler.
func (s *Sequencer) Submit(source, sourceSeq uint64, payload []byte) (seq uint64, err error) {
	if len(payload) > s.opts.MaxPayload {
		return 0, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(payload), s.opts.MaxPayload)
	}
	r := requestPool.Get().(*request)
	r.source, r.sourceSeq, r.payload = source, sourceSeq, payload
	s.mu.Lock()
	switch {
	case s.closed:
		err = ErrClosed
	case s.err != nil:
		err = s.err
	default:
		s.pending = append(s.pending, r)
	}
	lead := err == nil && !s.leading
	if lead {
		s.leading = true
	}
	s.mu.Unlock()
	if err != nil {
		r.payload = nil
		requestPool.Put(r)
		return 0, err
	}
	if !lead {
		<-r.done // the answer, or the leadership
		lead = r.lead
	}
	if lead {
		s.lead()
		<-r.done // the leader answered its own request too
	}
	seq, err = r.seq, r.err
	*r = request{done: r.done}
	requestPool.Put(r)
	return seq, err
}

// lead is the group commit, run by one Submit at a time (the leader): it
// takes every pending submit, journals them in as few writes as the limits
// allow, publishes and answers them, then hands the leadership to the oldest
// submit that queued meanwhile, or ends it. No goroutine of its own: a lone
// producer writes its own event without a hand-off, and under load each
// write carries everything that queued during the previous one.
func (s *Sequencer) lead() {
	s.mu.Lock()
	for len(s.pending) > 0 {
		batch := s.pending
		s.pending = s.spare[:0]
		s.mu.Unlock()
		for reqs := batch; len(reqs) > 0; {
			reqs = reqs[s.commit(reqs):]
		}
		clear(batch)
		s.mu.Lock()
		s.spare = batch[:0]
		if len(s.pending) > 0 {
			next := s.pending[0]
			next.lead = true
			s.mu.Unlock()
			next.done <- struct{}{}
			return
		}
	}
	s.leading = false
	s.idle.Broadcast()
	s.mu.Unlock()
}

// commit journals a prefix of reqs as one batch, bounded by MaxBatch events
// and maxBatchBytes, publishes the accepted events, answers every request of
// the prefix and returns its length.
func (s *Sequencer) commit(reqs []*request) int {
	if err := s.failure(); err != nil {
		s.answer(reqs, err)
		return len(reqs)
	}
	// One stamp per journal write, never below the last journaled one.
	stamp := max(s.lastTime, s.opts.Clock().UnixNano())
	first := s.lastSeq.Load() + 1
	next := first
	s.arena, s.ends, s.records = s.arena[:0], s.ends[:0], s.records[:0]
	n := 0
	for ; n < len(reqs) && len(s.ends) < s.opts.MaxBatch && len(s.arena) < maxBatchBytes; n++ {
		r := reqs[n]
		r.seq, r.err = s.admit(r, next)
		if r.err != nil {
			continue
		}
		s.arena = AppendEvent(s.arena, Event{Seq: next, Source: r.source, SourceSeq: r.sourceSeq, Time: stamp, Payload: r.payload})
		s.ends = append(s.ends, len(s.arena))
		next++
	}
	if len(s.ends) > 0 {
		start := 0
		for _, end := range s.ends {
			s.records = append(s.records, s.arena[start:end])
			start = end
		}
		off, err := s.journal.AppendBatch(s.records)
		if err == nil && off != first-1 {
			err = fmt.Errorf("%w: journal assigned offset %d to seq %d (another writer?)", ErrCorrupt, off, first)
		}
		if err != nil {
			err = s.fail(fmt.Errorf("%w: journal write: %w", ErrStopped, err))
			s.answer(reqs[:n], err)
			return n
		}
		s.lastSeq.Store(next - 1)
		s.lastTime = stamp
		s.publish(reqs[:n])
	}
	for _, r := range reqs[:n] {
		r.done <- struct{}{}
	}
	return n
}

// admit applies the exactly-once rules to r, which would get sequence next,
// and records it in the dedupe state when accepted.
func (s *Sequencer) admit(r *request, next uint64) (uint64, error) {
	st := s.sources[r.source]
	switch {
	case r.sourceSeq == 0:
		return 0, fmt.Errorf("%w: source %d: source sequences start at 1", ErrOutOfOrder, r.source)
	case r.sourceSeq == st.last:
		return st.seq, fmt.Errorf("%w: source %d seq %d is seq %d", ErrDuplicate, r.source, r.sourceSeq, st.seq)
	case r.sourceSeq < st.last:
		return 0, fmt.Errorf("%w: source %d seq %d (latest %d)", ErrDuplicate, r.source, r.sourceSeq, st.last)
	case r.sourceSeq != st.last+1 && !s.opts.AllowGaps:
		return 0, fmt.Errorf("%w: source %d: got %d, want %d", ErrOutOfOrder, r.source, r.sourceSeq, st.last+1)
	}
	s.sources[r.source] = sourceState{last: r.sourceSeq, seq: next}
	return next, nil
}

// publish hands the accepted requests' events to Run through the ring,
// waiting for room. After Close the ring refuses them: they stay in the
// journal, for Replay.
func (s *Sequencer) publish(reqs []*request) {
	for len(reqs) > 0 {
		n := 0
		for _, r := range reqs {
			if r.err == nil {
				n++
			}
		}
		if n == 0 {
			return
		}
		n = min(n, s.ring.Cap())
		seq, err := s.ring.Claim(n)
		if err != nil {
			return
		}
		for i := 0; i < n; reqs = reqs[1:] {
			r := reqs[0]
			if r.err != nil {
				continue
			}
			sl := s.ring.Slot(seq + uint64(i))
			if cap(sl.buf) < len(r.payload) || cap(sl.buf) > maxSlotBuf {
				sl.buf = make([]byte, 0, len(r.payload))
			}
			sl.buf = append(sl.buf[:0], r.payload...)
			sl.ev = Event{Seq: r.seq, Source: r.source, SourceSeq: r.sourceSeq, Time: s.lastTime, Payload: sl.buf}
			i++
		}
		s.ring.Publish(seq, n)
	}
}

// answer fails every request of reqs with err.
func (s *Sequencer) answer(reqs []*request, err error) {
	for _, r := range reqs {
		r.seq, r.err = 0, err
		r.done <- struct{}{}
	}
}

// fail records the first fatal error, stops the ring and returns the error
// that now stands.
func (s *Sequencer) fail(err error) error {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	err = s.err
	s.mu.Unlock()
	s.ring.Close()
	return err
}

func (s *Sequencer) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Run is the single-threaded business loop: it calls handle with every event
// submitted through this sequencer, in sequence order, each after its journal
// write. Event.Payload is valid only during the call. A handler error stops
// the loop for good: Run returns it wrapped in ErrStopped (with the event's
// sequence), no later event is delivered, and later Submit and Run calls
// fail with it. Run returns ctx.Err() when ctx ends (a later Run resumes
// where it stopped) and ErrClosed after Close once every published event was
// delivered. One Run at a time (ErrRunning). With Options.LockThread or
// Affinity the loop runs on a dedicated OS thread.
func (s *Sequencer) Run(ctx context.Context, handle func(Event) error) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer s.running.Store(false)
	if !s.opts.LockThread && len(s.opts.Affinity) == 0 {
		return s.loop(ctx, handle)
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if len(s.opts.Affinity) == 0 {
			defer runtime.UnlockOSThread()
		} else if err := setAffinity(s.opts.Affinity); err != nil {
			// The goroutine exits still locked: the runtime then ends the
			// thread, whatever its affinity became.
			errc <- fmt.Errorf("%w %v: %w", ErrAffinity, s.opts.Affinity, err)
			return
		}
		errc <- s.loop(ctx, handle)
	}()
	return <-errc
}

func (s *Sequencer) loop(ctx context.Context, handle func(Event) error) error {
	s.mu.Lock()
	err := s.loopErr
	s.mu.Unlock()
	if err != nil {
		return err
	}
	c := s.reader
	for {
		upper, err := c.Wait(ctx)
		if err != nil {
			if errors.Is(err, ErrClosed) {
				if ferr := s.failure(); ferr != nil {
					return ferr
				}
			}
			return err
		}
		for seq := c.Position(); seq < upper; seq++ {
			ev := s.ring.Slot(seq).ev
			if herr := handle(ev); herr != nil {
				_ = c.Release(seq)
				err := fmt.Errorf("%w: handler failed at seq %d: %w", ErrStopped, ev.Seq, herr)
				s.mu.Lock()
				s.loopErr = err
				s.mu.Unlock()
				return s.fail(err)
			}
		}
		_ = c.Release(upper)
	}
}

// Replay calls handle with the journal's events from sequence from (0 and 1
// both mean the first) through LastSeq() as of the call, with their original
// numbers, times and payloads, stopping at the first handler error (returned
// as is). Event.Payload is valid only during the call. It reads the journal,
// not the ring, so it is safe concurrently with Submit and Run, and still
// works after Close while the journal is open. Errors: ErrRange when from >
// LastSeq()+1; wal.ErrTruncated when the journal no longer holds from;
// ErrCorrupt. Cost: one sequential journal read, no allocation per event.
func (s *Sequencer) Replay(from uint64, handle func(Event) error) error {
	last := s.lastSeq.Load()
	from = max(from, 1)
	if from > last+1 {
		return fmt.Errorf("%w: replay from %d, last seq %d", ErrRange, from, last)
	}
	rd := s.journal.NewReader(from - 1)
	for seq := from; seq <= last; seq++ {
		rec, err := rd.Next()
		if err != nil {
			return fmt.Errorf("sequencer: replay at seq %d: %w", seq, err)
		}
		ev, err := decodeAt(rec)
		if err != nil {
			return err
		}
		if err := handle(ev); err != nil {
			return err
		}
	}
	return nil
}

// Close stops the sequencer and leaves the journal open. Submits in flight
// either reach the journal (and succeed) or fail with ErrClosed; later calls
// fail with ErrClosed. Close returns once the submits in flight are answered.
// A running Run delivers what was already handed to it and returns
// ErrClosed; events journaled but not delivered are available to Replay.
// Close is idempotent and always returns nil.
func (s *Sequencer) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	// First the ring, so that a leader waiting for ring room moves on.
	s.ring.Close()
	s.mu.Lock()
	for s.leading {
		s.idle.Wait()
	}
	s.mu.Unlock()
	return nil
}
