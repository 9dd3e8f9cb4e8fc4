package leaderboard

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sysblocks/sysblocks/internal/testseed"
)

// partitioned is what Sharded and ScoreSharded share, for one test.
type partitioned interface {
	Add(string, float64, ...AddFlag) (bool, error)
	Incr(string, float64) (float64, error)
	Remove(string) bool
	Score(string) (float64, bool)
	Rank(string) (int, bool)
	Len() int
	Top(int, []Entry) []Entry
	Range(int, int, []Entry) []Entry
	Count(float64, float64) int
}

var (
	_ partitioned = (*Board)(nil)
	_ partitioned = (*Sharded)(nil)
	_ partitioned = (*ScoreSharded)(nil)
)

// TestPartitionedDifferential compares both sharded variants with a single
// Board (itself checked against the model) over random streams.
func TestPartitionedDifferential(t *testing.T) {
	seed := testseed.Seed(t)
	steps := 10000
	if testseed.Long() {
		steps = 200000
	}
	for _, tb := range []TieBreak{ByMember, ByArrival} {
		hs, err := NewSharded(5, Options{TieBreak: tb})
		require.NoError(t, err)
		ss, err := NewScoreSharded([]float64{-1, 0, 0.5, 3, 100}, Options{TieBreak: tb})
		require.NoError(t, err)
		for name, p := range map[string]partitioned{"hash": hs, "score": ss} {
			t.Run(fmt.Sprintf("%s/tie=%d", name, tb), func(t *testing.T) {
				r := rand.New(rand.NewPCG(seed, uint64(tb)))
				ref, _ := NewWithOptions(Options{TieBreak: tb})
				for i := 0; i < steps; i++ {
					m := testMember(r, 400)
					switch op := r.IntN(10); {
					case op < 4:
						sc, fl := testScore(r), testFlags(r)
						g, gerr := p.Add(m, sc, fl...)
						w, werr := ref.Add(m, sc, fl...)
						require.Equal(t, w, g, "Add")
						require.Equal(t, werr == nil, gerr == nil)
					case op < 6:
						d := testDeltas[r.IntN(len(testDeltas))]
						g, gerr := p.Incr(m, d)
						w, werr := ref.Incr(m, d)
						require.Equal(t, werr == nil, gerr == nil)
						require.True(t, sameScore(g, w), "Incr %v %v", g, w)
					case op < 7:
						require.Equal(t, ref.Remove(m), p.Remove(m))
					case op < 8:
						g, gok := p.Rank(m)
						w, wok := ref.Rank(m)
						require.Equal(t, wok, gok)
						require.Equal(t, w, g, "Rank(%q)", m)
						gs, _ := p.Score(m)
						ws, _ := ref.Score(m)
						require.True(t, sameScore(gs, ws))
					case op < 9:
						start, stop := r.IntN(30)-10, r.IntN(30)-10
						require.Equal(t, ref.Range(start, stop, nil), p.Range(start, stop, nil), "Range(%d, %d)", start, stop)
						k := r.IntN(12)
						require.Equal(t, ref.Top(k, nil), p.Top(k, nil))
					default:
						lo, hi := testScore(r), testScore(r)
						require.Equal(t, ref.Count(lo, hi), p.Count(lo, hi))
					}
					require.Equal(t, ref.Len(), p.Len())
				}
				require.Equal(t, ref.Range(0, -1, nil), p.Range(0, -1, nil))
			})
		}
	}
}

func TestShardedOptions(t *testing.T) {
	_, err := NewSharded(0, Options{})
	require.ErrorIs(t, err, ErrInvalidOptions)
	_, err = NewSharded(MaxShards+1, Options{})
	require.ErrorIs(t, err, ErrInvalidOptions)
	_, err = NewSharded(2, Options{TieBreak: 7})
	require.ErrorIs(t, err, ErrInvalidOptions)
	for _, bounds := range [][]float64{{2, 1}, {1, 1}, {math.NaN()}, {math.Inf(1)}} {
		_, err = NewScoreSharded(bounds, Options{})
		require.ErrorIs(t, err, ErrInvalidOptions, "%v", bounds)
	}
	bounds := []float64{1, 2}
	s, err := NewScoreSharded(bounds, Options{})
	require.NoError(t, err)
	bounds[0] = 5 // the caller's slice is copied
	s.Add("a", 1.5)
	require.Equal(t, 1, s.ShardLen(1))
	_, err = s.Add("a", 1, NX, XX)
	require.ErrorIs(t, err, ErrInvalidFlags)
	_, err = s.Add("a", math.NaN())
	require.ErrorIs(t, err, ErrNaN)
}

// TestShardedConcurrent moves members across score shards from many
// goroutines; run with -race.
func TestShardedConcurrent(t *testing.T) {
	hs, _ := NewSharded(4, Options{})
	ss, _ := NewScoreSharded([]float64{10, 20, 30}, Options{})
	for _, p := range []partitioned{hs, ss} {
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < 2000; i++ {
					m := strconv.Itoa(i % 50)
					switch i % 4 {
					case 0:
						p.Add(m, float64((i*w)%40))
					case 1:
						p.Incr(m, 7)
					case 2:
						p.Rank(m)
					default:
						p.Top(5, nil)
					}
				}
			}(w)
		}
		wg.Wait()
		all := p.Range(0, -1, nil)
		require.Len(t, all, p.Len())
		require.Equal(t, 50, p.Len())
		for i, e := range all {
			r, ok := p.Rank(e.Member)
			require.True(t, ok)
			require.Equal(t, i, r)
		}
	}
}
