package leaderboard

import (
	"errors"
	"fmt"
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
// typical game update), "rank" is Rank for comparison. The "/batch=k"
// variants send the same updates through AddBatch / IncrBatch k at a time;
// ns/op and cpu-ns/op are still per update. "hot/..." sends batches over
// only hotSet members, which stay in cache: the batch path's CPU floor.
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
	for _, size := range hotBatchSizes {
		runBatch := func(name string, incr bool) {
			b.Run(fmt.Sprintf("%s/batch=%d", name, size), func(b *testing.B) {
				r := rand.New(rand.NewPCG(hotSeed.Add(1), 4))
				bt := newBenchBatch(bd, size, incr)
				b.ReportAllocs()
				withCPU(b, func() {
					for b.Loop() {
						score := float64(r.IntN(benchScoreRange))
						if incr {
							score = float64(1 + r.IntN(10))
						}
						bt.put(b, "player:", r.IntN(n), score)
					}
					bt.flush(b)
				})
			})
		}
		runBatch("uniform", false)
		runBatch("incr1-10", true)
	}
	run("rank", func(m string, _ *rand.Rand) error {
		if _, ok := bd.Rank(m); !ok {
			return errors.New("member missing")
		}
		return nil
	})
	// The batch calls' CPU floor: the same batches over a hot set of
	// hotSet members, which after the first updates (scores in a narrow
	// window for "uniform") all sit in cache, so nothing waits for memory.
	for _, incr := range []bool{false, true} {
		name := "hot/uniform/batch=256"
		if incr {
			name = "hot/incr1-10/batch=256"
		}
		b.Run(name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(hotSeed.Add(1), 4))
			bt := newBenchBatch(bd, 256, incr)
			stride := max(1, n/hotSet)
			b.ReportAllocs()
			withCPU(b, func() {
				for b.Loop() {
					score := float64(r.IntN(1 << 16))
					if incr {
						score = float64(1 + r.IntN(10))
					}
					bt.put(b, "player:", r.IntN(min(n, hotSet))*stride, score)
				}
				bt.flush(b)
			})
		})
	}
}

// hotSet is the number of members the "hot" sub-benchmarks of BenchmarkHot
// update.
const hotSet = 4096

// hotBatchSizes are the batch lengths BenchmarkHot measures.
var hotBatchSizes = []int{16, 256}

// benchBatch collects updates into a batch of reused member buffers and
// applies it with AddBatch or IncrBatch when full, so a benchmark op is
// still one update.
type benchBatch struct {
	bd     *Board
	incr   bool
	bufs   [][]byte
	es     []Entry
	scores []float64
}

func newBenchBatch(bd *Board, size int, incr bool) *benchBatch {
	return &benchBatch{bd: bd, incr: incr, bufs: make([][]byte, size), es: make([]Entry, 0, size),
		scores: make([]float64, 0, size)}
}

// put adds the update "<prefix><i>" score, formatted into a reused buffer.
func (bt *benchBatch) put(b *testing.B, prefix string, i int, score float64) {
	k := len(bt.es)
	bt.bufs[k] = strconv.AppendInt(append(bt.bufs[k][:0], prefix...), int64(i), 10)
	bt.add(b, view(bt.bufs[k]), score) // the batch calls copy what they keep
}

// add adds the update member score, applying the batch when full.
func (bt *benchBatch) add(b *testing.B, member string, score float64) {
	bt.es = append(bt.es, Entry{Member: member, Score: score})
	if len(bt.es) == cap(bt.es) {
		bt.flush(b)
	}
}

// flush applies the collected updates.
func (bt *benchBatch) flush(b *testing.B) {
	var err error
	if bt.incr {
		bt.scores, err = bt.bd.IncrBatch(bt.es, bt.scores[:0])
	} else {
		_, err = bt.bd.AddBatch(bt.es)
	}
	if err != nil {
		b.Fatal(err)
	}
	bt.es = bt.es[:0]
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
