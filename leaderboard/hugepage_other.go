//go:build !linux

package leaderboard

// adviseHuge is a no-op where MADV_HUGEPAGE does not exist.
func adviseHuge([]byte) {}
