package sequencer

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sysblocks/sysblocks/internal/testseed"
	"github.com/sysblocks/sysblocks/wal"
)

// Environment of the crash child process.
const (
	envCrashDir    = "SEQUENCER_CRASH_DIR"    // journal directory
	envCrashStarts = "SEQUENCER_CRASH_STARTS" // first SourceSeq per producer, comma-separated
	envCrashEach   = "SEQUENCER_CRASH_EACH"   // last SourceSeq per producer
	envCrashBatch  = "SEQUENCER_CRASH_BATCH"  // > 0: SubmitBatch with up to this many events
)

func crashPayload(source, sourceSeq uint64) []byte {
	return []byte(fmt.Sprintf("order %d/%d", source, sourceSeq))
}

// TestCrashChild is the child of TestCrash: producer p submits SourceSeq
// starts[p]..each for source p on a SyncAlways journal while a Run loop
// consumes, and prints one line per answer ("ack p sourceSeq seq" or "dup p
// sourceSeq seq") after Submit returns. With a batch size it calls
// SubmitBatch with batches of random size instead, announcing each with a
// line "batch p first n" before the call. The parent kills it at random.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(envCrashDir)
	if dir == "" {
		t.Skip("helper process of TestCrash")
	}
	each, err := strconv.ParseUint(os.Getenv(envCrashEach), 10, 64)
	require.NoError(t, err)
	var starts []uint64
	for _, f := range strings.Split(os.Getenv(envCrashStarts), ",") {
		v, err := strconv.ParseUint(f, 10, 64)
		require.NoError(t, err)
		starts = append(starts, v)
	}
	j, err := wal.Open(dir, wal.Options{Sync: wal.SyncAlways, SegmentSize: 16 << 10})
	require.NoError(t, err)
	s, err := Open(j, Options{RingSize: 64})
	require.NoError(t, err)
	run := startRun(s, func(Event) error { return nil })

	batch := 0
	if v := os.Getenv(envCrashBatch); v != "" {
		batch, err = strconv.Atoi(v)
		require.NoError(t, err)
	}

	var out sync.Mutex
	print := func(line string) {
		out.Lock()
		// One write per line: a kill never tears an answer.
		_, _ = os.Stdout.WriteString(line)
		out.Unlock()
	}
	var wg sync.WaitGroup
	for p, start := range starts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if batch > 0 {
				crashBatches(t, s, uint64(p), start, each, batch, print)
				return
			}
			for ss := start; ss <= each; ss++ {
				seq, err := s.Submit(uint64(p), ss, crashPayload(uint64(p), ss))
				kind := "ack"
				if errors.Is(err, ErrDuplicate) {
					kind = "dup"
				} else if err != nil {
					t.Error(err)
					return
				}
				print(fmt.Sprintf("%s %d %d %d\n", kind, p, ss, seq))
			}
		}()
	}
	wg.Wait()
	require.NoError(t, s.Close())
	require.ErrorIs(t, run.wait(), ErrClosed)
	require.NoError(t, j.Close())
}

// crashBatches is a batching producer of TestCrashChild: it submits
// source's numbers start..each in batches of 1..max events.
func crashBatches(t *testing.T, s *Sequencer, source, start, each uint64, maxBatch int, print func(string)) {
	rng := rand.New(rand.NewPCG(source, start))
	var payloads [][]byte
	var seqs []uint64
	for ss := start; ss <= each; {
		n := min(uint64(1+rng.IntN(maxBatch)), each-ss+1)
		payloads = payloads[:0]
		for i := range n {
			payloads = append(payloads, crashPayload(source, ss+i))
		}
		print(fmt.Sprintf("batch %d %d %d\n", source, ss, n))
		var err error
		seqs, err = s.SubmitBatch(source, ss, payloads, seqs[:0])
		if err != nil && !errors.Is(err, ErrDuplicate) {
			t.Error(err)
			return
		}
		// nil or ErrDuplicate: the journal holds the whole batch. A
		// duplicate other than the source's latest answers 0.
		var b strings.Builder
		for i, seq := range seqs {
			kind := "ack"
			if seq == 0 {
				kind = "dup"
			}
			fmt.Fprintf(&b, "%s %d %d %d\n", kind, source, ss+uint64(i), seq)
		}
		print(b.String())
		ss += n
	}
}

// TestCrash kills a child process with many producers at random points
// (SIGKILL, so the journal's fsyncs are all that survive), restarts it, and
// after every round checks the journal through a fresh sequencer: sequences
// gap-free, no (source, sourceSeq) twice, each source numbered 1, 2, 3, …,
// payloads intact, and every acknowledged event present with its
// acknowledged sequence. The child resubmits from each producer's last
// acknowledged number, so events that were journaled but not acknowledged
// before a kill come back as ErrDuplicate; after a last round that runs to
// completion the acknowledged events are exactly the replayed sequence.
// The batch variant submits with SubmitBatch and also checks that every
// batch reached the journal whole or not at all. SYSBLOCKS_LONG=1 runs more
// rounds and events.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	seed := testseed.Seed(t)
	t.Run("submit", func(t *testing.T) { crashRounds(t, seed, 0) })
	t.Run("batch", func(t *testing.T) { crashRounds(t, seed, 16) })
}

