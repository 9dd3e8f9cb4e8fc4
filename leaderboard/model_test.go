package leaderboard

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/sysblocks/sysblocks/internal/testseed"
)

// model is the oracle: a slice kept in board order (highest first).
type model struct {
	arrival bool
	seq     uint64
	items   []modelItem
}

type modelItem struct {
	member string
	score  float64
	seq    uint64
}

// before reports whether a ranks above b.
func (m *model) before(a, b modelItem) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	if m.arrival {
		return a.seq < b.seq
	}
	return a.member > b.member
}

func (m *model) find(member string) int {
	for i, it := range m.items {
		if it.member == member {
			return i
		}
	}
	return -1
}

func (m *model) set(member string, score float64) {
	if score == 0 {
		score = 0 // -0 is stored as +0
	}
	if i := m.find(member); i >= 0 {
		m.items = slices.Delete(m.items, i, i+1)
	}
	m.seq++
	it := modelItem{member, score, m.seq}
	i, _ := slices.BinarySearchFunc(m.items, it, func(x, y modelItem) int {
		if m.before(x, y) {
			return -1
		}
		return 1
	})
	m.items = slices.Insert(m.items, i, it)
}

func (m *model) add(member string, score float64, flags ...AddFlag) (bool, error) {
	var all AddFlag
	for _, f := range flags {
		all |= f
	}
	nx, xx, gt, lt, ch := all&NX != 0, all&XX != 0, all&GT != 0, all&LT != 0, all&CH != 0
	if nx && xx || gt && lt || (gt || lt) && nx || all&^(NX|XX|GT|LT|CH) != 0 {
		return false, ErrInvalidFlags
	}
	if math.IsNaN(score) {
		return false, ErrNaN
	}
	i := m.find(member)
	if i < 0 {
		if xx {
			return false, nil
		}
		m.set(member, score)
		return true, nil
	}
	cur := m.items[i].score
	if nx || gt && score <= cur || lt && score >= cur || score == cur {
		return false, nil
	}
	m.set(member, score)
	return ch, nil
}

func (m *model) incr(member string, d float64) (float64, error) {
	if math.IsNaN(d) {
		return 0, ErrNaN
	}
	i := m.find(member)
	if i < 0 {
		m.set(member, d)
		return d, nil
	}
	cur := m.items[i].score
	n := cur + d
	if math.IsNaN(n) {
		return cur, ErrNaN
	}
	if n != cur {
		m.set(member, n)
	}
	return n, nil
}

func (m *model) entries(from, to int, dst []Entry) []Entry {
	for r := from; r < to; r++ {
		dst = append(dst, Entry{Member: m.items[r].member, Score: m.items[r].score, Rank: r})
	}
	return dst
}

func (m *model) rangeRanks(start, stop int) []Entry {
	n := len(m.items)
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= n {
		return nil
	}
	if stop >= n {
		stop = n - 1
	}
	return m.entries(start, stop+1, nil)
}

func (m *model) byScore(lo, hi float64, offset, count int) []Entry {
	var all []Entry
	for r, it := range m.items {
		if it.score >= lo && it.score <= hi {
			all = append(all, Entry{Member: it.member, Score: it.score, Rank: r})
		}
	}
	if offset < 0 || offset >= len(all) || count == 0 {
		return nil
	}
	all = all[offset:]
	if count > 0 && count < len(all) {
		all = all[:count]
	}
	return all
}

var (
	testScores = []float64{math.Inf(-1), math.Inf(1), -3, -2, -1, 0, math.Copysign(0, -1), 1, 2, 3, 0.5, -0.5, 1e300, -1e300, 7, 7, 7}
	testDeltas = []float64{1, -1, 2, 0.5, math.Inf(1), math.Inf(-1), 0, -7, math.NaN()}
)

// testMember draws from a small pool with shared prefixes, the empty
// member and members equal up to their 8-byte prefix.
func testMember(r *rand.Rand, pool int) string {
	k := r.IntN(pool)
	switch k % 7 {
	case 0:
		return strconv.Itoa(k)
	case 1:
		return "player:" + strconv.Itoa(k)
	case 2:
		return "abcdefgh" + strconv.Itoa(k)
	case 3:
		return "a" + string(make([]byte, k%3))
	case 4:
		return ""
	case 5:
		return "\xff\xfe" + strconv.Itoa(k)
	}
	return "abcdefgh"
}

func testScore(r *rand.Rand) float64 {
	if r.IntN(4) == 0 {
		return float64(r.IntN(2000)-1000) / 4
	}
	return testScores[r.IntN(len(testScores))]
}

func testFlags(r *rand.Rand) []AddFlag {
	if r.IntN(3) == 0 {
		return nil
	}
	fs := []AddFlag{NX, XX, GT, LT, CH}
	var out []AddFlag
	for _, f := range fs {
		if r.IntN(4) == 0 {
			out = append(out, f)
		}
	}
	return out
}

// runStream applies n random commands to a board and the model and fails
// on the first disagreement.
func runStream(t testing.TB, r *rand.Rand, arrival bool, n, pool int) {
	tb := ByMember
	if arrival {
		tb = ByArrival
	}
	b, err := NewWithOptions(Options{TieBreak: tb})
	if err != nil {
		t.Fatal(err)
	}
	m := &model{arrival: arrival}
	for step := 0; step < n; step++ {
		if err := stepBoth(r, b, m, pool); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if step%64 == 0 || n < 2000 {
			if err := b.check(); err != nil {
				t.Fatalf("step %d: invariant: %v", step, err)
			}
		}
	}
	if err := compareAll(b, m); err != nil {
		t.Fatal(err)
	}
}

