//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package wal

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	lockChildEnv = "WAL_LOCK_CHILD_DIR"
	lockExitEnv  = "WAL_LOCK_CHILD_EXIT" // the child exits holding the lock
)

// TestLocked: while a Log has a directory open, Open of the same directory
// fails with ErrLocked in another process (a re-executed test binary) and
// in this one; after Close, or after the holding process dies, it works.
func TestLocked(t *testing.T) {
	if dir := os.Getenv(lockChildEnv); dir != "" {
		l, err := Open(dir, Options{Sync: SyncNever})
		switch {
		case errors.Is(err, ErrLocked):
			fmt.Println("child: locked")
		case err != nil:
			fmt.Println("child: error:", err)
		default:
			fmt.Println("child: opened")
			if os.Getenv(lockExitEnv) != "" {
				os.Exit(0)
			}
			if err := l.Close(); err != nil {
				fmt.Println("child: close:", err)
			}
		}
		return
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	child := func(dir string, env ...string) string {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestLocked$")
		cmd.Env = append(append(os.Environ(), lockChildEnv+"="+dir), env...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "child: ") {
				return strings.TrimPrefix(line, "child: ")
			}
		}
		t.Fatalf("no child report in %q", out)
		return ""
	}
	dir := t.TempDir()
	l, err := Open(dir, Options{Sync: SyncNever})
	require.NoError(t, err)
	_, err = l.Append([]byte("x"))
	require.NoError(t, err)
	require.Equal(t, "locked", child(dir))
	_, err = Open(dir, Options{Sync: SyncNever})
	require.ErrorIs(t, err, ErrLocked)
	require.Contains(t, err.Error(), dir)
	require.NoError(t, l.Close())
	require.Equal(t, "opened", child(dir))

	// A process that dies holding the lock (the child exits without
	// Close) leaves the directory openable.
	require.Equal(t, "opened", child(dir, lockExitEnv+"=1"))
	l, err = Open(dir, Options{Sync: SyncNever})
	require.NoError(t, err)
	require.Equal(t, uint64(1), l.NextOffset())
	require.NoError(t, l.Close())
}
