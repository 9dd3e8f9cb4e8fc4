package ledger

import (
	"bufio"
	"errors"
	"fmt"
	"io"
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

const crashDirEnv = "LEDGER_CRASH_DIR"

// crashBatch is batch i of round r: deterministic, mostly valid, with pending transfers and
// posts/voids of earlier ones, and linked pairs.
func crashBatch(round, i int) []Transfer {
	r := rand.New(rand.NewPCG(uint64(round), uint64(i)))
	n := 1 + r.IntN(64)
	b := make([]Transfer, n)
	base := uint64(round)<<40 | uint64(i)<<12
	for k := range b {
		id := base | uint64(k+1)
		t := tr(id, bank, 2+uint64(r.IntN(3)), 1+r.Uint64N(1000), 0)
		switch r.IntN(6) {
		case 0:
			t.Flags |= Pending
		case 1:
			if k > 0 && b[k-1].Flags&Pending != 0 {
				t = Transfer{ID: id, PendingID: b[k-1].ID, Flags: PostPending}
			}
		case 2:
			t.DebitAccountID, t.CreditAccountID = t.CreditAccountID, bank // may exceed credits
		}
		if k < n-1 && r.IntN(8) == 0 {
			t.Flags |= Linked
		}
		b[k] = t
	}
	return b
}

// TestCrashChild is the child process of TestCrashReplay: it appends batches forever, printing
// "ack <index> <hash>" after each acknowledged one, until it is killed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("child of TestCrashReplay")
	}
	round, err := strconv.Atoi(os.Getenv("LEDGER_CRASH_ROUND"))
	require.NoError(t, err)
	w, err := wal.Open(dir, wal.Options{Sync: wal.SyncAlways, SegmentSize: 256 << 10})
	require.NoError(t, err)
	l, err := Open(w, Options{})
	require.NoError(t, err)
	if n, _ := l.Len(); n == 0 {
		accounts := wallets()
		for i := range accounts {
			accounts[i].Flags &^= History
		}
		_, err := l.CreateAccounts(accounts)
		require.NoError(t, err)
		fmt.Printf("accounts %x\n", l.Hash())
	}
	out := bufio.NewWriter(os.Stdout)
	if os.Getenv("LEDGER_CRASH_CONCURRENT") != "" {
		crashConcurrent(t, l, round)
	}
	for i := 0; ; i++ {
		_, err := l.CreateTransfers(crashBatch(round, i))
		require.NoError(t, err)
		fmt.Fprintf(out, "ack %d %x\n", i, l.Hash())
		require.NoError(t, out.Flush())
	}
}

