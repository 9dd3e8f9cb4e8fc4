//go:build !amd64

package leaderboard

import (
	"runtime"
	"unsafe"
)

// prefetch is the portable stand-in for the amd64 PREFETCHT0 loop: it
// loads one byte of each cache line of the size bytes at p, which fetches
// them too but holds up later instructions until they arrive. p must
// point to size readable bytes.
func prefetch(p unsafe.Pointer, size uintptr) {
	var s byte
	for off := uintptr(0); off < size; off += 64 {
		s += *(*byte)(unsafe.Add(p, off))
	}
	if size > 0 {
		s += *(*byte)(unsafe.Add(p, size-1))
	}
	runtime.KeepAlive(s) // a use of the loads, so they are not optimised away
}
