package exchange

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sysblocks/sysblocks/ledger"
	"github.com/sysblocks/sysblocks/sequencer"
	"github.com/sysblocks/sysblocks/wal"
)

// ErrStopped is returned by Submit once the exchange is closed or its
// state machine stopped on an error.
var ErrStopped = errors.New("exchange: stopped")

// Options configure an Exchange. The zero value is valid: the default
// Config, an fsynced journal (wal.SyncAlways), 256 gateway sessions and the
// wall clock.
type Options struct {
	Config   Config
	Sync     wal.SyncPolicy   // journal durability (default SyncAlways: group-committed fsync)
	Sessions int              // gateway sessions: how many commands may be in flight at once
	Clock    func() time.Time // the sequencer's clock, the state machine's only time source
	// CheckEvery, if positive, runs State.Check in the application loop
	// after every CheckEvery commands; a broken invariant stops the exchange
	// (fail-stop). It costs O(accounts × symbols) per check.
	CheckEvery int
}

// session is one gateway connection to the inbound sequencer: a source id,
// its own command counter (exactly-once numbering) and the channel its acks
// come back on. A session carries one command at a time.
type session struct {
	id    uint64
	next  uint64
	buf   []byte
	reply chan Ack
}

// Exchange is the whole trading system on one machine: the gateway's
// sessions submit commands to the inbound sequencer (journaled in a wal.Log),
// one goroutine applies them to the State (order manager and matching engine),
// and the outbound stream of executions and L2 changes goes through a ring to
// the market-data publisher and the reporter.
//
// Submit and the read methods are safe for concurrent use.
type Exchange struct {
	dir      string
	journal  *wal.Log
	seq      *sequencer.Sequencer
	state    *State
	sessions []*session
	pool     chan *session
	ring     *sequencer.Ring[OutEvent]
	md       *MarketData
	rep      *Reporter

	replayed   uint64
	checkEvery uint64
	applied    atomic.Uint64
	stopped    chan struct{}
	runErr     error
	consumers  sync.WaitGroup
	closeOnce  sync.Once
	closeErr   error
}

// Open starts an exchange whose journal lives in dir (created if needed). If
// the journal holds events, they are replayed first: the state, the market
// data and the trade report are rebuilt exactly as they were.
func Open(dir string, opts Options) (*Exchange, error) {
	if opts.Sessions == 0 {
		opts.Sessions = 256
	}
	if opts.Sessions < 1 || opts.Sessions > 1<<16 {
		return nil, fmt.Errorf("%w: %d sessions", ErrConfig, opts.Sessions)
	}
	cfg, err := opts.Config.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("exchange: %w", err)
	}
	x := &Exchange{dir: dir, stopped: make(chan struct{}), pool: make(chan *session, opts.Sessions),
		checkEvery: uint64(max(opts.CheckEvery, 0))}
	x.ring, err = sequencer.NewRing[OutEvent](1 << 16)
	if err != nil {
		return nil, err
	}
	x.md = NewMarketData(cfg.Symbols)
	if x.rep, err = NewReporter(dir, cfg.Symbols); err != nil {
		return nil, err
	}
	if x.state, err = NewState(cfg, x.publish); err != nil {
		return nil, err
	}
	if err := x.startConsumers(); err != nil {
		return nil, err
	}
	fail := func(err error) (*Exchange, error) {
		x.ring.Close()
		x.consumers.Wait()
		x.rep.Close()
		if x.journal != nil {
			x.journal.Close()
		}
		return nil, err
	}
	if x.journal, err = wal.Open(filepath.Join(dir, "journal"), wal.Options{Sync: opts.Sync}); err != nil {
		return fail(fmt.Errorf("exchange: journal: %w", err))
	}
	if x.seq, err = sequencer.Open(x.journal, sequencer.Options{Clock: opts.Clock}); err != nil {
		return fail(fmt.Errorf("exchange: sequencer: %w", err))
	}
	last := make([]uint64, opts.Sessions)
	err = x.seq.Replay(1, func(ev sequencer.Event) error {
		if i := ev.Source - 1; i < uint64(len(last)) {
			last[i] = ev.SourceSeq
		}
		_, err := x.state.Apply(ev.Seq, ev.Time, ev.Payload)
		x.replayed = ev.Seq
		return err
	})
	if err != nil {
		return fail(fmt.Errorf("exchange: replay: %w", err))
	}
	x.applied.Store(x.replayed)
	for i := range opts.Sessions {
		s := &session{id: uint64(i + 1), next: last[i] + 1, reply: make(chan Ack, 1)}
		x.sessions = append(x.sessions, s)
		x.pool <- s
	}
	go x.run()
	return x, nil
}

func (x *Exchange) startConsumers() error {
	md, err := x.ring.NewConsumer()
	if err != nil {
		return err
	}
	rep, err := x.ring.NewConsumer()
	if err != nil {
		return err
	}
	x.consumers.Add(2)
	go func() {
		defer x.consumers.Done()
		_ = md.Consume(context.Background(), func(_ uint64, b []OutEvent) error { x.md.apply(b); return nil })
	}()
	go func() {
		defer x.consumers.Done()
		_ = rep.Consume(context.Background(), func(_ uint64, b []OutEvent) error { x.rep.apply(b); return nil })
	}()
	return nil
}

// publish hands one outbound event to the ring (called by the state machine).
func (x *Exchange) publish(e *OutEvent) { _ = x.ring.Put(*e) }

