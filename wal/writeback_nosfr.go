//go:build !linux || arm

package wal

import "os"

// startWriteback is a no-op where sync_file_range(2) is not in package
// syscall (outside Linux, and on 32-bit ARM, whose call takes its arguments
// in another order); the fsync that seals a segment then writes all of it.
func startWriteback(*os.File, int64, int64) {}
