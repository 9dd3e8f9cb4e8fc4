package leaderboard

import (
	"math"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAddFlags(t *testing.T) {
	inf := math.Inf(1)
	for _, tc := range []struct {
		name        string
		have        bool // "m" present with score 10
		score       float64
		flags       []AddFlag
		wantChanged bool
		wantScore   float64 // 0 with wantAbsent
		wantAbsent  bool
		wantErr     error
	}{
		{"new", false, 5, nil, true, 5, false, nil},
		{"update", true, 5, nil, false, 5, false, nil},
		{"update CH", true, 5, []AddFlag{CH}, true, 5, false, nil},
		{"same score CH", true, 10, []AddFlag{CH}, false, 10, false, nil},
		{"NX existing", true, 5, []AddFlag{NX}, false, 10, false, nil},
		{"NX new", false, 5, []AddFlag{NX}, true, 5, false, nil},
		{"XX new", false, 5, []AddFlag{XX}, false, 0, true, nil},
		{"XX existing CH", true, 5, []AddFlag{XX, CH}, true, 5, false, nil},
		{"GT lower", true, 5, []AddFlag{GT, CH}, false, 10, false, nil},
		{"GT higher", true, 15, []AddFlag{GT, CH}, true, 15, false, nil},
		{"GT new", false, -5, []AddFlag{GT}, true, -5, false, nil},
		{"LT higher", true, 15, []AddFlag{LT, CH}, false, 10, false, nil},
		{"LT lower", true, 5, []AddFlag{LT, CH}, true, 5, false, nil},
		{"LT new", false, 50, []AddFlag{LT}, true, 50, false, nil},
		{"GT XX new", false, 5, []AddFlag{GT, XX}, false, 0, true, nil},
		{"inf", true, inf, []AddFlag{CH}, true, inf, false, nil},
		{"NX XX", true, 5, []AddFlag{NX, XX}, false, 10, false, ErrInvalidFlags},
		{"GT LT", true, 5, []AddFlag{GT, LT}, false, 10, false, ErrInvalidFlags},
		{"GT NX", false, 5, []AddFlag{GT, NX}, false, 0, true, ErrInvalidFlags},
		{"LT NX", false, 5, []AddFlag{LT | NX}, false, 0, true, ErrInvalidFlags},
		{"unknown", false, 5, []AddFlag{1 << 7}, false, 0, true, ErrInvalidFlags},
		{"NaN", true, math.NaN(), nil, false, 10, false, ErrNaN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := New()
			if tc.have {
				_, err := b.Add("m", 10)
				require.NoError(t, err)
			}
			changed, err := b.Add("m", tc.score, tc.flags...)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tc.wantChanged, changed)
			s, ok := b.Score("m")
			require.Equal(t, !tc.wantAbsent, ok)
			require.Equal(t, tc.wantScore, s)
			require.NoError(t, b.check())
		})
	}
}

func TestIncr(t *testing.T) {
	b := New()
	s, err := b.Incr("a", 5)
	require.NoError(t, err)
	require.Equal(t, 5.0, s)
	s, err = b.Incr("a", math.Inf(1))
	require.NoError(t, err)
	require.True(t, math.IsInf(s, 1))
	_, err = b.Incr("a", math.Inf(-1)) // +Inf + -Inf is NaN
	require.ErrorIs(t, err, ErrNaN)
	s, _ = b.Score("a")
	require.True(t, math.IsInf(s, 1), "a failed Incr changes nothing")
	_, err = b.Incr("b", math.NaN())
	require.ErrorIs(t, err, ErrNaN)
	_, ok := b.Score("b")
	require.False(t, ok)
	require.Equal(t, 1, b.Len())
}

