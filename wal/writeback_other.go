//go:build !linux

package wal

import "os"

// syncData makes the written data of f durable (fsync; os.File.Sync uses
// F_FULLFSYNC on darwin).
func syncData(f *os.File) error { return f.Sync() }

// preallocate is a no-op where fallocate(2) does not exist: the file
// grows with each append.
func preallocate(*os.File, int64) {}

// populateTail is a no-op where madvise(MADV_POPULATE_WRITE) does not
// exist: appends fault the pages in one at a time.
func populateTail[T any]([]T) {}
