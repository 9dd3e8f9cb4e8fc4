package sequencer

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sysblocks/sysblocks/internal/testseed"
	"github.com/sysblocks/sysblocks/wal"
)

func openJournal(t testing.TB, dir string, sync wal.SyncPolicy) *wal.Log {
	t.Helper()
	j, err := wal.Open(dir, wal.Options{Sync: sync, SegmentSize: 1 << 20})
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close() })
	return j
}

func openSeq(t testing.TB, j *wal.Log, opts Options) *Sequencer {
	t.Helper()
	s, err := Open(j, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// copyEvent detaches an event from the buffers it aliases.
func copyEvent(e Event) Event {
	e.Payload = append([]byte{}, e.Payload...)
	return e
}

// collector is a Run or Replay handler that keeps copies of the events.
type collector struct {
	mu     sync.Mutex
	events []Event
	notify chan struct{} // receives a token per event when not nil
}

func (c *collector) handle(e Event) error {
	c.mu.Lock()
	c.events = append(c.events, copyEvent(e))
	c.mu.Unlock()
	if c.notify != nil {
		c.notify <- struct{}{}
	}
	return nil
}

func (c *collector) snapshot() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.events...)
}

// runner is a Run in the background.
type runner struct {
	cancel context.CancelFunc
	errc   chan error
}

func startRun(s *Sequencer, handle func(Event) error) *runner {
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{cancel: cancel, errc: make(chan error, 1)}
	go func() { r.errc <- s.Run(ctx, handle) }()
	return r
}

// wait returns Run's result; after Close that is ErrClosed once every
// published event was delivered.
func (r *runner) wait() error {
	defer r.cancel()
	return <-r.errc
}

// stop cancels Run's context and returns its result.
func (r *runner) stop() error {
	r.cancel()
	return <-r.errc
}

// fakeClock returns the times in order, repeating the last.
func fakeClock(times ...int64) func() time.Time {
	var mu sync.Mutex
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := times[0]
		if len(times) > 1 {
			times = times[1:]
		}
		return time.Unix(0, t)
	}
}

func TestSubmitRunReplay(t *testing.T) {
	j := openJournal(t, t.TempDir(), wal.SyncNever)
	s := openSeq(t, j, Options{Clock: fakeClock(100, 200, 150, 300)})
	live := &collector{notify: make(chan struct{}, 16)}
	run := startRun(s, live.handle)

	var want []Event
	for i, p := range []string{"a", "bb", "", "ccc"} {
		src := uint64(i % 2)
		srcSeq := uint64(i/2 + 1)
		seq, err := s.Submit(src, srcSeq, []byte(p))
		require.NoError(t, err)
		require.Equal(t, uint64(i+1), seq)
		want = append(want, Event{Seq: seq, Source: src, SourceSeq: srcSeq, Payload: []byte(p)})
		<-live.notify
	}
	require.NoError(t, s.Close())
	require.ErrorIs(t, run.wait(), ErrClosed)
	require.Equal(t, uint64(4), s.LastSeq())

	// The clock stepped back from 200 to 150: stamps never decrease.
	for i, wantTime := range []int64{100, 200, 200, 300} {
		want[i].Time = wantTime
	}
	require.Equal(t, want, live.snapshot())

	replayed := &collector{}
	require.NoError(t, s.Replay(0, replayed.handle), "Replay works after Close")
	require.Equal(t, want, replayed.snapshot())
	replayed = &collector{}
	require.NoError(t, s.Replay(3, replayed.handle))
	require.Equal(t, want[2:], replayed.snapshot())
	require.NoError(t, s.Replay(5, replayed.handle), "from LastSeq+1 replays nothing")
	require.ErrorIs(t, s.Replay(6, replayed.handle), ErrRange)

	_, err := s.Submit(9, 1, nil)
	require.ErrorIs(t, err, ErrClosed)
	require.NoError(t, s.Close(), "Close twice")
	_, err = j.Append([]byte("journal still open"))
	require.NoError(t, err)
}

