// Package hugepage asks the kernel to back large in-memory tables with
// transparent huge pages, for packages whose random accesses would
// otherwise miss the TLB on nearly every lookup (in a VM, a TLB miss walks
// two page tables).
package hugepage

import "unsafe"

// Size is the size of an x86-64 / arm64 transparent huge page.
const Size = 2 << 20

// Advise asks for huge pages behind the 2 MiB-aligned interior of s's
// capacity (Linux, with transparent huge pages in "madvise" or "always"
// mode; elsewhere it does nothing). s stays ordinary memory, freed by its
// owner as before: the advice only changes how the kernel backs pages it
// has not yet faulted in. It is only advice, so errors are ignored.
// T must hold no pointers.
func Advise[T any](s []T) {
	var zero T
	n := uintptr(cap(s)) * unsafe.Sizeof(zero)
	if n < 2*Size {
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(s[:cap(s)]))
	base := uintptr(p)
	lo := (base+Size-1)&^(Size-1) - base
	hi := (base+n)&^(Size-1) - base
	if hi > lo {
		advise(unsafe.Slice((*byte)(p), n)[lo:hi])
	}
}