// crashRounds is TestCrash with producers that batch up to batch events per
// call (0: Submit).
func crashRounds(t *testing.T, seed uint64, batch int) {
	rng := rand.New(rand.NewPCG(seed, uint64(batch)))
	rounds, producers, each := 10, 8, uint64(300)
	if testseed.Long() {
		rounds, producers, each = 60, 16, 1000
	}
	dir := t.TempDir()
	type key struct{ source, sourceSeq uint64 }
	acked := map[key]uint64{} // acknowledged events; 0 when only known to exist
	last := make([]uint64, producers)
	journaled := map[uint64]uint64{} // source -> last SourceSeq in the journal after the previous round
	kills := 0
	for round := 0; round <= rounds; round++ {
		final := round == rounds
		starts := make([]string, producers)
		remaining := uint64(0)
		for p := range last {
			starts[p] = strconv.FormatUint(max(last[p], 1), 10)
			remaining += each - last[p]
		}
		killAfter := -1
		if !final && remaining > 0 {
			killAfter = rng.IntN(int(remaining))
		}

		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(),
			envCrashDir+"="+dir,
			envCrashStarts+"="+strings.Join(starts, ","),
			envCrashEach+"="+strconv.FormatUint(each, 10),
			envCrashBatch+"="+strconv.Itoa(batch))
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		lines, killed := 0, killAfter == 0
		if killed {
			require.NoError(t, cmd.Process.Kill())
		}
		type span struct{ source, first, n uint64 }
		var batches []span // announced in this round
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var kind string
			var p, ss, seq uint64
			n, _ := fmt.Sscanf(sc.Text(), "%s %d %d %d", &kind, &p, &ss, &seq)
			if n == 4 && kind == "batch" {
				batches = append(batches, span{p, ss, seq})
				continue
			}
			if n != 4 || (kind != "ack" && kind != "dup") {
				continue // the test framework's own output
			}
			k := key{p, ss}
			if prev, ok := acked[k]; ok && prev != 0 && seq != 0 {
				require.Equal(t, prev, seq, "source %d seq %d acknowledged twice with different sequences", p, ss)
			}
			acked[k] = max(acked[k], seq)
			last[p] = max(last[p], ss)
			lines++
			if lines == killAfter && !killed {
				require.NoError(t, cmd.Process.Kill())
				killed = true
			}
		}
		err = cmd.Wait()
		if killed {
			kills++
		} else {
			require.NoError(t, err, "child: %s", stderr.String())
		}

		// Check the journal as a restarted sequencer sees it.
		j, err := wal.Open(dir, wal.Options{Sync: wal.SyncAlways, SegmentSize: 16 << 10})
		require.NoError(t, err)
		s, err := Open(j, Options{})
		require.NoError(t, err)
		seen := map[key]uint64{}
		next := map[uint64]uint64{}
		var n uint64
		require.NoError(t, s.Replay(1, func(e Event) error {
			n++
			require.Equal(t, n, e.Seq, "gap-free")
			k := key{e.Source, e.SourceSeq}
			_, dup := seen[k]
			require.False(t, dup, "source %d seq %d sequenced twice", e.Source, e.SourceSeq)
			seen[k] = e.Seq
			next[e.Source]++
			require.Equal(t, next[e.Source], e.SourceSeq, "source %d numbered without gaps", e.Source)
			require.Equal(t, crashPayload(e.Source, e.SourceSeq), e.Payload)
			return nil
		}))
		require.Equal(t, n, s.LastSeq())
		// A batch's events that were not in the journal before this round
		// arrived all together (one frame) or not at all.
		for _, b := range batches {
			from := max(b.first, journaled[b.source]+1)
			present := uint64(0)
			for ss := from; ss < b.first+b.n; ss++ {
				if _, ok := seen[key{b.source, ss}]; ok {
					present++
				}
			}
			if present > 0 {
				require.Equal(t, b.first+b.n-from, present, "batch of source %d from %d (round %d) journaled in part", b.source, b.first, round)
			}
		}
		journaled = next
		for k, seq := range acked {
			got, ok := seen[k]
			require.True(t, ok, "acknowledged source %d seq %d lost (round %d)", k.source, k.sourceSeq, round)
			if seq != 0 {
				require.Equal(t, seq, got, "source %d seq %d", k.source, k.sourceSeq)
			}
		}
		if final {
			require.Len(t, seen, len(acked), "after the last round the journal holds exactly the acknowledged events")
			require.Equal(t, uint64(producers)*each, n)
		}
		require.NoError(t, s.Close())
		require.NoError(t, j.Close())
	}
	t.Logf("%d rounds, %d kills, %d events", rounds+1, kills, len(acked))
}
