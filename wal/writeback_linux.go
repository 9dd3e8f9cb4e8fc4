//go:build linux

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

// syncData makes the written data of f durable with fdatasync(2): the data
// and the metadata needed to read it back (the file size) reach stable
// storage, without the timestamp update fsync(2) would also force.
func syncData(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			if err != nil {
				return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
			}
			return nil
		}
	}
}

// preallocate reserves disk blocks for the first size bytes of f without
// changing its size (FALLOC_FL_KEEP_SIZE), so that appends write into
// allocated blocks instead of allocating on every page; the file size still
// ends at the last written byte, which recovery relies on. A hint: errors
// (a file system without fallocate) are ignored.
func preallocate(f *os.File, size int64) {
	const fallocKeepSize = 1 // FALLOC_FL_KEEP_SIZE from <linux/falloc.h>
	_ = syscall.Fallocate(int(f.Fd()), fallocKeepSize, 0, size)
}

// trimReserve frees the blocks preallocate reserved past the end of f (a
// truncation to its own size), once f will grow no more: a sealed or closed
// segment occupies only what it holds. A hint: errors are ignored.
func trimReserve(f *os.File) {
	if st, err := f.Stat(); err == nil {
		_ = f.Truncate(st.Size())
	}
}
