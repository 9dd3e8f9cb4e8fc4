package leaderboard

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// shardedBenchShards is the shard count of the partitioned benchmarks.
const shardedBenchShards = 8

// skewedScore draws an exponentially distributed score (mean 1000): most
// players have low scores, as the design document warns.
func skewedScore(r *rand.Rand) float64 { return math.Floor(r.ExpFloat64() * 1000) }

// BenchmarkSharded compares a single Board, hash partitioning and score
// partitioning over shardedBenchShards shards, with skewed scores and
// score bounds of equal width. "maxshard%" is the largest shard's share.
func BenchmarkSharded(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run("n="+map[int]string{1_000: "1k", 1_000_000: "1M"}[n], func(b *testing.B) {
			if testing.Short() && n >= 1_000_000 {
				b.Skip("large board skipped under -short")
			}
			names := benchNames(n)
			single := New()
			hs, _ := NewSharded(shardedBenchShards, Options{})
			bounds := make([]float64, shardedBenchShards-1)
			for i := range bounds {
				bounds[i] = float64(500 * (i + 1))
			}
			ss, _ := NewScoreSharded(bounds, Options{})
			r := rand.New(rand.NewPCG(11, 12))
			for _, m := range names {
				s := skewedScore(r)
				single.Add(m, s)
				hs.Add(m, s)
				ss.Add(m, s)
			}
			maxShare := func(lens func(i int) int, k int) float64 {
				mx := 0
				for i := 0; i < k; i++ {
					mx = max(mx, lens(i))
				}
				return 100 * float64(mx) / float64(n)
			}
			for _, impl := range []struct {
				name  string
				p     partitioned
				share float64
			}{
				{"single", single, 100},
				{"hash", hs, maxShare(hs.ShardLen, hs.Shards())},
				{"score", ss, maxShare(ss.ShardLen, ss.Shards())},
			} {
				run := func(op string, f func(b *testing.B, r *rand.Rand)) {
					b.Run(op+"/impl="+impl.name, func(b *testing.B) {
						b.ReportAllocs()
						withCPU(b, func() { f(b, rand.New(rand.NewPCG(13, 14))) })
						b.ReportMetric(impl.share, "maxshard%")
					})
				}
				p := impl.p
				run("Update", func(b *testing.B, r *rand.Rand) {
					for b.Loop() {
						p.Add(names[r.IntN(n)], skewedScore(r))
					}
				})
				run("Rank", func(b *testing.B, r *rand.Rand) {
					for b.Loop() {
						p.Rank(names[r.IntN(n)])
					}
				})
				run("Top10", func(b *testing.B, _ *rand.Rand) {
					dst := make([]Entry, 0, 10)
					for b.Loop() {
						dst = p.Top(10, dst[:0])
					}
				})
				run("Range1000", func(b *testing.B, _ *rand.Rand) {
					dst := make([]Entry, 0, 10)
					for b.Loop() {
						dst = p.Range(1000, 1009, dst[:0])
					}
				})
			}
		})
	}
}

// BenchmarkSnapshot measures WriteTo and Load of a 1k / 1M member board.
func BenchmarkSnapshot(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			if testing.Short() && n >= 1_000_000 {
				b.Skip("large board skipped under -short")
			}
			bb := benchBoardOf(b, n)
			snap := snapshotOf(b, bb.b)
			b.Run("WriteTo", func(b *testing.B) {
				b.SetBytes(int64(len(snap)))
				b.ReportAllocs()
				for b.Loop() {
					bb.b.WriteTo(discard{})
				}
			})
			b.Run("Load", func(b *testing.B) {
				b.SetBytes(int64(len(snap)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Load(bytesReader(snap)); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
