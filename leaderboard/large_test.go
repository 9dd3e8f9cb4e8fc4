package leaderboard

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/sysblocks/sysblocks/internal/testseed"
)

// TestLargeTree drives trees several levels deep through growth, churn and
// shrinking to nothing, checking invariants and comparing the full order
// with a sorted copy of a map oracle.
func TestLargeTree(t *testing.T) {
	seed := testseed.Seed(t)
	n := 12000
	if testseed.Long() {
		n = 400000
	}
	for _, tc := range []struct {
		name    string
		arrival bool
		score   func(r *rand.Rand, i int) float64
	}{
		{"random", false, func(r *rand.Rand, _ int) float64 { return r.Float64() }},
		{"ties", false, func(r *rand.Rand, _ int) float64 { return float64(r.IntN(5)) }},
		{"ascending", false, func(_ *rand.Rand, i int) float64 { return float64(i) }},
		{"descending", false, func(_ *rand.Rand, i int) float64 { return -float64(i) }},
		{"arrival-ties", true, func(r *rand.Rand, _ int) float64 { return float64(r.IntN(5)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(old int) { compactMin = old }(compactMin)
			compactMin = 1 << 12 // compact the member arena many times
			r := rand.New(rand.NewPCG(seed, 7))
			tb := ByMember
			if tc.arrival {
				tb = ByArrival
			}
			b, _ := NewWithOptions(Options{TieBreak: tb})
			m := &model{arrival: tc.arrival}
			oracle := map[string]modelItem{}
			set := func(mem string, sc float64) {
				old, ok := oracle[mem]
				if ok && old.score == sc {
					return
				}
				m.seq++
				oracle[mem] = modelItem{mem, sc, m.seq}
				if _, err := b.Add(mem, sc); err != nil {
					t.Fatal(err)
				}
			}
			verify := func() {
				t.Helper()
				if err := b.check(); err != nil {
					t.Fatal(err)
				}
				m.items = m.items[:0]
				for _, it := range oracle {
					m.items = append(m.items, it)
				}
				slices.SortFunc(m.items, func(x, y modelItem) int {
					if m.before(x, y) {
						return -1
					}
					return 1
				})
				if err := sameEntries(b.Range(0, -1, nil), m.entries(0, len(m.items), nil)); err != nil {
					t.Fatal(err)
				}
				for i := 0; i < 200 && len(m.items) > 0; i++ {
					j := r.IntN(len(m.items))
					if got, _ := b.Rank(m.items[j].member); got != j {
						t.Fatalf("Rank(%q) = %d, want %d", m.items[j].member, got, j)
					}
				}
			}
			for i := 0; i < n; i++ {
				set("m"+strconv.Itoa(i), tc.score(r, i))
			}
			verify()
			for i := 0; i < n; i++ {
				mem := "m" + strconv.Itoa(r.IntN(n))
				if r.IntN(3) == 0 {
					if _, ok := oracle[mem]; ok != b.Remove(mem) {
						t.Fatalf("Remove(%q) disagrees", mem)
					}
					delete(oracle, mem)
				} else {
					set(mem, tc.score(r, n+i))
				}
			}
			verify()
			for _, i := range r.Perm(n) {
				mem := "m" + strconv.Itoa(i)
				if _, ok := oracle[mem]; ok != b.Remove(mem) {
					t.Fatalf("Remove(%q) disagrees", mem)
				}
				delete(oracle, mem)
				if i%8192 == 0 {
					verify()
				}
			}
			verify()
			if b.Len() != 0 || b.tr.height != 0 {
				t.Fatalf("empty board: len %d height %d", b.Len(), b.tr.height)
			}
		})
	}
}

// TestMoveSplitsMergedEdge moves a key out of a minimum-fill rightmost leaf
// into its full left sibling: the move merges the two leaves (old path),
// then splits the merged one again (new path) and takes the key from the
// right half, which must keep more than the minimum fill.
func TestMoveSplitsMergedEdge(t *testing.T) {
	b := New()
	for i := 0; i <= leafCap; i++ { // ascending: leaves of 48 and 17 keys
		if _, err := b.Add("m"+strconv.Itoa(i), float64(i)); err != nil {
			t.Fatal(err)
		}
	}
	b.Remove("m" + strconv.Itoa(leafCap)) // the right leaf drops to minLeaf
	if _, err := b.Add("m"+strconv.Itoa(leafCap-1), 10.5); err != nil {
		t.Fatal(err)
	}
	if err := b.check(); err != nil {
		t.Fatal(err)
	}
	if r, _ := b.Rank("m" + strconv.Itoa(leafCap-1)); r != leafCap-1-11 {
		t.Fatalf("rank %d, want %d", r, leafCap-1-11)
	}
}
