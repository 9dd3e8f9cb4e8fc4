//go:build unix

package wal

import (
	"os"
	"syscall"
)

// mapFile maps the first size bytes of a segment file read-only (size may
// exceed the file; only written bytes are ever accessed). A mapped file is
// never truncated in place while readers may use it (TruncateBack rewrites
// it to a new file), so a mapping never loses its pages.
func mapFile(f *os.File, size int64) []byte {
	if size <= 0 || int64(int(size)) != size {
		return nil
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil // reads fall back to pread
	}
	return b
}

func unmapFile(b []byte) {
	if b != nil {
		_ = syscall.Munmap(b) // only fails for a bad address, which cannot happen here
	}
}
