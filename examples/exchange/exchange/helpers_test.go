package exchange

import (
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// testSeed returns EXCHANGE_SEED if set, else a fresh seed, and logs it.
func testSeed(t testing.TB) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("EXCHANGE_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("EXCHANGE_SEED: %v", err)
		}
		seed = s
	}
	t.Logf("seed %d (rerun with EXCHANGE_SEED=%d)", seed, seed)
	return seed
}

// stepClock is a deterministic sequencer clock: each reading is 1ms later.
func stepClock() func() time.Time {
	var n atomic.Int64
	base := time.Date(2026, 11, 23, 14, 30, 0, 0, time.UTC)
	return func() time.Time { return base.Add(time.Duration(n.Add(1)) * time.Millisecond) }
}

func long() bool { return os.Getenv("SYSBLOCKS_LONG") != "" }
