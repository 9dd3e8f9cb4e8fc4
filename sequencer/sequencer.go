package sequencer

import (
	"context"
	"encoding/binary"
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
	// MaxBatch bounds the events of one journal write (group commit), and
	// so of one SubmitBatch call.
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

// request is one Submit or SubmitBatch waiting for its journal write.
type request struct {
	source, sourceSeq uint64   // sourceSeq: of payloads[0]
	payloads          [][]byte // one entry for Submit (in one)
	one               [1][]byte
	seqs              []uint64 // the answer: one sequence per payload, appended to the caller's dst
	base              int      // len(seqs) before the answer
	seqBuf            [1]uint64
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
// Concurrency: Submit, SubmitBatch, LastSeq, Replay and Close are safe for
// concurrent use; one Run at a time. The sequencer must be the journal's
// only writer.
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
	evs      []Event // the accepted events of one journal write
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
// Each Submit waits for its own journal write, so a producer has one event
// in flight: under SyncAlways that is at most one event per producer per
// fsync. SubmitBatch carries many.
//
// Submit waits while Run lags RingSize events behind, so it must not be
// called from this sequencer's own handler.
func (s *Sequencer) Submit(source, sourceSeq uint64, payload []byte) (seq uint64, err error) {
	if len(payload) > s.opts.MaxPayload {
		return 0, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(payload), s.opts.MaxPayload)
	}
	r := requestPool.Get().(*request)
	r.one[0] = payload
	r.payloads, r.seqs = r.one[:], r.seqBuf[:0]
	r.source, r.sourceSeq = source, sourceSeq
	err = s.submit(r)
	if len(r.seqs) == 1 {
		seq = r.seqs[0]
	}
	r.one[0] = nil
	*r = request{done: r.done}
	requestPool.Put(r)
	return seq, err
}

// SubmitBatch sequences payloads[i] as command firstSourceSeq+i of source,
// all in one journal write: after a crash the journal holds either all of
// the batch's new events or none, and they get consecutive sequences. It
// appends one sequence per payload to dst and returns the extended slice, in
// the batch's order, once the journal holds them (with SyncAlways:
// fsynced). Concurrent submits share journal writes and fsyncs, so a
// producer that batches amortises a write (and an fsync) over the batch;
// this is the high-throughput path.
//
// The result is that of len(payloads) Submit calls in order, with one
// error for the batch:
//   - nil: every event was sequenced.
//   - ErrDuplicate: the batch starts with events sequenced before (a
//     retried batch); those are skipped (their entry is the original
//     sequence for the source's latest, else 0) and the rest, if any, was
//     sequenced. Either way the journal now holds the whole batch.
//   - ErrOutOfOrder: the first new event does not continue the source's
//     numbering (without Options.AllowGaps), firstSourceSeq is 0, or the
//     numbers would pass 2^64-1: no event of the batch was sequenced (the
//     entries of new events are 0).
//   - ErrTooLarge (a payload over MaxPayload, more than MaxBatch payloads,
//     or a batch that does not fit one journal frame), ErrClosed, ErrStopped:
//     nothing was sequenced; the entries are 0.
//
// The payloads are copied; the caller may reuse them when SubmitBatch
// returns. An empty batch returns dst and nil. Like Submit, it must not be
// called from this sequencer's own handler. Cost: O(total payload bytes),
// one map lookup for the batch.
func (s *Sequencer) SubmitBatch(source, firstSourceSeq uint64, payloads [][]byte, dst []uint64) ([]uint64, error) {
	n := len(payloads)
	if n == 0 {
		return dst, nil
	}
	base := len(dst)
	dst = slices.Grow(dst, n)[:base]
	fail := func(err error) ([]uint64, error) {
		return append(dst, make([]uint64, n)...), err
	}
	if n > s.opts.MaxBatch {
		return fail(fmt.Errorf("%w: batch of %d events, MaxBatch %d", ErrTooLarge, n, s.opts.MaxBatch))
	}
	var size int
	for i, p := range payloads {
		if len(p) > s.opts.MaxPayload {
			return fail(fmt.Errorf("%w: payload %d of batch: %d bytes, limit %d", ErrTooLarge, i, len(p), s.opts.MaxPayload))
		}
		size += len(p) + MaxEventHeader + binary.MaxVarintLen32
	}
	if size > wal.MaxFrameSize {
		return fail(fmt.Errorf("%w: batch of %d bytes", ErrTooLarge, size))
	}
	if firstSourceSeq == 0 {
		return fail(fmt.Errorf("%w: source %d: source sequences start at 1", ErrOutOfOrder, source))
	}
	if firstSourceSeq+uint64(n-1) < firstSourceSeq {
		return fail(fmt.Errorf("%w: source %d: batch of %d from %d passes 2^64-1", ErrOutOfOrder, source, n, firstSourceSeq))
	}
	r := requestPool.Get().(*request)
	r.source, r.sourceSeq, r.payloads = source, firstSourceSeq, payloads
	r.seqs, r.base = dst, base
	err := s.submit(r)
	dst = r.seqs
	*r = request{done: r.done}
	requestPool.Put(r)
	if len(dst) != base+n {
		return fail(err)
	}
	return dst, err
}

// submit queues r for the group commit and waits for its answer, leading the
// commit when no other submit does.
func (s *Sequencer) submit(r *request) (err error) {
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
		return err
	}
	if !lead {
		<-r.done // the answer, or the leadership
		lead = r.lead
	}
	if lead {
		s.lead()
		<-r.done // the leader answered its own request too
	}
	return r.err
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
// and maxBatchBytes (a request is never split; the first one always goes),
// publishes the accepted events, answers every request of the prefix and
// returns its length.
func (s *Sequencer) commit(reqs []*request) int {
	if err := s.failure(); err != nil {
		s.answer(reqs, err)
		return len(reqs)
	}
	// One stamp per journal write, never below the last journaled one.
	stamp := max(s.lastTime, s.opts.Clock().UnixNano())
	first := s.lastSeq.Load() + 1
	next := first
	s.arena, s.ends, s.records, s.evs = s.arena[:0], s.ends[:0], s.records[:0], s.evs[:0]
	n, events := 0, 0
	for ; n < len(reqs); n++ {
		r := reqs[n]
		size := len(r.payloads) * MaxEventHeader
		for _, p := range r.payloads {
			size += len(p)
		}
		events += len(r.payloads)
		// A request is never split: one that would overflow the write
		// starts the next one (SubmitBatch checked that it fits alone).
		if n > 0 && (events > s.opts.MaxBatch || len(s.arena)+size > maxBatchBytes) {
			break
		}
		from, k := s.admit(r, next)
		if k == 0 {
			continue
		}
		s.arena = slices.Grow(s.arena, size)
		s.ends = slices.Grow(s.ends, k)
		s.evs = slices.Grow(s.evs, k)
		for i, p := range r.payloads[from : from+k] {
			sourceSeq := r.sourceSeq + uint64(from+i)
			s.arena = appendEvent(s.arena, next, r.source, sourceSeq, stamp, p)
			s.ends = append(s.ends, len(s.arena))
			s.evs = append(s.evs, Event{Seq: next, Source: r.source, SourceSeq: sourceSeq, Time: stamp, Payload: p})
			next++
		}
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
		s.publish(s.evs)
		clear(s.evs) // the payloads belong to the callers
	}
	for _, r := range reqs[:n] {
		r.done <- struct{}{}
	}
	return n
}

// admit applies the exactly-once rules to r, whose first new event would get
// sequence next: it answers r's duplicates, records the accepted events in
// the dedupe state and returns them as payloads[from:from+k]. A batch is a
// prefix of duplicates followed by events that are either all accepted or,
// when the first of them is out of order, all refused.
func (s *Sequencer) admit(r *request, next uint64) (from, k int) {
	n := len(r.payloads)
	if r.sourceSeq == 0 {
		r.err = fmt.Errorf("%w: source %d: source sequences start at 1", ErrOutOfOrder, r.source)
		r.seqs = append(r.seqs, make([]uint64, n)...)
		return 0, 0
	}
	st := s.sources[r.source]
	// Duplicates: the numbers up to the source's latest.
	if r.sourceSeq <= st.last {
		from = int(min(st.last-r.sourceSeq+1, uint64(n)))
	}
	for i := range from {
		seq := uint64(0)
		if r.sourceSeq+uint64(i) == st.last {
			seq = st.seq
		}
		r.seqs = append(r.seqs, seq)
	}
	newSeq := r.sourceSeq + uint64(from)
	switch {
	case from == n:
		r.err = fmt.Errorf("%w: source %d seq %d (latest %d, seq %d)", ErrDuplicate, r.source, r.sourceSeq+uint64(n-1), st.last, st.seq)
		return from, 0
	case newSeq != st.last+1 && !s.opts.AllowGaps:
		r.err = fmt.Errorf("%w: source %d: got %d, want %d", ErrOutOfOrder, r.source, newSeq, st.last+1)
	}
	if r.err != nil {
		r.seqs = append(r.seqs, make([]uint64, n-from)...)
		return from, 0
	}
	k = n - from
	for i := range k {
		r.seqs = append(r.seqs, next+uint64(i))
	}
	s.sources[r.source] = sourceState{last: r.sourceSeq + uint64(n-1), seq: next + uint64(k-1)}
	if from > 0 {
		r.err = fmt.Errorf("%w: source %d: %d of %d events sequenced before", ErrDuplicate, r.source, from, n)
	}
	return from, k
}

// publish hands the journaled events to Run through the ring, waiting for
// room, copying each payload into its slot's buffer. After Close the ring
// refuses them: they stay in the journal, for Replay.
func (s *Sequencer) publish(evs []Event) {
	for len(evs) > 0 {
		n := min(len(evs), s.ring.Cap())
		seq, err := s.ring.Claim(n)
		if err != nil {
			return
		}
		for i, ev := range evs[:n] {
			sl := s.ring.Slot(seq + uint64(i))
			if cap(sl.buf) < len(ev.Payload) || cap(sl.buf) > maxSlotBuf {
				sl.buf = make([]byte, 0, len(ev.Payload))
			}
			sl.buf = append(sl.buf[:0], ev.Payload...)
			ev.Payload = sl.buf
			sl.ev = ev
		}
		s.ring.Publish(seq, n)
		evs = evs[n:]
	}
}

// answer fails every request of reqs with err.
func (s *Sequencer) answer(reqs []*request, err error) {
	for _, r := range reqs {
		r.seqs, r.err = r.seqs[:r.base], err
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
