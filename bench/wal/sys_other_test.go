//go:build !unix

package walbench

import "time"

// flushDirty is a no-op where sync(2) does not exist.
func flushDirty() {}

// cpuTime is not measured here: the cpu-ns/op metric is left out.
func cpuTime() time.Duration { return 0 }
