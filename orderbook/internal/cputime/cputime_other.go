//go:build !linux

package cputime

import "time"

// Thread reports false: per-thread CPU time is only read on Linux.
func Thread() (time.Duration, bool) { return 0, false }
