package sequencer

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sysblocks/sysblocks/wal"
)

// seqModel is the specification of the sequencer as plain data: the list of
// events the journal must hold and each source's latest number.
type seqModel struct {
	gaps     bool
	events   []Event
	latest   map[uint64]uint64    // source -> latest accepted SourceSeq
	seqOf    map[[2]uint64]uint64 // (source, sourceSeq) -> Seq
	lastTime int64
}

// submit returns what Submit must answer and records an accepted event.
func (m *seqModel) submit(source, sourceSeq uint64, payload []byte, now int64) (uint64, error) {
	latest := m.latest[source]
	switch {
	case sourceSeq == 0:
		return 0, ErrOutOfOrder
	case sourceSeq == latest:
		return m.seqOf[[2]uint64{source, sourceSeq}], ErrDuplicate
	case sourceSeq < latest:
		return 0, ErrDuplicate
	case sourceSeq > latest+1 && !m.gaps:
		return 0, ErrOutOfOrder
	}
	m.lastTime = max(m.lastTime, now)
	e := Event{Seq: uint64(len(m.events) + 1), Source: source, SourceSeq: sourceSeq, Time: m.lastTime, Payload: payload}
	m.events = append(m.events, e)
	m.latest[source] = sourceSeq
	m.seqOf[[2]uint64{source, sourceSeq}] = e.Seq
	return e.Seq, nil
}

// TestModel submits random streams (in order, repeated, older, skipping,
// zero; clock steps back and forth) with random restarts and replays, and
// checks every answer, every delivered event and every replay against
// seqModel.
func TestModel(t *testing.T) {
	seed := testSeed(t)
	rounds, steps := 6, 400
	if long() {
		rounds, steps = 100, 2000
	}
	for round := range rounds {
		rng := rand.New(rand.NewPCG(seed, uint64(round)))
		runModel(t, rng, rng.IntN(2) == 0, steps)
	}
}

func runModel(t *testing.T, rng *rand.Rand, gaps bool, steps int) {
	dir := t.TempDir()
	m := &seqModel{gaps: gaps, latest: map[uint64]uint64{}, seqOf: map[[2]uint64]uint64{}}
	var now atomic.Int64
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	opts := Options{AllowGaps: gaps, Clock: clock, RingSize: 8}

	var (
		j       *wal.Log
		s       *Sequencer
		live    *collector
		run     *runner
		session int // index in m.events of the first event of this session
	)
	open := func() {
		var err error
		j, err = wal.Open(dir, wal.Options{Sync: wal.SyncNever, SegmentSize: wal.MinSegmentSize})
		require.NoError(t, err)
		s, err = Open(j, opts)
		require.NoError(t, err)
		require.Equal(t, uint64(len(m.events)), s.LastSeq())
		live = &collector{}
		run = startRun(s, live.handle)
		session = len(m.events)
	}
	shut := func() {
		require.NoError(t, s.Close())
		require.ErrorIs(t, run.wait(), ErrClosed)
		require.Equal(t, nonNil(m.events[session:]), nonNil(live.snapshot()), "Run delivers this session's events")
		require.NoError(t, j.Close())
	}
	open()
	for range steps {
		switch op := rng.IntN(100); {
		case op < 2:
			shut()
			open()
		case op < 5:
			from := uint64(rng.IntN(len(m.events) + 3))
			c := &collector{}
			err := s.Replay(from, c.handle)
			if from > uint64(len(m.events))+1 {
				require.ErrorIs(t, err, ErrRange)
				continue
			}
			require.NoError(t, err)
			require.Equal(t, nonNil(m.events[max(from, 1)-1:]), nonNil(c.snapshot()))
		default:
			if rng.IntN(10) == 0 {
				now.Add(int64(rng.IntN(100)) - 60) // sometimes backwards
			} else {
				now.Add(int64(rng.IntN(10)))
			}
			source := uint64(rng.IntN(4))
			latest := m.latest[source]
			var sourceSeq uint64
			switch k := rng.IntN(100); {
			case k < 70:
				sourceSeq = latest + 1
			case k < 80:
				sourceSeq = latest
			case k < 88:
				sourceSeq = uint64(rng.IntN(int(latest) + 1))
			default:
				sourceSeq = latest + 2 + uint64(rng.IntN(3))
			}
			payload := make([]byte, rng.IntN(40))
			for i := range payload {
				payload[i] = byte(rng.Uint32())
			}
			wantSeq, wantErr := m.submit(source, sourceSeq, payload, now.Load())
			seq, err := s.Submit(source, sourceSeq, payload)
			if wantErr != nil {
				require.ErrorIs(t, err, wantErr, "source %d seq %d", source, sourceSeq)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, wantSeq, seq)
			require.Equal(t, uint64(len(m.events)), s.LastSeq())
		}
	}
	shut()
}

