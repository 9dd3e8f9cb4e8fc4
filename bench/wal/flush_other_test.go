//go:build !unix

package walbench

// flushDirty is a no-op where sync(2) does not exist.
func flushDirty() {}
