//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package wal

import "os"

// lockDir does nothing where flock(2) does not exist (Windows, Solaris,
// Plan 9, wasm): a second Log on the same directory is not detected there.
func lockDir(string) (*os.File, error) { return nil, nil }