// crashConcurrent runs 4 writers sharing the journal (group commit); each prints
// "ack <writer> <index>" once its batch is acknowledged. Writer w's batches are crashBatch of
// round*8+w, so their IDs never clash.
func crashConcurrent(t *testing.T, l *Ledger, round int) {
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	errs := make(chan error, 4)
	for w := range 4 {
		go func() {
			for i := 0; ; i++ {
				if _, err := l.CreateTransfers(crashBatch(round*8+w, i)); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				fmt.Fprintf(out, "ack %d %d\n", w, i)
				err := out.Flush()
				mu.Unlock()
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	require.NoError(t, <-errs)
}

// TestCrashConcurrent kills a child with 4 concurrent writers mid-stream: after reopen, the
// record of every acknowledged batch is in the journal and the replayed state is sound.
func TestCrashConcurrent(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("in the child")
	}
	rounds := 3
	if testseed.Long() {
		rounds = 30
	}
	r := newRand(t)
	dir := t.TempDir()
	for round := 1; round <= rounds; round++ {
		kill := 4 + r.IntN(80)
		cmd, sc := startChild(t, dir, round, "LEDGER_CRASH_CONCURRENT=1")
		var acked []uint64 // ID of the first transfer of each acknowledged batch
		killed := false
		// Read until EOF: the child may acknowledge more batches after the kill-th, before the
		// signal lands; every one it printed counts.
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if f[0] == "accounts" {
				continue
			}
			require.Len(t, f, 3, "child says %q", sc.Text())
			w, err1 := strconv.Atoi(f[1])
			i, err2 := strconv.Atoi(f[2])
			require.NoError(t, errors.Join(err1, err2))
			acked = append(acked, crashBatch(round*8+w, i)[0].ID)
			if len(acked) == kill && !killed {
				require.NoError(t, cmd.Process.Kill())
				killed = true
			}
		}
		_ = cmd.Wait()
		require.True(t, killed, "child died early")

		w, err := wal.Open(dir, wal.Options{Sync: wal.SyncAlways, SegmentSize: 256 << 10})
		require.NoError(t, err)
		journaled := map[uint64]bool{}
		rd := w.NewReader(0)
		var rec record
		for {
			raw, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			require.NoError(t, decodeRecord(raw.Data, &rec))
			if rec.kind == kindTransfers {
				journaled[rec.transfers[0].ID] = true
			}
		}
		for _, id := range acked {
			require.True(t, journaled[id], "round %d: acknowledged batch starting with %d lost", round, id)
		}
		l, err := Open(w, Options{})
		require.NoError(t, err)
		l.mu.RLock()
		checkInvariants(t, l.accounts)
		l.mu.RUnlock()
		require.NoError(t, l.Close())
		require.NoError(t, w.Close())
		t.Logf("round %d: killed after %d acks (%d printed), %d records on disk", round, kill, len(acked), len(journaled))
	}
}

// TestCrashReplay kills a child process (SIGKILL) while it appends batches with SyncAlways,
// at a random acknowledged batch, then reopens: the state must be exactly the state after the
// last acknowledged batch, or after the one in flight if its record made it to disk, never
// anything else; invariants must hold; and the next round continues on the same journal.
func TestCrashReplay(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("in the child")
	}
	rounds := 4
	if testseed.Long() {
		rounds = 40
	}
	r := newRand(t)
	dir := t.TempDir()
	var records uint64 // records in the journal before the round
	for round := 1; round <= rounds; round++ {
		kill := 1 + r.IntN(40)
		cmd, sc := startChild(t, dir, round)
		acked, hash, killed := uint64(0), "", false
		// Read until EOF: the child may acknowledge more batches after the kill-th, before the
		// signal lands; the last one it printed is the state to find.
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 2 && f[0] == "accounts":
				records++ // the accounts batch, acknowledged
				hash = f[1]
			case len(f) == 3 && f[0] == "ack":
				acked++
				hash = f[2]
			default:
				t.Fatalf("child says %q", sc.Text())
			}
			if acked == uint64(kill) && !killed {
				require.NoError(t, cmd.Process.Kill())
				killed = true
			}
		}
		_ = cmd.Wait() // killed: the exit status is the signal
		require.True(t, killed, "child died early")

		w, err := wal.Open(dir, wal.Options{Sync: wal.SyncAlways, SegmentSize: 256 << 10})
		require.NoError(t, err)
		total := w.NextOffset()
		require.GreaterOrEqual(t, total, records+acked, "round %d: acknowledged batches lost", round)
		require.LessOrEqual(t, total, records+acked+1, "round %d: more records than batches", round)
		require.Equal(t, hash, fmt.Sprintf("%x", replayPrefix(t, w, records+acked).Hash()), "round %d: state after the last ack", round)
		l, err := Open(w, Options{})
		require.NoError(t, err, "round %d", round)
		l.mu.RLock()
		checkInvariants(t, l.accounts)
		l.mu.RUnlock()
		require.NoError(t, l.Close())
		require.NoError(t, w.Close())
		records = total
		t.Logf("round %d: killed after %d acks, %d records on disk", round, acked, total)
	}
}

// startChild re-executes the test binary as TestCrashChild on dir and returns a scanner over
// its output.
func startChild(t *testing.T, dir string, round int, env ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, "LEDGER_CRASH_ROUND="+strconv.Itoa(round))
	cmd.Env = append(cmd.Env, env...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	return cmd, bufio.NewScanner(stdout)
}

// replayPrefix rebuilds a ledger from the first n records of w.
func replayPrefix(t *testing.T, w *wal.Log, n uint64) *Ledger {
	t.Helper()
	l := New(Options{})
	rd := w.NewReader(0)
	var rec record
	for range n {
		raw, err := rd.Next()
		require.NoError(t, err)
		require.NoError(t, decodeRecord(raw.Data, &rec))
		l.apply(&rec, nil)
	}
	return l
}
