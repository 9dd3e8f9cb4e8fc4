//go:build unix

package walbench

import (
	"syscall"
	"time"
)

// flushDirty writes out the dirty pages earlier benchmarks left behind, so
// that their writeback does not land on whichever implementation runs next.
func flushDirty() { syscall.Sync() }

// cpuTime is the CPU time (user+system) this process has used, its
// garbage collector's included; time blocked on the disk is not in it.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
