//go:build unix

package walbench

import "syscall"

// flushDirty writes out the dirty pages earlier benchmarks left behind, so
// that their writeback does not land on whichever implementation runs next.
func flushDirty() { syscall.Sync() }
