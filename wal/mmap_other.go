//go:build !unix

package wal

import "os"

// mapFile is unavailable here: reads use pread.
func mapFile(*os.File, int64) []byte { return nil }

func unmapFile([]byte) {}
