//go:build !linux

package wal

import "os"

// startWriteback is a no-op where sync_file_range(2) does not exist; the
// fsync that seals a segment then writes all of it.
func startWriteback(*os.File, int64, int64) {}

// syncData makes the written data of f durable (fsync; os.File.Sync uses
// F_FULLFSYNC on darwin).
func syncData(f *os.File) error { return f.Sync() }

// preallocate and trimReserve are no-ops where fallocate(2) does not exist.
func preallocate(*os.File, int64) {}

func trimReserve(*os.File) {}
