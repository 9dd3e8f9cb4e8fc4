// Package testseed gives randomised tests a seed that can be replayed. Only tests import it.
package testseed

import (
	"flag"
	"os"
	"strconv"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed for randomised tests (0: from SYSBLOCKS_SEED or the clock)")

// Seed returns the seed of a randomised test: -seed, else SYSBLOCKS_SEED, else the clock.
// It logs the seed so a failure can be replayed.
func Seed(t testing.TB) uint64 {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		if v, err := strconv.ParseUint(os.Getenv("SYSBLOCKS_SEED"), 10, 64); err == nil {
			seed = v
		}
	}
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed %d or SYSBLOCKS_SEED=%d)", seed, seed, seed)
	return seed
}

// Long reports whether SYSBLOCKS_LONG=1 asks for the long randomised runs.
func Long() bool { return os.Getenv("SYSBLOCKS_LONG") == "1" }