func TestEmptyAndEdges(t *testing.T) {
	b := New()
	require.Empty(t, b.Top(10, nil))
	require.Empty(t, b.Range(0, -1, nil))
	require.Empty(t, b.Around("x", 3, nil))
	require.Empty(t, b.RangeByScore(math.Inf(-1), math.Inf(1), 0, -1, nil))
	require.Zero(t, b.Count(math.Inf(-1), math.Inf(1)))
	_, ok := b.Rank("x")
	require.False(t, ok)
	require.False(t, b.Remove("x"))

	_, err := b.Add("", 1) // the empty member is a member, as in Redis
	require.NoError(t, err)
	r, ok := b.Rank("")
	require.True(t, ok)
	require.Zero(t, r)
	require.Empty(t, b.Top(0, nil))
	require.Equal(t, []Entry{{"", 1, 0}}, b.Top(5, nil))
	require.Equal(t, []Entry{{"", 1, 0}}, b.Range(-100, 100, nil))
	require.Empty(t, b.Range(1, 5, nil))
	require.Empty(t, b.RangeByScore(2, 1, 0, -1, nil), "min > max")
	require.Empty(t, b.RangeByScore(math.NaN(), 1, 0, -1, nil))

	neg := math.Copysign(0, -1)
	_, err = b.Add("z", neg)
	require.NoError(t, err)
	changed, _ := b.Add("z", 0, CH) // -0 == 0: no change, as in Redis
	require.False(t, changed)
	require.Equal(t, 2, b.Count(0, 1))

	_, err = b.Add(string(make([]byte, MaxMemberLen+1)), 1)
	require.ErrorIs(t, err, ErrMemberTooLong)
	_, err = NewWithOptions(Options{TieBreak: 9})
	require.ErrorIs(t, err, ErrInvalidOptions)
}

func TestRedisOrder(t *testing.T) {
	b := New()
	for _, m := range []string{"b", "a", "c", "ab", "a\x00", "abcdefghi", "abcdefghh"} {
		b.Add(m, 1)
	}
	b.Add("top", math.Inf(1))
	b.Add("bottom", math.Inf(-1))
	var got []string
	for _, e := range b.Range(0, -1, nil) {
		got = append(got, e.Member)
	}
	// Equal scores: greater member bytes rank higher (ZREVRANGE).
	require.Equal(t, []string{"top", "c", "b", "abcdefghi", "abcdefghh", "ab", "a\x00", "a", "bottom"}, got)
	require.Equal(t, []Entry{{"b", 1, 2}, {"abcdefghi", 1, 3}}, b.RangeByScore(1, 1, 1, 2, nil))
	require.Equal(t, []Entry{{"a", 1, 7}, {"bottom", math.Inf(-1), 8}}, b.Range(-2, -1, nil))
	require.Equal(t, []Entry{{"top", math.Inf(1), 0}, {"c", 1, 1}}, b.Around("top", 1, nil))
	require.Len(t, b.Around("c", math.MaxInt, nil), 9)
	require.Len(t, b.Range(math.MinInt, math.MaxInt, nil), 9)
	require.Len(t, b.RangeByScore(math.Inf(-1), math.Inf(1), 0, math.MaxInt, nil), 9)
	require.Empty(t, b.RangeByScore(math.Inf(-1), math.Inf(1), math.MaxInt, 1, nil))
}

// TestAllocs guards the zero-allocation steady state of the hot paths.
func TestAllocs(t *testing.T) {
	b := New()
	names := make([]string, 1000)
	for i := range names {
		names[i] = "p" + strconv.Itoa(i)
		b.Add(names[i], float64(i))
	}
	dst := make([]Entry, 0, 32)
	i := 0
	for name, f := range map[string]func(){
		"Add":    func() { b.Add(names[i%1000], float64(i*7%1000)); i++ },
		"Incr":   func() { b.Incr(names[i%1000], 1); i++ },
		"Rank":   func() { b.Rank(names[i%1000]); i++ },
		"Top":    func() { dst = b.Top(10, dst[:0]) },
		"Around": func() { dst = b.Around(names[i%1000], 5, dst[:0]); i++ },
		"Score":  func() { b.Score(names[i%1000]); i++ },
	} {
		if a := testing.AllocsPerRun(500, f); a != 0 {
			t.Errorf("%s: %v allocs per call", name, a)
		}
	}
}

// TestConcurrent runs writers and readers together; run with -race.
func TestConcurrent(t *testing.T) {
	b := New()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var dst []Entry
			for i := 0; i < 2000; i++ {
				m := strconv.Itoa((i * (w + 1)) % 300)
				switch i % 5 {
				case 0:
					b.Add(m, float64(i%17))
				case 1:
					b.Incr(m, 1)
				case 2:
					b.Remove(m)
				case 3:
					b.Rank(m)
					dst = b.Around(m, 2, dst[:0])
				default:
					dst = b.Top(10, dst[:0])
				}
			}
		}(w)
	}
	wg.Wait()
	require.NoError(t, b.check())
}
