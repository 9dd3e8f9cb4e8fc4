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

	"github.com/sysblocks/sysblocks/wal"
)

// Environment of the crash child process.
const (
	envCrashDir    = "SEQUENCER_CRASH_DIR"    // journal directory
	envCrashStarts = "SEQUENCER_CRASH_STARTS" // first SourceSeq per producer, comma-separated
	envCrashEach   = "SEQUENCER_CRASH_EACH"   // last SourceSeq per producer
)

func crashPayload(source, sourceSeq uint64) []byte {
	return []byte(fmt.Sprintf("order %d/%d", source, sourceSeq))
}

// TestCrashChild is the child of TestCrash: producer p submits SourceSeq
// starts[p]..each for source p on a SyncAlways journal while a Run loop
// consumes, and prints one line per answer ("ack p sourceSeq seq" or "dup p
// sourceSeq seq") after Submit returns. The parent kills it at random.
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

	var out sync.Mutex
	var wg sync.WaitGroup
	for p, start := range starts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ss := start; ss <= each; ss++ {
				seq, err := s.Submit(uint64(p), ss, crashPayload(uint64(p), ss))
				kind := "ack"
				if errors.Is(err, ErrDuplicate) {
					kind = "dup"
				} else if err != nil {
					t.Error(err)
					return
				}
				out.Lock()
				// One write per line: a kill never tears an answer.
				_, _ = os.Stdout.WriteString(fmt.Sprintf("%s %d %d %d\n", kind, p, ss, seq))
				out.Unlock()
			}
		}()
	}
	wg.Wait()
	require.NoError(t, s.Close())
	require.ErrorIs(t, run.wait(), ErrClosed)
	require.NoError(t, j.Close())
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
// SYSBLOCKS_LONG=1 runs more rounds and events.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 0))
	rounds, producers, each := 10, 8, uint64(300)
	if long() {
		rounds, producers, each = 60, 16, 1000
	}
	dir := t.TempDir()
	type key struct{ source, sourceSeq uint64 }
	acked := map[key]uint64{} // acknowledged events; 0 when only known to exist
	last := make([]uint64, producers)
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
			envCrashEach+"="+strconv.FormatUint(each, 10))
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		lines, killed := 0, killAfter == 0
		if killed {
			require.NoError(t, cmd.Process.Kill())
		}
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var kind string
			var p, ss, seq uint64
			if n, _ := fmt.Sscanf(sc.Text(), "%s %d %d %d", &kind, &p, &ss, &seq); n != 4 || (kind != "ack" && kind != "dup") {
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
