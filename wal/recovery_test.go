package wal

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// crashRec builds the self-describing record number seq of writer g, so
// that any record found after a crash can be checked for being genuine.
func crashRec(g uint32, seq uint64, size int) []byte {
	b := make([]byte, 16+size)
	binary.LittleEndian.PutUint32(b, g)
	binary.LittleEndian.PutUint64(b[4:], seq)
	binary.LittleEndian.PutUint32(b[12:], uint32(size))
	for i := 16; i < len(b); i++ {
		b[i] = byte(uint64(g)*31 + seq*7 + uint64(i))
	}
	return b
}

func genuine(b []byte) bool {
	if len(b) < 16 || int(binary.LittleEndian.Uint32(b[12:])) != len(b)-16 {
		return false
	}
	return bytes.Equal(b, crashRec(binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint64(b[4:]), len(b)-16))
}

const crashChildEnv = "WAL_CRASH_CHILD_DIR"

var crashOpts = Options{Sync: SyncAlways, SegmentSize: 16 << 10, IndexEvery: 512}

// crashChild appends from several goroutines until it is killed, printing
// "offset crc32" for every record once Append or AppendBatch returned.
func crashChild(dir string) {
	l, err := Open(dir, crashOpts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	ack := func(off uint64, recs ...[]byte) {
		mu.Lock()
		defer mu.Unlock()
		for i, r := range recs {
			fmt.Fprintf(out, "%d %d\n", off+uint64(i), crc32.ChecksumIEEE(r))
		}
		out.Flush()
	}
	var wg sync.WaitGroup
	for g := uint32(0); g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(g)))
			for seq := uint64(0); ; seq++ {
				if rng.IntN(4) == 0 {
					batch := make([][]byte, 1+rng.IntN(5))
					for i := range batch {
						batch[i] = crashRec(g, seq, rng.IntN(600))
						seq++
					}
					off, err := l.AppendBatch(batch)
					if err != nil {
						fmt.Fprintln(os.Stderr, "child batch:", err)
						os.Exit(3)
					}
					ack(off, batch...)
					continue
				}
				r := crashRec(g, seq, rng.IntN(2000))
				off, err := l.Append(r)
				if err != nil {
					fmt.Fprintln(os.Stderr, "child append:", err)
					os.Exit(3)
				}
				ack(off, r)
			}
		}()
	}
	wg.Wait()
}

// TestCrashKill (recovery test 1) kills a child process that appends with
// SyncAlways at random moments, then checks that every acknowledged record
// is present with identical bytes, that offsets are contiguous and that every
// record is genuine. SYSBLOCKS_LONG=1 runs 100 rounds instead of 10.
func TestCrashKill(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	rounds := 10
	if long() {
		rounds = 100
	}
	dir := t.TempDir()
	acked := map[uint64]uint32{}
	for round := 0; round < rounds; round++ {
		killAfter := 1 + rng.IntN(300)
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashKill$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		sc := bufio.NewScanner(stdout)
		lines := 0
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 2 {
				continue // test framework output
			}
			off, err1 := strconv.ParseUint(f[0], 10, 64)
			crc, err2 := strconv.ParseUint(f[1], 10, 32)
			if err1 != nil || err2 != nil {
				continue
			}
			acked[off] = uint32(crc)
			lines++
			if lines == killAfter {
				require.NoError(t, cmd.Process.Kill()) // SIGKILL
			}
		}
		waitErr := cmd.Wait()
		require.Error(t, waitErr, "child must die by the kill; stderr: %s", stderr.String())
		require.NotContains(t, stderr.String(), "child ", "the child failed before the kill")
		require.GreaterOrEqual(t, lines, killAfter, "stderr: %s", stderr.String())

		l, err := Open(dir, crashOpts)
		require.NoError(t, err, "round %d reopen", round)
		for off, crc := range acked {
			rec, err := l.Read(off)
			require.NoError(t, err, "round %d: acknowledged offset %d", round, off)
			require.Equal(t, crc, crc32.ChecksumIEEE(rec.Data), "round %d offset %d", round, off)
		}
		r := l.NewReader(l.FirstOffset())
		want := l.FirstOffset()
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			require.Equal(t, want, rec.Offset)
			require.True(t, genuine(rec.Data), "round %d: bogus record at %d", round, rec.Offset)
			want++
		}
		require.Equal(t, l.NextOffset(), want)
		require.NoError(t, l.Close())
	}
	t.Logf("%d rounds, %d acknowledged records verified", rounds, len(acked))
}