func stepBoth(r *rand.Rand, b *Board, m *model, pool int) error {
	mem := testMember(r, pool)
	switch op := r.IntN(20); {
	case op < 6:
		sc, fl := testScore(r), testFlags(r)
		got, gerr := b.Add(mem, sc, fl...)
		want, werr := m.add(mem, sc, fl...)
		if got != want || !errors.Is(gerr, werr) || (gerr == nil) != (werr == nil) {
			return fmt.Errorf("Add(%q, %v, %v) = %v, %v; want %v, %v", mem, sc, fl, got, gerr, want, werr)
		}
	case op < 9:
		d := testDeltas[r.IntN(len(testDeltas))]
		got, gerr := b.Incr(mem, d)
		want, werr := m.incr(mem, d)
		if !sameScore(got, want) && werr == nil || !errors.Is(gerr, werr) || (gerr == nil) != (werr == nil) {
			return fmt.Errorf("Incr(%q, %v) = %v, %v; want %v, %v", mem, d, got, gerr, want, werr)
		}
	case op < 12:
		got := b.Remove(mem)
		i := m.find(mem)
		if i >= 0 {
			m.items = slices.Delete(m.items, i, i+1)
		}
		if got != (i >= 0) {
			return fmt.Errorf("Remove(%q) = %v", mem, got)
		}
	case op < 13:
		got, ok := b.Score(mem)
		i := m.find(mem)
		if ok != (i >= 0) || ok && !sameScore(got, m.items[i].score) {
			return fmt.Errorf("Score(%q) = %v, %v", mem, got, ok)
		}
	case op < 14:
		got, ok := b.Rank(mem)
		i := m.find(mem)
		if ok != (i >= 0) || ok && got != i {
			return fmt.Errorf("Rank(%q) = %v, %v; want %d", mem, got, ok, i)
		}
	case op < 16:
		start, stop := r.IntN(40)-20, r.IntN(40)-20
		if err := sameEntries(b.Range(start, stop, nil), m.rangeRanks(start, stop)); err != nil {
			return fmt.Errorf("Range(%d, %d): %w", start, stop, err)
		}
		k := r.IntN(12) - 1
		want := m.rangeRanks(0, k-1)
		if k <= 0 {
			want = nil
		}
		if err := sameEntries(b.Top(k, nil), want); err != nil {
			return fmt.Errorf("Top(%d): %w", k, err)
		}
	case op < 17:
		k := r.IntN(5) - 1
		i := m.find(mem)
		var want []Entry
		if i >= 0 {
			kk := max(k, 0)
			want = m.entries(max(i-kk, 0), min(i+kk+1, len(m.items)), nil)
		}
		if err := sameEntries(b.Around(mem, k, nil), want); err != nil {
			return fmt.Errorf("Around(%q, %d): %w", mem, k, err)
		}
	default:
		lo, hi := testScore(r), testScore(r)
		if r.IntN(2) == 0 && lo > hi {
			lo, hi = hi, lo
		}
		off, cnt := r.IntN(6)-1, r.IntN(8)-2
		if err := sameEntries(b.RangeByScore(lo, hi, off, cnt, nil), m.byScore(lo, hi, off, cnt)); err != nil {
			return fmt.Errorf("RangeByScore(%v, %v, %d, %d): %w", lo, hi, off, cnt, err)
		}
		if got, want := b.Count(lo, hi), len(m.byScore(lo, hi, 0, -1)); got != want {
			return fmt.Errorf("Count(%v, %v) = %d, want %d", lo, hi, got, want)
		}
	}
	if b.Len() != len(m.items) {
		return fmt.Errorf("Len = %d, want %d", b.Len(), len(m.items))
	}
	return nil
}

func sameScore(a, b float64) bool {
	return a == b && math.Signbit(a) == math.Signbit(b) || a == 0 && b == 0
}

func sameEntries(got, want []Entry) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d entries %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range got {
		if got[i].Member != want[i].Member || !sameScore(got[i].Score, want[i].Score) || got[i].Rank != want[i].Rank {
			return fmt.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	return nil
}

func compareAll(b *Board, m *model) error {
	if err := sameEntries(b.Range(0, -1, nil), m.entries(0, len(m.items), nil)); err != nil {
		return fmt.Errorf("full range: %w", err)
	}
	for i, it := range m.items {
		if r, ok := b.Rank(it.member); !ok || r != i {
			return fmt.Errorf("Rank(%q) = %d, %v; want %d", it.member, r, ok, i)
		}
	}
	return b.check()
}

func TestDifferential(t *testing.T) {
	seeds, steps := 24, 3000
	if testseed.Long() {
		seeds, steps = 400, 20000
	}
	forSeeds(t, seeds, 0x9e3779b97f4a7c15, func(t *testing.T, _ int, r *rand.Rand, arrival bool, pool int) {
		runStream(t, r, arrival, steps, pool)
	})
}

// forSeeds runs f as a subtest for each tie-break order and each of seeds
// seeds counted from the test seed (see testseed), with a member pool
// cycling from 3 to 3000; i is the seed's position, r its stream (mix
// tells callers' streams apart).
func forSeeds(t *testing.T, seeds int, mix uint64, f func(t *testing.T, i int, r *rand.Rand, arrival bool, pool int)) {
	seed := testseed.Seed(t)
	for _, arrival := range []bool{false, true} {
		for i := 0; i < seeds; i++ {
			s := seed + uint64(i)
			pool := []int{3, 20, 200, 3000}[i%4]
			t.Run(fmt.Sprintf("arrival=%v/seed=%d", arrival, s), func(t *testing.T) {
				f(t, i, rand.New(rand.NewPCG(s, s^mix)), arrival, pool)
			})
		}
	}
}