func TestExactlyOnce(t *testing.T) {
	type step struct {
		source, sourceSeq uint64
		wantSeq           uint64
		wantErr           error
	}
	tests := []struct {
		name  string
		gaps  bool
		steps []step
	}{
		{name: "in order", steps: []step{{1, 1, 1, nil}, {2, 1, 2, nil}, {1, 2, 3, nil}}},
		{name: "latest repeated", steps: []step{{1, 1, 1, nil}, {1, 2, 2, nil}, {1, 2, 2, ErrDuplicate}, {1, 3, 3, nil}}},
		{name: "older repeated", steps: []step{{1, 1, 1, nil}, {1, 2, 2, nil}, {1, 1, 0, ErrDuplicate}}},
		{name: "zero", steps: []step{{1, 0, 0, ErrOutOfOrder}, {1, 1, 1, nil}}},
		{name: "skip ahead", steps: []step{{1, 1, 1, nil}, {1, 3, 0, ErrOutOfOrder}, {1, 2, 2, nil}}},
		{name: "new source skips", steps: []step{{7, 2, 0, ErrOutOfOrder}, {7, 1, 1, nil}}},
		{name: "gaps allowed", gaps: true, steps: []step{{1, 5, 1, nil}, {1, 9, 2, nil}, {1, 7, 0, ErrDuplicate}, {1, 9, 2, ErrDuplicate}, {1, 10, 3, nil}}},
		{name: "gaps allowed, zero", gaps: true, steps: []step{{1, 0, 0, ErrOutOfOrder}}},
		{name: "max source seq", gaps: true, steps: []step{{^uint64(0), ^uint64(0), 1, nil}, {^uint64(0), ^uint64(0), 1, ErrDuplicate}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := openJournal(t, t.TempDir(), wal.SyncNever)
			s := openSeq(t, j, Options{AllowGaps: tt.gaps})
			for i, st := range tt.steps {
				seq, err := s.Submit(st.source, st.sourceSeq, []byte{byte(i)})
				if st.wantErr != nil {
					require.ErrorIs(t, err, st.wantErr, "step %d", i)
				} else {
					require.NoError(t, err, "step %d", i)
				}
				require.Equal(t, st.wantSeq, seq, "step %d", i)
			}
		})
	}
}

