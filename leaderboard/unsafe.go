package leaderboard

import (
	"unsafe"

	"github.com/sysblocks/sysblocks/internal/hugepage"
)

// This file holds every use of unsafe in the package, but for prefetch
// itself (prefetch_amd64.s and its portable stand-in, prefetch_other.go).

// view returns b as a string without copying. It is sound because arena
// bytes are never written again once a member is stored (members.store
// only appends; compact copies to fresh chunks), so the returned string is
// immutable for its lifetime.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// sizeOf is the size of a T in bytes.
func sizeOf[T any]() int {
	var z T
	return int(unsafe.Sizeof(z))
}

// hugeMin is the allocation size from which hugeSlice asks for huge pages.
const hugeMin = 4 * hugepage.Size

// hugeSlice returns a zeroed []T of length n. When it spans at least hugeMin
// bytes it asks for transparent huge pages behind it (see hugepage.Advise):
// a big board's random accesses then miss the TLB far less. The slice is
// ordinary Go memory, freed by the garbage collector like any other.
// T must hold no pointers.
func hugeSlice[T any](n int) []T {
	s := make([]T, n)
	if n*sizeOf[T]() >= hugeMin {
		hugepage.Advise(s)
	}
	return s
}

// prefetchSpan prefetches the n values from p on (see prefetch); they must
// lie inside one slice or array.
func prefetchSpan[T any](p *T, n int) {
	prefetch(unsafe.Pointer(p), uintptr(n)*unsafe.Sizeof(*p))
}

// prefetchThrough prefetches the bytes from *from through *to, which must
// lie in that order inside one object: a node's head and its first keys in
// one call.
func prefetchThrough[T, U any](from *T, to *U) {
	p := unsafe.Pointer(from)
	prefetch(p, uintptr(unsafe.Pointer(to))-uintptr(p)+unsafe.Sizeof(*to))
}