// run is the single-threaded application loop.
func (x *Exchange) run() {
	defer close(x.stopped)
	err := x.seq.Run(context.Background(), func(ev sequencer.Event) error {
		ack, err := x.state.Apply(ev.Seq, ev.Time, ev.Payload)
		if err != nil {
			return err
		}
		x.applied.Store(ev.Seq)
		if x.checkEvery > 0 && ev.Seq%x.checkEvery == 0 {
			if err := x.state.Check(); err != nil {
				return fmt.Errorf("after command %d: %w", ev.Seq, err)
			}
		}
		if i := ev.Source - 1; i < uint64(len(x.sessions)) {
			x.sessions[i].reply <- ack
		}
		return nil
	})
	if !errors.Is(err, sequencer.ErrClosed) {
		x.runErr = err
	}
}

// Submit sends one command through a gateway session and waits for the
// order manager's Ack: the command is journaled (under the journal's sync
// policy), sequenced and applied when it returns. ctx bounds only the wait for
// a free session. Errors: ErrStopped, ctx.Err(), or a sequencer error.
func (x *Exchange) Submit(ctx context.Context, c Command) (Ack, error) {
	var s *session
	select {
	case s = <-x.pool:
	case <-ctx.Done():
		return Ack{}, ctx.Err()
	case <-x.stopped:
		return Ack{}, ErrStopped
	}
	defer func() { x.pool <- s }()
	s.buf = AppendCommand(s.buf[:0], c)
	if _, err := x.seq.Submit(s.id, s.next, s.buf); err != nil {
		if errors.Is(err, sequencer.ErrClosed) || errors.Is(err, sequencer.ErrStopped) {
			return Ack{}, fmt.Errorf("%w: %w", ErrStopped, err)
		}
		return Ack{}, err
	}
	s.next++
	select {
	case ack := <-s.reply:
		return ack, nil
	case <-x.stopped:
		return Ack{}, ErrStopped
	}
}

// Close stops the gateway and the application loop (every journaled command
// is applied first), drains the outbound stream and closes the journal. It
// returns the error that stopped the state machine, if any.
func (x *Exchange) Close() error {
	x.closeOnce.Do(func() {
		_ = x.seq.Close()
		<-x.stopped
		x.ring.Close()
		x.consumers.Wait()
		errs := []error{x.runErr, x.rep.Close(), x.journal.Close()}
		x.closeErr = errors.Join(errs...)
	})
	return x.closeErr
}

// Err returns the error that stopped the state machine, or nil while it runs.
// Safe only after Close, or after Submit returned ErrStopped.
func (x *Exchange) Err() error { <-x.stopped; return x.runErr }

// State returns the state machine. Read it only after Close (it is the loop's).
func (x *Exchange) State() *State { return x.state }

// MarketData returns the market-data publisher (safe for concurrent use).
func (x *Exchange) MarketData() *MarketData { return x.md }

// Reporter returns the reporter (safe for concurrent use).
func (x *Exchange) Reporter() *Reporter { return x.rep }

// Replayed returns how many journaled events Open replayed.
func (x *Exchange) Replayed() uint64 { return x.replayed }

// Applied returns the sequence of the last command applied. Safe for concurrent use.
func (x *Exchange) Applied() uint64 { return x.applied.Load() }

// Dir returns the exchange's data directory.
func (x *Exchange) Dir() string { return x.dir }

// Replay rebuilds a State from the journal in dir, as a restarted or standby
// node would, without touching the journal. It returns the state and the
// number of events applied. The journal must not be open elsewhere.
func Replay(dir string, cfg Config) (*State, uint64, error) {
	st, err := NewState(cfg, nil)
	if err != nil {
		return nil, 0, err
	}
	j, err := wal.Open(filepath.Join(dir, "journal"), wal.Options{})
	if err != nil {
		return nil, 0, fmt.Errorf("exchange: journal: %w", err)
	}
	defer j.Close()
	seq, err := sequencer.Open(j, sequencer.Options{})
	if err != nil {
		return nil, 0, fmt.Errorf("exchange: sequencer: %w", err)
	}
	defer seq.Close()
	var n uint64
	err = seq.Replay(1, func(ev sequencer.Event) error {
		n++
		_, err := st.Apply(ev.Seq, ev.Time, ev.Payload)
		return err
	})
	if err != nil {
		return nil, n, fmt.Errorf("exchange: replay: %w", err)
	}
	return st, n, nil
}

// Reconcile checks the reporter's settlement file against the ledger with
// ledger.Reconcile: every payout transfer the state machine made (two per
// trade) must appear in the file with the same amount, asset and status, and
// nothing else. It proves the outbound stream delivered every execution
// exactly once. Call it after Close. Cost: O(trades).
func (x *Exchange) Reconcile() (ledger.Report, error) {
	st := x.state
	ts := make([]ledger.Transfer, 0, len(st.payouts))
	for _, id := range st.payouts {
		t, ok := st.led.Transfer(id)
		if !ok {
			return ledger.Report{}, fmt.Errorf("%w: payout %d missing from the ledger", ErrInvariant, id)
		}
		ts = append(ts, t)
	}
	f, err := os.Open(x.rep.SettlementPath())
	if err != nil {
		return ledger.Report{}, fmt.Errorf("exchange: %w", err)
	}
	defer f.Close()
	return ledger.Reconcile(ts, f)
}
