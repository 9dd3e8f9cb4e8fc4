//go:build linux

package sequencer

import (
	"syscall"
	"unsafe"
)

// setAffinity binds the calling OS thread to cpus with sched_setaffinity(2)
// (pid 0 is the calling thread). The caller has locked its goroutine to the
// thread. This file is the package's only use of unsafe: the system call
// takes the mask by address.
func setAffinity(cpus []int) error {
	var mask [maxCPU / 64]uint64
	for _, c := range cpus {
		mask[c/64] |= 1 << (c % 64)
	}
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask)))
	if errno != 0 {
		return errno
	}
	return nil
}
