package ratelimit

import (
	"flag"
	"os"
	"strconv"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed for randomised tests (default: from the clock; env RATELIMIT_SEED also works)")

// testSeed returns the seed for a randomised test and logs it so that a
// failure can be replayed with -seed or RATELIMIT_SEED.
func testSeed(t testing.TB) uint64 {
	t.Helper()
	seed := *seedFlag
	if s := os.Getenv("RATELIMIT_SEED"); s != "" && seed == 0 {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("RATELIMIT_SEED: %v", err)
		}
		seed = v
	}
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed %d)", seed, seed)
	return seed
}

// longTests reports whether SYSBLOCKS_LONG=1 asks for the longer runs.
func longTests() bool { return os.Getenv("SYSBLOCKS_LONG") == "1" }

// fakeClock is an injectable clock moved by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }
