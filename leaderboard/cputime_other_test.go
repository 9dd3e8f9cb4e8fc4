//go:build !linux

package leaderboard

import "time"

// threadCPU is unavailable here; benchmarks then report no cpu-ns/op.
func threadCPU() time.Duration { return 0 }
