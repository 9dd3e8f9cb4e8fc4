package redislimit_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a redis-server child process on a Unix socket of its own.
type redisServer struct {
	cmd  *exec.Cmd
	sock string
	done chan struct{} // closed when the process has exited
}

// startRedis starts a private redis-server and stops it when the test ends.
// Without redis-server on PATH the test is skipped, unless CI=true, when it
// fails: CI installs redis-server, so its absence there is a broken setup.
func startRedis(tb testing.TB) *redisServer {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("redis-server not on PATH (CI=true): %v", err)
		}
		tb.Skipf("redis-server not on PATH: %v", err)
	}
	// Redis 7.0 logs "ready to accept connections at <socket>", 7.2 "Ready to
	// accept connections unix". A short directory: a Unix socket path must fit in 108 bytes.
	dir, err := os.MkdirTemp("", "redislimit")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	s := &redisServer{sock: filepath.Join(dir, "r.sock"), done: make(chan struct{})}
	s.cmd = exec.Command(bin, "--port", "0", "--unixsocket", s.sock, "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", "")
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	s.cmd.Stderr = s.cmd.Stdout
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("start redis-server: %v", err)
	}
	ready := make(chan struct{})
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			if !signalled {
				log.WriteString(sc.Text() + "\n")
				if strings.Contains(strings.ToLower(sc.Text()), "ready to accept connections") {
					signalled = true
					close(ready)
				}
			}
		}
		if !signalled {
			close(ready)
		}
		s.cmd.Wait()
		close(s.done)
	}()
	tb.Cleanup(s.stop)
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		s.stop()
		tb.Fatalf("redis-server not ready after 20s")
	}
	select {
	case <-s.done:
		tb.Fatalf("redis-server exited:\n%s", log.String())
	default:
	}
	return s
}

// stop kills the server and waits for it to exit.
func (s *redisServer) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Kill()
	<-s.done
}

// client returns a client of the server, closed when the test ends.
func (s *redisServer) client(tb testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Network: "unix", Addr: s.sock, PoolSize: 32})
	tb.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		tb.Fatalf("ping: %v", err)
	}
	return c
}
