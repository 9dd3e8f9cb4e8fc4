package exchange

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sysblocks/sysblocks/wal"
)

func sessionConfig() Config {
	return Config{Symbols: DefaultSymbols()[:20], Accounts: 200}
}

// TestSessionInvariants runs a simulated session through the whole system
// (gateway sessions, fsynced journal, sequencer, state machine, outbound ring,
// market data, reporter) and checks the invariants, the report against the
// engine, and a replay of the journal against the live state.
func TestSessionInvariants(t *testing.T) {
	seed := testSeed(t)
	n := 15000
	if long() {
		n = 200_000
	}
	dir := t.TempDir()
	x, err := Open(dir, Options{Config: sessionConfig(), Clock: stepClock(), Sessions: 64, CheckEvery: 1000})
	require.NoError(t, err)
	res, err := Simulate(context.Background(), x, SimOptions{Commands: n, Clients: 32, Seed: seed})
	require.NoError(t, err)
	require.NoError(t, x.Close())
	require.EqualValues(t, n, res.Commands)
	require.EqualValues(t, n, res.Latency.Count())
	st := x.State()
	require.NoError(t, st.Check())
	require.Positive(t, st.Trades, "the simulation must trade")
	rows, qty, _ := x.Reporter().Totals()
	require.EqualValues(t, st.Trades, rows)
	require.EqualValues(t, st.Volume, qty)
	report, err := os.ReadFile(x.Reporter().Path())
	require.NoError(t, err)
	require.Equal(t, int(st.Trades)+1, strings.Count(string(report), "\n"))
	rec, err := x.Reconcile()
	require.NoError(t, err)
	require.True(t, rec.Balanced(), "settlement file vs ledger: %d missing in file, %d missing in ledger, %d mismatched",
		len(rec.MissingInSettlement), len(rec.MissingInLedger), len(rec.Mismatches))
	require.Len(t, rec.Matched, 2*int(st.Trades))

	replayed, events, err := Replay(dir, sessionConfig())
	require.NoError(t, err)
	require.EqualValues(t, n, events)
	require.Equal(t, st.Hash(), replayed.Hash())
}

// TestRestartResumes closes an exchange, reopens it on the same journal
// (which replays it, market data and report included) and keeps trading.
func TestRestartResumes(t *testing.T) {
	seed := testSeed(t)
	dir := t.TempDir()
	clock := stepClock()
	opts := Options{Config: sessionConfig(), Clock: clock, Sessions: 16, Sync: wal.SyncNever}
	x, err := Open(dir, opts)
	require.NoError(t, err)
	_, err = Simulate(context.Background(), x, SimOptions{Commands: 1500, Clients: 8, Seed: seed})
	require.NoError(t, err)
	require.NoError(t, x.Close())
	before := x.State().Hash()
	rows, _, _ := x.Reporter().Totals()

	y, err := Open(dir, opts)
	require.NoError(t, err)
	require.EqualValues(t, 1500, y.Replayed())
	_, err = Simulate(context.Background(), y, SimOptions{Commands: 10, Clients: 1, Seed: seed + 1})
	require.NoError(t, err, "sessions resume their numbering after a restart")
	require.NoError(t, y.Close())
	require.NotEqual(t, before, y.State().Hash())
	rows2, _, _ := y.Reporter().Totals()
	require.GreaterOrEqual(t, rows2, rows, "the report is rebuilt from the journal")
	require.NoError(t, y.State().Check())

	z, _, err := Replay(dir, sessionConfig())
	require.NoError(t, err)
	require.Equal(t, y.State().Hash(), z.Hash())
}

const crashEnv = "EXCHANGE_CRASH_CHILD"

// TestCrashReplay kills a child process that trades through an fsynced
// journal and prints each acknowledged order id, then rebuilds the state from
// the journal: every acknowledged command must be there, the invariants must
// hold, and two replays must agree.
func TestCrashReplay(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild(dir)
		return
	}
	seed := testSeed(t)
	rounds := 2
	if long() {
		rounds = 10
	}
	dir := t.TempDir()
	var acked uint64
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashReplay$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir, fmt.Sprintf("EXCHANGE_SEED=%d", seed+uint64(round)))
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		sc := bufio.NewScanner(out)
		got := 0
		for got < 400 && sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
				seq, err := strconv.ParseUint(v, 10, 64)
				require.NoError(t, err)
				acked = max(acked, seq)
				got++
			}
		}
		require.NoError(t, cmd.Process.Kill())
		_ = cmd.Wait()
		require.Equal(t, 400, got, "child output ended early")

		a, n, err := Replay(dir, sessionConfig())
		require.NoError(t, err)
		require.GreaterOrEqual(t, n, acked, "an acknowledged command was lost")
		require.NoError(t, a.Check())
		b, _, err := Replay(dir, sessionConfig())
		require.NoError(t, err)
		require.Equal(t, a.Hash(), b.Hash())
	}
}

// crashChild trades until killed, printing the sequence of each ack.
func crashChild(dir string) {
	x, err := Open(dir, Options{Config: sessionConfig(), Sessions: 8})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	seed, _ := strconv.ParseUint(os.Getenv("EXCHANGE_SEED"), 10, 64)
	w := bufio.NewWriter(os.Stdout)
	rng := rand.New(rand.NewPCG(seed, 0))
	fair := make([]atomic.Int64, 20)
	for i := range fair {
		fair[i].Store(DefaultSymbols()[i].RefPrice)
	}
	for {
		c := simOrderCommand(rng, uint64(1+rng.IntN(200)), fair)
		ack, err := x.Submit(context.Background(), c)
		if err != nil {
			fmt.Println("submit:", err)
			os.Exit(2)
		}
		fmt.Fprintf(w, "ack %d\n", ack.Seq)
		_ = w.Flush()
	}
}