// buildLog writes records to a fresh log and returns the model and the
// segment file size before and after the last frame.
func buildLog(t *testing.T, dir string, opts Options, n int) (recs [][]byte, lastPos, lastEnd int64, lastFirst uint64) {
	t.Helper()
	l, err := Open(dir, opts)
	require.NoError(t, err)
	for i := 0; i < n; i++ {
		r := crashRec(0, uint64(i), 10+i*7%90)
		_, err := l.Append(r)
		require.NoError(t, err)
		recs = append(recs, r)
	}
	act := l.segs[len(l.segs)-1]
	lastPos = act.size.Load()
	lastFirst = l.NextOffset()
	batch := [][]byte{crashRec(1, 0, 30), crashRec(1, 1, 0), crashRec(1, 2, 70)}
	_, err = l.AppendBatch(batch)
	require.NoError(t, err)
	recs = append(recs, batch...)
	lastEnd = act.size.Load()
	require.NoError(t, l.Close())
	return recs, lastPos, lastEnd, lastFirst
}

func lastSegPath(t *testing.T, dir string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	require.NoError(t, err)
	require.NotEmpty(t, m)
	return m[len(m)-1]
}

// copyDir copies the regular files of src into a new temp dir.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644))
	}
	return dst
}

// expectRecords opens dir and checks it holds exactly recs[:n].
func expectRecords(t *testing.T, dir string, opts Options, recs [][]byte, n int, msg string) {
	t.Helper()
	l, err := Open(dir, opts)
	require.NoError(t, err, msg)
	defer l.Close()
	require.Equal(t, uint64(n), l.NextOffset(), msg)
	r := l.NewReader(0)
	for i := 0; i < n; i++ {
		rec, err := r.Next()
		require.NoError(t, err, msg)
		require.Equal(t, recs[i], rec.Data, msg)
	}
	_, err = r.Next()
	require.ErrorIs(t, err, io.EOF, msg)
	// The log stays appendable at the right offset.
	off, err := l.Append([]byte("after"))
	require.NoError(t, err, msg)
	require.Equal(t, uint64(n), off, msg)
}

// TestTornTailEveryByte (recovery test 2) cuts the last segment at every
// byte of its last frame (a batch), and also pads the cut with zeros or
// garbage: reopening yields exactly the preceding records.
func TestTornTailEveryByte(t *testing.T) {
	src := t.TempDir()
	opts := Options{Sync: SyncNever}
	recs, pos, end, lastFirst := buildLog(t, src, opts, 20)
	full, err := os.ReadFile(lastSegPath(t, src))
	require.NoError(t, err)
	require.Equal(t, end, int64(len(full)))
	for cut := pos; cut < end; cut++ {
		for _, pad := range []string{"none", "zeros", "garbage"} {
			dir := t.TempDir()
			b := append([]byte(nil), full[:cut]...)
			switch pad {
			case "zeros":
				b = append(b, make([]byte, 4096)...)
			case "garbage":
				rng := rand.New(rand.NewPCG(uint64(cut), 7))
				for i := 0; i < 300; i++ {
					b = append(b, byte(rng.Uint32()))
				}
			}
			require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(lastSegPath(t, src))), b, 0o644))
			expectRecords(t, dir, opts, recs, int(lastFirst), fmt.Sprintf("cut %d pad %s", cut, pad))
		}
	}
	expectRecords(t, copyDir(t, src), opts, recs, len(recs), "intact")
}