func TestRestartRebuildsState(t *testing.T) {
	dir := t.TempDir()
	j := openJournal(t, dir, wal.SyncAlways)
	s := openSeq(t, j, Options{Clock: fakeClock(500)})
	for i := range 5 {
		_, err := s.Submit(uint64(i%2), uint64(i/2+1), []byte{byte(i)})
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
	require.NoError(t, j.Close())

	j = openJournal(t, dir, wal.SyncAlways)
	// An earlier clock: the stamp floor comes back from the journal.
	s = openSeq(t, j, Options{Clock: fakeClock(10)})
	require.Equal(t, uint64(5), s.LastSeq())
	seq, err := s.Submit(0, 3, nil)
	require.ErrorIs(t, err, ErrDuplicate)
	require.Equal(t, uint64(5), seq)
	seq, err = s.Submit(1, 1, nil)
	require.ErrorIs(t, err, ErrDuplicate)
	require.Zero(t, seq)
	_, err = s.Submit(1, 4, nil)
	require.ErrorIs(t, err, ErrOutOfOrder)

	live := &collector{notify: make(chan struct{}, 4)}
	run := startRun(s, live.handle)
	seq, err = s.Submit(1, 3, []byte("new"))
	require.NoError(t, err)
	require.Equal(t, uint64(6), seq)
	<-live.notify
	require.ErrorIs(t, run.stop(), context.Canceled)
	require.Equal(t, []Event{{Seq: 6, Source: 1, SourceSeq: 3, Time: 500, Payload: []byte("new")}}, live.snapshot(),
		"Run delivers only events submitted after Open")

	all := &collector{}
	require.NoError(t, s.Replay(1, all.handle))
	require.Len(t, all.events, 6)
	for i, e := range all.events {
		require.Equal(t, uint64(i+1), e.Seq)
	}
}

func TestHandlerErrorStops(t *testing.T) {
	j := openJournal(t, t.TempDir(), wal.SyncNever)
	s := openSeq(t, j, Options{})
	for i := range 10 {
		_, err := s.Submit(1, uint64(i+1), nil)
		require.NoError(t, err)
	}
	boom := errors.New("boom")
	var seen []uint64
	err := s.Run(context.Background(), func(e Event) error {
		seen = append(seen, e.Seq)
		if e.Seq == 4 {
			return boom
		}
		return nil
	})
	require.ErrorIs(t, err, boom)
	require.ErrorIs(t, err, ErrStopped)
	require.Equal(t, []uint64{1, 2, 3, 4}, seen)

	err = s.Run(context.Background(), func(e Event) error {
		seen = append(seen, e.Seq)
		return nil
	})
	require.ErrorIs(t, err, boom, "the loop stays stopped")
	require.Equal(t, []uint64{1, 2, 3, 4}, seen, "no later event is delivered")
	_, err = s.Submit(1, 11, nil)
	require.ErrorIs(t, err, ErrStopped)
	require.Equal(t, uint64(10), s.LastSeq(), "acknowledged events stay in the journal")
}

func TestRunResumesAfterCancel(t *testing.T) {
	j := openJournal(t, t.TempDir(), wal.SyncNever)
	s := openSeq(t, j, Options{})
	for i := range 3 {
		_, err := s.Submit(1, uint64(i+1), nil)
		require.NoError(t, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var seen []uint64
	err := s.Run(ctx, func(e Event) error {
		seen = append(seen, e.Seq)
		if e.Seq == 2 {
			cancel()
		}
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	run := startRun(s, func(e Event) error {
		seen = append(seen, e.Seq)
		return nil
	})
	_, err = s.Submit(1, 4, nil)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.ErrorIs(t, run.wait(), ErrClosed)
	require.Equal(t, []uint64{1, 2, 3, 4}, seen)
}

func TestRunTwice(t *testing.T) {
	j := openJournal(t, t.TempDir(), wal.SyncNever)
	s := openSeq(t, j, Options{})
	entered := make(chan struct{})
	run := startRun(s, func(Event) error {
		close(entered)
		return nil
	})
	_, err := s.Submit(1, 1, nil)
	require.NoError(t, err)
	<-entered // the first Run is active
	require.ErrorIs(t, s.Run(context.Background(), nil), ErrRunning)
	require.ErrorIs(t, run.stop(), context.Canceled)
}

func TestJournalFailure(t *testing.T) {
	j := openJournal(t, t.TempDir(), wal.SyncNever)
	s := openSeq(t, j, Options{})
	_, err := s.Submit(1, 1, nil)
	require.NoError(t, err)
	require.NoError(t, j.Close())
	_, err = s.Submit(1, 2, nil)
	require.ErrorIs(t, err, ErrStopped)
	require.ErrorIs(t, err, wal.ErrClosed)
	_, err = s.Submit(2, 1, nil)
	require.ErrorIs(t, err, ErrStopped, "the failure is sticky")
	require.Equal(t, uint64(1), s.LastSeq())
	// Events handed to the ring before the failure are still delivered.
	var seen []uint64
	err = s.Run(context.Background(), func(e Event) error {
		seen = append(seen, e.Seq)
		return nil
	})
	require.ErrorIs(t, err, ErrStopped)
	require.Equal(t, []uint64{1}, seen)
}

func TestOpenRejectsForeignJournal(t *testing.T) {
	for name, rec := range map[string][]byte{
		"garbage":      []byte("not an event"),
		"wrong offset": AppendEvent(nil, Event{Seq: 7, Source: 1, SourceSeq: 1}),
	} {
		t.Run(name, func(t *testing.T) {
			j := openJournal(t, t.TempDir(), wal.SyncNever)
			_, err := j.Append(rec)
			require.NoError(t, err)
			_, err = Open(j, Options{})
			require.ErrorIs(t, err, ErrCorrupt)
		})
	}
	_, err := Open(nil, Options{})
	require.ErrorIs(t, err, ErrInvalidOption)
}

func TestReplayTruncated(t *testing.T) {
	j := openJournal(t, t.TempDir(), wal.SyncNever)
	s := openSeq(t, j, Options{})
	for i := range 5 {
		_, err := s.Submit(1, uint64(i+1), nil)
		require.NoError(t, err)
	}
	require.NoError(t, j.TruncateFront(2))
	require.ErrorIs(t, s.Replay(1, func(Event) error { return nil }), wal.ErrTruncated)
	c := &collector{}
	require.NoError(t, s.Replay(3, c.handle))
	require.Len(t, c.events, 3)

	boom := errors.New("boom")
	require.ErrorIs(t, s.Replay(3, func(Event) error { return boom }), boom)
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr error
	}{
		{name: "zero", opts: Options{}},
		{name: "ring not power of two", opts: Options{RingSize: 100}, wantErr: ErrRingSize},
		{name: "ring negative", opts: Options{RingSize: -8}, wantErr: ErrRingSize},
		{name: "batch negative", opts: Options{MaxBatch: -1}, wantErr: ErrInvalidOption},
		{name: "payload negative", opts: Options{MaxPayload: -1}, wantErr: ErrInvalidOption},
		{name: "payload huge", opts: Options{MaxPayload: MaxPayload + 1}, wantErr: ErrInvalidOption},
		{name: "wait", opts: Options{Wait: 42}, wantErr: ErrInvalidOption},
		{name: "cpu negative", opts: Options{Affinity: []int{-1}}, wantErr: ErrInvalidOption},
		{name: "cpu huge", opts: Options{Affinity: []int{maxCPU}}, wantErr: ErrInvalidOption},
		{name: "all set", opts: Options{AllowGaps: true, RingSize: 8, MaxBatch: 3, MaxPayload: 10, Wait: Yield, LockThread: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := openJournal(t, t.TempDir(), wal.SyncNever)
			before := tt.opts
			s, err := Open(j, tt.opts)
			require.Equal(t, before, tt.opts, "the caller's options are not modified")
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.NoError(t, s.Close())
		})
	}
}

func TestTooLarge(t *testing.T) {
	j := openJournal(t, t.TempDir(), wal.SyncNever)
	s := openSeq(t, j, Options{MaxPayload: 4})
	_, err := s.Submit(1, 1, []byte("12345"))
	require.ErrorIs(t, err, ErrTooLarge)
	seq, err := s.Submit(1, 1, []byte("1234"))
	require.NoError(t, err, "a refused payload does not consume the source number")
	require.Equal(t, uint64(1), seq)
}

// TestSmallBatchesAndRing forces many journal writes per group and many ring
// wraps per Run batch: MaxBatch 3, an 4-slot ring, 8 producers.
func TestSmallBatchesAndRing(t *testing.T) {
	submitConcurrently(t, wal.SyncNever, Options{MaxBatch: 3, RingSize: 4}, 8, 200, 1)
}

func TestWaitStrategies(t *testing.T) {
	for _, ws := range strategies {
		t.Run(ws.String(), func(t *testing.T) {
			submitConcurrently(t, wal.SyncNever, Options{Wait: ws, RingSize: 16}, 4, 100, 1)
		})
	}
}

// checkStream asserts that events are numbered 1..n without gaps and that
// each source's events come in its own order, numbered 1, 2, 3, … with the
// payload {source, sourceSeq-1}.
func checkStream(t *testing.T, events []Event, n int) {
	t.Helper()
	require.Len(t, events, n)
	next := map[uint64]uint64{}
	for i, e := range events {
		require.Equal(t, uint64(i+1), e.Seq)
		next[e.Source]++
		require.Equal(t, next[e.Source], e.SourceSeq, "source %d", e.Source)
		require.Equal(t, []byte{byte(e.Source), byte(e.SourceSeq - 1)}, e.Payload)
	}
}

// allowedCPUs returns the calling thread's Cpus_allowed_list from /proc
// (Linux), e.g. "0-3" or "2".
func allowedCPUs() (string, error) {
	status, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", errors.New("no Cpus_allowed_list")
}

func TestAffinity(t *testing.T) {
	// Bind to the first CPU this process may use (CPU 0 may be outside a
	// container's cpuset).
	cpu := 0
	if runtime.GOOS == "linux" {
		list, err := allowedCPUs()
		require.NoError(t, err)
		first, _, _ := strings.Cut(strings.Split(list, ",")[0], "-")
		cpu, err = strconv.Atoi(first)
		require.NoError(t, err)
	}
	j := openJournal(t, t.TempDir(), wal.SyncNever)
	s := openSeq(t, j, Options{Affinity: []int{cpu}})
	_, err := s.Submit(1, 1, nil)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	var allowed string
	err = s.Run(context.Background(), func(Event) error {
		var err error
		if runtime.GOOS == "linux" {
			allowed, err = allowedCPUs()
		}
		return err
	})
	if runtime.GOOS != "linux" {
		require.ErrorIs(t, err, ErrAffinity)
		require.ErrorIs(t, err, errors.ErrUnsupported)
		return
	}
	require.ErrorIs(t, err, ErrClosed)
	require.Equal(t, strconv.Itoa(cpu), allowed, "the loop thread is bound to one CPU")
}

func TestLockThread(t *testing.T) {
	j := openJournal(t, t.TempDir(), wal.SyncNever)
	s := openSeq(t, j, Options{LockThread: true})
	for i := range 3 {
		_, err := s.Submit(1, uint64(i+1), nil)
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
	n := 0
	require.ErrorIs(t, s.Run(context.Background(), func(Event) error { n++; return nil }), ErrClosed)
	require.Equal(t, 3, n)
}

func TestSubmitBatch(t *testing.T) {
	payloads := func(n int) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = []byte{byte(i)}
		}
		return out
	}
	type step struct {
		source, first uint64
		n             int
		wantSeqs      []uint64
		wantErr       error
	}
	tests := []struct {
		name  string
		gaps  bool
		opts  Options
		steps []step
	}{
		{name: "empty", steps: []step{{1, 1, 0, []uint64{}, nil}, {1, 0, 0, []uint64{}, nil}}},
		{name: "in order", steps: []step{{1, 1, 3, []uint64{1, 2, 3}, nil}, {2, 1, 1, []uint64{4}, nil}, {1, 4, 2, []uint64{5, 6}, nil}}},
		{name: "retried batch", steps: []step{{1, 1, 3, []uint64{1, 2, 3}, nil}, {1, 2, 4, []uint64{0, 3, 4, 5}, ErrDuplicate}, {1, 6, 1, []uint64{6}, nil}}},
		{name: "all duplicates", steps: []step{{1, 1, 3, []uint64{1, 2, 3}, nil}, {1, 1, 3, []uint64{0, 0, 3}, ErrDuplicate}}},
		{name: "skip ahead", steps: []step{{1, 1, 2, []uint64{1, 2}, nil}, {1, 4, 2, []uint64{0, 0}, ErrOutOfOrder}, {1, 3, 1, []uint64{3}, nil}}},
		{name: "duplicates only", steps: []step{{1, 1, 2, []uint64{1, 2}, nil}, {1, 2, 1, []uint64{2}, ErrDuplicate}, {1, 1, 1, []uint64{0}, ErrDuplicate}}},
		{name: "zero first", steps: []step{{1, 0, 2, []uint64{0, 0}, ErrOutOfOrder}, {1, 1, 1, []uint64{1}, nil}}},
		{name: "overflow", gaps: true, steps: []step{{1, ^uint64(0), 2, []uint64{0, 0}, ErrOutOfOrder}, {1, ^uint64(0) - 1, 2, []uint64{1, 2}, nil}}},
		{name: "gaps allowed", gaps: true, steps: []step{{1, 5, 2, []uint64{1, 2}, nil}, {1, 4, 4, []uint64{0, 0, 2, 3}, ErrDuplicate}, {1, 20, 1, []uint64{4}, nil}}},
		{name: "more than MaxBatch", opts: Options{MaxBatch: 2}, steps: []step{{1, 1, 3, []uint64{0, 0, 0}, ErrTooLarge}, {1, 1, 2, []uint64{1, 2}, nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := openJournal(t, t.TempDir(), wal.SyncNever)
			opts := tt.opts
			opts.AllowGaps = tt.gaps
			s := openSeq(t, j, opts)
			live := &collector{}
			run := startRun(s, live.handle)
			var want []Event
			for i, st := range tt.steps {
				in := payloads(st.n)
				dst := []uint64{99}
				got, err := s.SubmitBatch(st.source, st.first, in, dst)
				if st.wantErr != nil {
					require.ErrorIs(t, err, st.wantErr, "step %d", i)
				} else {
					require.NoError(t, err, "step %d", i)
				}
				require.Equal(t, append([]uint64{99}, st.wantSeqs...), got, "step %d", i)
				for k, seq := range st.wantSeqs {
					if seq > uint64(len(want)) {
						want = append(want, Event{Seq: seq, Source: st.source, SourceSeq: st.first + uint64(k), Payload: in[k]})
					}
				}
				require.Equal(t, uint64(len(want)), s.LastSeq(), "step %d", i)
			}
			require.NoError(t, s.Close())
			require.ErrorIs(t, run.wait(), ErrClosed)
			got := live.snapshot()
			for i := range got {
				got[i].Time = 0 // the clock is not the subject here
			}
			require.Equal(t, nonNil(want), nonNil(got))
			_, err := s.SubmitBatch(1, 100, payloads(1), nil)
			require.ErrorIs(t, err, ErrClosed)
		})
	}
}

func TestSubmitBatchTooLarge(t *testing.T) {
	j := openJournal(t, t.TempDir(), wal.SyncNever)
	s := openSeq(t, j, Options{MaxPayload: 4})
	seqs, err := s.SubmitBatch(1, 1, [][]byte{{1}, {1, 2, 3, 4, 5}}, nil)
	require.ErrorIs(t, err, ErrTooLarge)
	require.Equal(t, []uint64{0, 0}, seqs)
	require.Zero(t, s.LastSeq())
	seqs, err = s.SubmitBatch(1, 1, [][]byte{{1}, {1, 2, 3, 4}}, nil)
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 2}, seqs)
}

// TestConcurrentBatches runs producers that mix SubmitBatch and Submit on a
// durable journal, and checks the delivered and replayed streams as
// TestConcurrentProducers does.
func TestConcurrentBatches(t *testing.T) {
	producers, each := 16, 200
	if testseed.Long() {
		producers, each = 64, 5000
	}
	submitConcurrently(t, wal.SyncAlways, Options{RingSize: 64, MaxBatch: 32}, producers, each, 32)
}
