package leaderboard

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time of the calling OS thread
// (getrusage RUSAGE_THREAD), so benchmarks on a shared machine can report
// CPU per op next to wall time per op.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(1, &ru) != nil { // 1 = RUSAGE_THREAD
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
