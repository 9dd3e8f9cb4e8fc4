// Package cputime reads the CPU time of the calling OS thread, for
// benchmarks that must stay meaningful on a loaded machine.
package cputime

import (
	"syscall"
	"time"
	"unsafe"
)

// clockThreadCPUTimeID is Linux's CLOCK_THREAD_CPUTIME_ID, which package
// syscall lacks. Unlike getrusage, it has nanosecond resolution rather than
// the scheduler tick, so short timed sections add up correctly.
const clockThreadCPUTimeID = 3

// Thread returns the CPU time (user + system) the calling OS thread has
// used, and true, on Linux. Lock the goroutine to its thread
// (runtime.LockOSThread) around a measurement.
func Thread() (time.Duration, bool) {
	var ts syscall.Timespec
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
