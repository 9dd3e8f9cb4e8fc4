package leaderboard

import "unsafe"

// prefetch asks the CPU to load the cache lines of the size bytes at p
// (PREFETCHT0), without waiting for them: unlike a load, a prefetch that
// misses does not hold up the instructions after it. It never faults, so
// p may point anywhere.
//
//go:noescape
func prefetch(p unsafe.Pointer, size uintptr)
