package sequencer

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sysblocks/sysblocks/internal/testseed"
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

// submitBatch returns what SubmitBatch must answer: the answers of
// len(payloads) Submit calls in order, with one error for the batch
// (ErrOutOfOrder over ErrDuplicate), and records the accepted events. A
// batch that starts at 0 or passes 2^64-1 is refused whole.
func (m *seqModel) submitBatch(source, first uint64, payloads [][]byte, now int64) ([]uint64, error) {
	seqs := make([]uint64, len(payloads))
	if len(payloads) > 0 && (first == 0 || first+uint64(len(payloads)-1) < first) {
		return seqs, ErrOutOfOrder
	}
	var dup, ooo bool
	for i, p := range payloads {
		seq, err := m.submit(source, first+uint64(i), bytes.Clone(p), now)
		seqs[i] = seq
		switch {
		case errors.Is(err, ErrDuplicate):
			dup = true
		case err != nil:
			ooo = true
		}
	}
	switch {
	case ooo:
		return seqs, ErrOutOfOrder
	case dup:
		return seqs, ErrDuplicate
	}
	return seqs, nil
}

// pickSourceSeq chooses a SourceSeq for source's next submission: mostly the
// next one, sometimes the latest, an older one, a skip ahead, or 0.
func pickSourceSeq(rng *rand.Rand, latest uint64) uint64 {
	switch k := rng.IntN(100); {
	case k < 70:
		return latest + 1
	case k < 80:
		return latest
	case k < 88:
		return uint64(rng.IntN(int(latest) + 1))
	default:
		return latest + 2 + uint64(rng.IntN(3))
	}
}

// TestModel submits random streams (in order, repeated, older, skipping,
// zero; clock steps back and forth) with random restarts and replays, and
// checks every answer, every delivered event and every replay against
// seqModel.
func TestModel(t *testing.T) {
	seed := testseed.Seed(t)
	rounds, steps := 6, 400
	if testseed.Long() {
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
			sourceSeq := pickSourceSeq(rng, m.latest[source])
			if rng.IntN(3) == 0 {
				// A batch, often a retry that starts before the latest.
				if rng.IntN(2) == 0 {
					sourceSeq -= min(sourceSeq, uint64(rng.IntN(4)))
				}
				payloads := make([][]byte, rng.IntN(12))
				for i := range payloads {
					payloads[i] = randomPayload(rng)
				}
				dst := []uint64{42} // SubmitBatch appends
				wantSeqs, wantErr := m.submitBatch(source, sourceSeq, payloads, now.Load())
				seqs, err := s.SubmitBatch(source, sourceSeq, payloads, dst)
				if wantErr != nil {
					require.ErrorIs(t, err, wantErr, "source %d batch of %d from %d", source, len(payloads), sourceSeq)
				} else {
					require.NoError(t, err, "source %d batch of %d from %d", source, len(payloads), sourceSeq)
				}
				require.Equal(t, append([]uint64{42}, wantSeqs...), seqs)
				require.Equal(t, uint64(len(m.events)), s.LastSeq())
				for _, p := range payloads {
					clear(p) // the caller may reuse its buffers
				}
				continue
			}
			payload := randomPayload(rng)
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

func randomPayload(rng *rand.Rand) []byte {
	payload := make([]byte, rng.IntN(40))
	for i := range payload {
		payload[i] = byte(rng.Uint32())
	}
	return payload
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

func nonNilSeqs(seqs []uint64) []uint64 {
	if seqs == nil {
		return []uint64{}
	}
	return seqs
}

// TestConcurrentProducers runs many producers against a durable journal
// (group commit under SyncAlways) and checks the delivered and replayed
// streams: gap-free, each source in its own order, identical.
func TestConcurrentProducers(t *testing.T) {
	producers, each := 16, 50
	if testseed.Long() {
		producers, each = 64, 2000
	}
	submitConcurrently(t, wal.SyncAlways, Options{}, producers, each, 1)
}

// submitConcurrently has producers goroutines submit each events apiece
// (source p, numbered from 1, payload {p, sourceSeq-1}) while Run collects,
// then checks the delivered stream with checkStream and that Replay gives
// the same events. With maxBatch > 1 the producers mix SubmitBatch calls of
// up to maxBatch events (checking that each gets consecutive sequences) with
// Submit calls.
func submitConcurrently(t *testing.T, policy wal.SyncPolicy, opts Options, producers, each, maxBatch int) {
	j := openJournal(t, t.TempDir(), policy)
	s := openSeq(t, j, opts)
	live := &collector{}
	run := startRun(s, live.handle)
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := produce(s, p, each, maxBatch); err != nil {
				t.Error(err)
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

// produce is one producer of submitConcurrently.
func produce(s *Sequencer, p, each, maxBatch int) error {
	var seqs []uint64
	for i := 0; i < each; {
		n := min(1+(i+p)%max(maxBatch, 1), each-i)
		batch := make([][]byte, n)
		for k := range batch {
			batch[k] = []byte{byte(p), byte(i + k)}
		}
		var err error
		if n == 1 {
			var seq uint64
			seq, err = s.Submit(uint64(p), uint64(i+1), batch[0])
			seqs = append(seqs[:0], seq)
		} else {
			seqs, err = s.SubmitBatch(uint64(p), uint64(i+1), batch, seqs[:0])
		}
		if err != nil {
			return err
		}
		for k := 1; k < n; k++ {
			if seqs[k] != seqs[0]+uint64(k) {
				return fmt.Errorf("batch of %d got sequences %v, want consecutive", n, seqs)
			}
		}
		i += n
	}
	return nil
}

// FuzzSubmit treats the input as a stream of submissions (source, a choice
// of next/repeat/older/skip-ahead number, payload length, or with the high
// bit of the third byte a SubmitBatch of up to 7 payloads; an op byte of
// 255 restarts the sequencer) and checks every answer and the final journal
// against seqModel.
func FuzzSubmit(f *testing.F) {
	f.Add([]byte{0, 0, 3, 1, 0, 0, 0, 1, 5, 0, 2, 0, 0, 3, 1}, false)
	f.Add([]byte{1, 3, 2, 1, 3, 2, 255, 0, 1, 1, 0, 2, 0, 0, 0, 1}, true)
	f.Add([]byte{0, 0, 0xb3, 0, 1, 0xd0, 0, 4, 0xa1, 0, 3, 0xf1, 1, 2, 0x80, 255, 0, 0, 0, 0, 0x91}, false)
	f.Add([]byte{2, 0, 0xe5, 2, 2, 0xc2, 2, 3, 0x93, 2, 0, 0xa0}, true)
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
			if op[2]&0x80 != 0 {
				// A SubmitBatch of 0-7 payloads.
				payloads := make([][]byte, op[2]>>4&7)
				for i := range payloads {
					payloads[i] = make([]byte, (int(op[2])+i)%16)
				}
				wantSeqs, wantErr := m.submitBatch(source, sourceSeq, payloads, 1)
				seqs, err := s.SubmitBatch(source, sourceSeq, payloads, nil)
				if wantErr != nil {
					require.ErrorIs(t, err, wantErr)
				} else {
					require.NoError(t, err)
				}
				require.Equal(t, nonNilSeqs(wantSeqs), nonNilSeqs(seqs))
				continue
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
