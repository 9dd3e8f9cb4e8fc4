package leaderboard

import (
	"errors"
	"math/rand/v2"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkHot measures the update path alone on one big board (25M
// members unless SYSBLOCKS_LB_N says otherwise; skipped under -short), for
// quick iterations:
//
//	go test -run '^$' -bench '^BenchmarkHot$' -benchtime 2s -count 3 ./leaderboard/
//
// Member names are formatted into a reused buffer for each call instead of
// read from a slice of 25M strings, so the benchmark's own cache misses are
// not charged to the board: a caller's member arrives in cache with the
// request. Sub-benchmarks: "uniform" sets a random member to a uniformly
// random new score (Add), "incr1-10" adds 1..10 points (Incr, the design's
// typical game update), "rank" is Rank for comparison.
func BenchmarkHot(b *testing.B) {
	if testing.Short() {
		b.Skip("big board skipped under -short")
	}
	n := 25_000_000
	if s := os.Getenv("SYSBLOCKS_LB_N"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("SYSBLOCKS_LB_N=%q: want a positive integer", s)
		}
		n = v
	}
	bd := hotBoard(b, n)
	var buf []byte
	member := func(i int) string {
		buf = strconv.AppendInt(append(buf[:0], "player:"...), int64(i), 10)
		return view(buf) // Add and Incr copy what they keep
	}
	run := func(name string, op func(m string, r *rand.Rand) error) {
		b.Run(name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(hotSeed.Add(1), 4))
			b.ReportAllocs()
			withCPU(b, func() {
				for b.Loop() {
					if err := op(member(r.IntN(n)), r); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
	run("uniform", func(m string, r *rand.Rand) error {
		_, err := bd.Add(m, float64(r.IntN(benchScoreRange)))
		return err
	})
	run("incr1-10", func(m string, r *rand.Rand) error {
		_, err := bd.Incr(m, float64(1+r.IntN(10)))
		return err
	})
	run("rank", func(m string, _ *rand.Rand) error {
		if _, ok := bd.Rank(m); !ok {
			return errors.New("member missing")
		}
		return nil
	})
}

// hotSeed gives every run its own random stream: with -count, a repeated
// stream would set members to the scores they already hold, which Add
// skips.
var hotSeed atomic.Uint64

var hotCache struct {
	n int
	b *Board
}

// hotBoard builds (once per process) a board of n members "player:<i>"
// with the scores benchBoardOf gives them.
func hotBoard(b *testing.B, n int) *Board {
	if hotCache.n == n {
		return hotCache.b
	}
	start := time.Now()
	bd := New()
	r := rand.New(rand.NewPCG(1, 2))
	var buf []byte
	for i := 0; i < n; i++ {
		buf = strconv.AppendInt(append(buf[:0], "player:"...), int64(i), 10)
		if _, err := bd.Add(view(buf), float64(r.IntN(benchScoreRange))); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("built %d members in %v", n, time.Since(start))
	hotCache.n, hotCache.b = n, bd
	return bd
}