// nonNil maps a nil slice to an empty one and empty payloads to empty
// slices, so that require.Equal compares contents only.
func nonNil(events []Event) []Event {
	if events == nil {
		events = []Event{}
	}
	for i := range events {
		if events[i].Payload == nil {
			events[i].Payload = []byte{}
		}
	}
	return events
}

// TestConcurrentProducers runs many producers against a durable journal
// (group commit under SyncAlways) and checks the delivered and replayed
// streams: gap-free, each source in its own order, identical.
func TestConcurrentProducers(t *testing.T) {
	producers, each := 16, 50
	if long() {
		producers, each = 64, 2000
	}
	submitConcurrently(t, wal.SyncAlways, Options{}, producers, each)
}

// submitConcurrently has producers goroutines submit each events apiece
// (source p, numbered from 1, payload {p, sourceSeq-1}) while Run collects,
// then checks the delivered stream with checkStream and that Replay gives
// the same events.
func submitConcurrently(t *testing.T, policy wal.SyncPolicy, opts Options, producers, each int) {
	j := openJournal(t, t.TempDir(), policy)
	s := openSeq(t, j, opts)
	live := &collector{}
	run := startRun(s, live.handle)
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := s.Submit(uint64(p), uint64(i+1), []byte{byte(p), byte(i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(t, s.Close())
	require.ErrorIs(t, run.wait(), ErrClosed)
	checkStream(t, live.snapshot(), producers*each)
	replayed := &collector{}
	require.NoError(t, s.Replay(1, replayed.handle))
	require.Equal(t, live.snapshot(), replayed.snapshot())
}

// FuzzSubmit treats the input as a stream of submissions (source, a choice
// of next/repeat/older/skip-ahead number, payload length; an op byte of 255
// restarts the sequencer) and checks every answer and the final journal
// against seqModel.
func FuzzSubmit(f *testing.F) {
	f.Add([]byte{0, 0, 3, 1, 0, 0, 0, 1, 5, 0, 2, 0, 0, 3, 1}, false)
	f.Add([]byte{1, 3, 2, 1, 3, 2, 255, 0, 1, 1, 0, 2, 0, 0, 0, 1}, true)
	f.Fuzz(func(t *testing.T, ops []byte, gaps bool) {
		dir := t.TempDir()
		m := &seqModel{gaps: gaps, latest: map[uint64]uint64{}, seqOf: map[[2]uint64]uint64{}}
		clock := func() time.Time { return time.Unix(0, 1) }
		reopen := func(j *wal.Log, s *Sequencer) (*wal.Log, *Sequencer) {
			if s != nil {
				require.NoError(t, s.Close())
				require.NoError(t, j.Close())
			}
			j, err := wal.Open(dir, wal.Options{Sync: wal.SyncNever})
			require.NoError(t, err)
			s, err = Open(j, Options{AllowGaps: gaps, Clock: clock})
			require.NoError(t, err)
			return j, s
		}
		j, s := reopen(nil, nil)
		for len(ops) >= 3 {
			op := ops[:3]
			ops = ops[3:]
			if op[0] == 255 {
				j, s = reopen(j, s)
				continue
			}
			source := uint64(op[0] % 4)
			latest := m.latest[source]
			var sourceSeq uint64
			switch op[1] % 5 {
			case 0:
				sourceSeq = latest + 1
			case 1:
				sourceSeq = latest
			case 2:
				sourceSeq = latest / 2
			case 3:
				sourceSeq = latest + 2 + uint64(op[1]/5)
			case 4:
				sourceSeq = ^uint64(0) - uint64(op[1]/5)
			}
			payload := make([]byte, op[2]%16)
			wantSeq, wantErr := m.submit(source, sourceSeq, payload, 1)
			seq, err := s.Submit(source, sourceSeq, payload)
			if wantErr != nil {
				require.ErrorIs(t, err, wantErr)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, wantSeq, seq)
		}
		c := &collector{}
		require.NoError(t, s.Replay(1, c.handle))
		require.Equal(t, nonNil(m.events), nonNil(c.snapshot()))
		require.NoError(t, s.Close())
		require.NoError(t, j.Close())
	})
}
