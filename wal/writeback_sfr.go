//go:build linux && !arm

package wal

import (
	"os"
	"syscall"
)

// syncFileRangeWrite is SYNC_FILE_RANGE_WRITE from <linux/fs.h>.
const syncFileRangeWrite = 2

// startWriteback asks the kernel to start writing bytes [off, off+n) of f
// to disk without waiting for it, so that the fsync that seals a segment
// finds little left to do. It is only a hint and changes no guarantee:
// errors are ignored, the fsyncs that promise durability report real ones.
func startWriteback(f *os.File, off, n int64) {
	_ = syscall.SyncFileRange(int(f.Fd()), off, n, syncFileRangeWrite)
}
