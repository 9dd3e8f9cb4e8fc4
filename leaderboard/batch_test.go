package leaderboard

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sysblocks/sysblocks/internal/testseed"
)

// batchTrio is a board driven by the batch calls, a board driven by the
// same updates one call at a time, and the model: all three must agree.
type batchTrio struct {
	bat, seq *Board
	m        *model
}

func newBatchTrio(t testing.TB, arrival bool) *batchTrio {
	tb := ByMember
	if arrival {
		tb = ByArrival
	}
	bat, err := NewWithOptions(Options{TieBreak: tb})
	require.NoError(t, err)
	seq, err := NewWithOptions(Options{TieBreak: tb})
	require.NoError(t, err)
	return &batchTrio{bat: bat, seq: seq, m: &model{arrival: arrival}}
}

func (m *model) clone() *model {
	c := *m
	c.items = slices.Clone(m.items)
	return &c
}

// randomBatch draws up to 40 entries (so batches span several warm groups)
// over pool members, so a member often appears twice in one group; about
// one batch in 30 holds a NaN.
func randomBatch(r *rand.Rand, pool int, incr bool) []Entry {
	es := make([]Entry, r.IntN(41))
	for i := range es {
		es[i].Member = testMember(r, pool)
		if incr {
			es[i].Score = testDeltas[r.IntN(len(testDeltas)-1)] // NaN drawn below
			if r.IntN(4) == 0 {
				es[i].Score = float64(1 + r.IntN(10))
			}
		} else {
			es[i].Score = testScore(r)
		}
		es[i].Rank = r.IntN(5) - 2 // ignored
	}
	if len(es) > 0 && r.IntN(30) == 0 {
		es[r.IntN(len(es))].Score = math.NaN()
	}
	return es
}

// addBatch applies es with AddBatch, and one entry at a time to the
// sequential board and to a copy of the model, which replaces the model
// unless the batch must fail as a whole.
func (tr *batchTrio) addBatch(es []Entry, flags []AddFlag) error {
	got, gerr := tr.bat.AddBatch(es, flags...)
	m := tr.m.clone()
	want := 0
	var werr error
	for _, e := range es {
		c, err := m.add(e.Member, e.Score, flags...)
		if err != nil {
			werr = err
			break
		}
		if c {
			want++
		}
	}
	if _, ferr := parseFlags(flags); ferr != nil {
		werr = ErrInvalidFlags // even for an empty batch
	}
	if werr != nil {
		if !errors.Is(gerr, werr) || got != 0 {
			return fmt.Errorf("AddBatch(%v, %v) = %d, %v; want 0, %v", es, flags, got, gerr, werr)
		}
		return nil
	}
	if gerr != nil || got != want {
		return fmt.Errorf("AddBatch(%v, %v) = %d, %v; want %d", es, flags, got, gerr, want)
	}
	seqChanged := 0
	for _, e := range es {
		c, err := tr.seq.Add(e.Member, e.Score, flags...)
		if err != nil {
			return fmt.Errorf("sequential Add(%q, %v): %w", e.Member, e.Score, err)
		}
		if c {
			seqChanged++
		}
	}
	if seqChanged != got {
		return fmt.Errorf("AddBatch changed %d, sequential Adds %d", got, seqChanged)
	}
	tr.m = m
	return nil
}

// incrBatch is addBatch for IncrBatch; the scores it returns must match
// the sequential Incr results and the model's.
func (tr *batchTrio) incrBatch(es []Entry) error {
	prefix := []float64{42}
	got, gerr := tr.bat.IncrBatch(es, prefix)
	m := tr.m.clone()
	var want []float64
	var werr error
	for _, e := range es {
		s, err := m.incr(e.Member, e.Score)
		if err != nil {
			werr = err
			break
		}
		want = append(want, s)
	}
	if werr != nil {
		if !errors.Is(gerr, werr) || len(got) != 1 {
			return fmt.Errorf("IncrBatch(%v) = %v, %v; want [42], %v", es, got, gerr, werr)
		}
		return nil
	}
	if gerr != nil || len(got) != 1+len(want) || got[0] != 42 {
		return fmt.Errorf("IncrBatch(%v) = %v, %v; want [42 %v]", es, got, gerr, want)
	}
	for i, e := range es {
		s, err := tr.seq.Incr(e.Member, e.Score)
		if err != nil || !sameScore(s, want[i]) || !sameScore(got[1+i], want[i]) {
			return fmt.Errorf("entry %d %v: batch %v, sequential %v, %v, model %v", i, e, got[1+i], s, err, want[i])
		}
	}
	tr.m = m
	return nil
}

func (tr *batchTrio) remove(member string) error {
	a, b := tr.bat.Remove(member), tr.seq.Remove(member)
	i := tr.m.find(member)
	if i >= 0 {
		tr.m.items = slices.Delete(tr.m.items, i, i+1)
	}
	if a != (i >= 0) || b != a {
		return fmt.Errorf("Remove(%q) = %v (batch board), %v (sequential board), want %v", member, a, b, i >= 0)
	}
	return nil
}

func (tr *batchTrio) compare() error {
	if err := compareAll(tr.bat, tr.m); err != nil {
		return fmt.Errorf("batch board: %w", err)
	}
	if err := compareAll(tr.seq, tr.m); err != nil {
		return fmt.Errorf("sequential board: %w", err)
	}
	return nil
}

// runBatchStream applies n random batch steps (AddBatch with random flags,
// IncrBatch, single Removes) to a batchTrio, checking as it goes.
func runBatchStream(t testing.TB, r *rand.Rand, arrival bool, n, pool int) {
	tr := newBatchTrio(t, arrival)
	for step := 0; step < n; step++ {
		var err error
		switch op := r.IntN(20); {
		case op < 10:
			err = tr.addBatch(randomBatch(r, pool, false), testFlags(r))
		case op < 17:
			err = tr.incrBatch(randomBatch(r, pool, true))
		default:
			err = tr.remove(testMember(r, pool))
		}
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if step%16 == 0 {
			if err := tr.compare(); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
		}
	}
	if err := tr.compare(); err != nil {
		t.Fatal(err)
	}
}

// TestBatchDifferential checks batch streams against one-call-at-a-time
// boards and the model; seeds 0-3, 8-11, ... of each run warm the cache
// (see warmSmall), the others take the small-board path.
func TestBatchDifferential(t *testing.T) {
	seeds, steps := 16, 300
	if testseed.Long() {
		seeds, steps = 200, 3000
	}
	forSeeds(t, seeds, 0x2545f4914f6cdd1d, func(t *testing.T, i int, r *rand.Rand, arrival bool, pool int) {
		if i/4%2 == 0 {
			warmSmall(t)
		}
		runBatchStream(t, r, arrival, steps, pool)
	})
}

// warmSmall makes batches warm the cache on boards of any size until t
// ends, so the small boards of the differential tests exercise warm.
func warmSmall(t testing.TB) {
	old := warmMin
	warmMin = 1
	t.Cleanup(func() { warmMin = old })
}

// TestBatchBigBoard runs batches against a board big enough that they
// warm the cache and deep enough (three inner levels at 300k members) that
// warm descends several levels, with a member updated twice inside one
// group.
func TestBatchBigBoard(t *testing.T) {
	n := 300_000
	if testing.Short() {
		n = 2 * warmMin
	}
	seed := testseed.Seed(t)
	r := rand.New(rand.NewPCG(seed, 3))
	bat, seq := New(), New()
	init := make([]Entry, n)
	for i := range init {
		init[i] = Entry{Member: "player:" + strconv.Itoa(i), Score: float64(r.IntN(1 << 20))}
	}
	added, err := bat.AddBatch(init)
	require.NoError(t, err)
	require.Equal(t, n, added)
	for _, e := range init {
		_, err := seq.Add(e.Member, e.Score)
		require.NoError(t, err)
	}
	var got []float64
	for round := 0; round < 40; round++ {
		es := make([]Entry, 100)
		for i := range es {
			es[i] = Entry{Member: "player:" + strconv.Itoa(r.IntN(n+10)), Score: float64(r.IntN(1 << 20))}
		}
		es[5].Member = es[3].Member // twice in the first group
		if round%2 == 0 {
			c, err := bat.AddBatch(es, CH)
			require.NoError(t, err)
			want := 0
			for _, e := range es {
				ok, err := seq.Add(e.Member, e.Score, CH)
				require.NoError(t, err)
				if ok {
					want++
				}
			}
			require.Equal(t, want, c)
		} else {
			for i := range es {
				es[i].Score = float64(1 + r.IntN(10))
			}
			got, err = bat.IncrBatch(es, got[:0])
			require.NoError(t, err)
			for i, e := range es {
				s, err := seq.Incr(e.Member, e.Score)
				require.NoError(t, err)
				require.Equal(t, s, got[i])
			}
		}
	}
	require.NoError(t, bat.check())
	require.Equal(t, seq.Range(0, -1, nil), bat.Range(0, -1, nil))
}

func TestBatchErrors(t *testing.T) {
	b := New()
	_, err := b.Add("a", 1)
	require.NoError(t, err)
	long := strings.Repeat("x", MaxMemberLen+1)
	for _, tc := range []struct {
		name  string
		es    []Entry
		flags []AddFlag
		want  error
	}{
		{"flags", []Entry{{Member: "b", Score: 1}}, []AddFlag{NX, XX}, ErrInvalidFlags},
		{"empty batch, bad flags", nil, []AddFlag{GT, LT}, ErrInvalidFlags},
		{"NaN last", []Entry{{Member: "b", Score: 1}, {Member: "a", Score: math.NaN()}}, nil, ErrNaN},
		{"too long", []Entry{{Member: "b", Score: 1}, {Member: long}}, nil, ErrMemberTooLong},
	} {
		t.Run("add/"+tc.name, func(t *testing.T) {
			c, err := b.AddBatch(tc.es, tc.flags...)
			require.ErrorIs(t, err, tc.want)
			require.Zero(t, c)
			require.Equal(t, 1, b.Len())
		})
	}
	for _, tc := range []struct {
		name string
		es   []Entry
		want error
	}{
		{"NaN delta", []Entry{{Member: "b", Score: 1}, {Member: "a", Score: math.NaN()}}, ErrNaN},
		{"Inf minus Inf", []Entry{{Member: "b", Score: math.Inf(1)}, {Member: "a", Score: 2}, {Member: "b", Score: math.Inf(-1)}}, ErrNaN},
		{"too long", []Entry{{Member: "b", Score: 1}, {Member: long}}, ErrMemberTooLong},
	} {
		t.Run("incr/"+tc.name, func(t *testing.T) {
			dst, err := b.IncrBatch(tc.es, []float64{7})
			require.ErrorIs(t, err, tc.want)
			require.Equal(t, []float64{7}, dst)
			require.Equal(t, 1, b.Len())
			s, _ := b.Score("a")
			require.Equal(t, 1.0, s)
		})
	}
	// Infinite deltas that do not meet an opposite infinity succeed.
	got, err := b.IncrBatch([]Entry{{Member: "a", Score: math.Inf(1)}, {Member: "a", Score: 5}, {Member: "c", Score: math.Inf(-1)}}, nil)
	require.NoError(t, err)
	require.Equal(t, []float64{math.Inf(1), math.Inf(1), math.Inf(-1)}, got)
}

// TestWarmArbitraryLanes feeds the tree stages of warmApply lanes at
// arbitrary nodes, children and scores, on a board with released nodes and
// many ties: whatever they are given, the stages only prefetch, and must
// never index out of range or read an entry.
func TestWarmArbitraryLanes(t *testing.T) {
	r := rand.New(rand.NewPCG(testseed.Seed(t), 5))
	b := New()
	for i := 0; i < 20_000; i++ {
		_, err := b.Add("m"+strconv.Itoa(i), float64(r.IntN(100))) // many ties
		require.NoError(t, err)
	}
	for i := 0; i < 15_000; i++ {
		b.Remove("m" + strconv.Itoa(r.IntN(20_000)))
	}
	tr := &b.tr
	require.Positive(t, len(tr.inners.free)+len(tr.leaves.free), "no released nodes")
	var f flight
	f.nl = len(f.lanes)
	for round := 0; round < 2000; round++ {
		for j := range f.lanes {
			ln := &f.lanes[j]
			ln.h = int8(r.IntN(2))
			ln.node = uint32(r.IntN(int(tr.leaves.n)))
			if ln.h > 0 {
				ln.node = uint32(r.IntN(int(tr.inners.n)))
			}
			ln.s = encode(float64(r.IntN(102) - 1))
			if r.IntN(8) == 0 {
				ln.s = r.Uint64()
			}
			ln.blk = uint8(r.IntN(innerCap))
			ln.paired = j%2 == 0 && r.IntN(2) == 0
		}
		tr.pickBlock(&f)
		tr.step(&f)
		tr.leafLines(&f)
	}
}

// TestBatchAllocs guards the zero-allocation batch paths, with and without
// warming.
func TestBatchAllocs(t *testing.T) {
	t.Run("small", func(t *testing.T) { testBatchAllocs(t) })
	t.Run("warm", func(t *testing.T) {
		warmSmall(t)
		testBatchAllocs(t)
	})
}

func testBatchAllocs(t *testing.T) {
	b := New()
	es := make([]Entry, 50)
	for i := range es {
		es[i] = Entry{Member: "p" + strconv.Itoa(i), Score: float64(i)}
	}
	_, err := b.AddBatch(es)
	require.NoError(t, err)
	dst := make([]float64, 0, len(es))
	k := 0
	for name, f := range map[string]func(){
		"AddBatch": func() {
			for i := range es {
				es[i].Score = float64((i * 7 * k) % 1000)
			}
			k++
			b.AddBatch(es)
		},
		"IncrBatch": func() { dst, _ = b.IncrBatch(es, dst[:0]) },
	} {
		if a := testing.AllocsPerRun(100, f); a != 0 {
			t.Errorf("%s: %v allocs per call", name, a)
		}
	}
}

// TestRelocateGuesses applies updates with guesses that are right, near
// misses (a neighbouring child or position), stale or random — node ids,
// children, positions and entry ids — on boards with many ties, and
// checks that the result is always that of the same updates made without
// guesses: guesses are only ever tried.
func TestRelocateGuesses(t *testing.T) {
	seed := testseed.Seed(t)
	for _, arrival := range []bool{false, true} {
		t.Run(fmt.Sprintf("arrival=%v", arrival), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 11))
			opts := Options{}
			if arrival {
				opts.TieBreak = ByArrival
			}
			got, _ := NewWithOptions(opts)
			want, _ := NewWithOptions(opts)
			n := 20_000
			for i := 0; i < n; i++ {
				m, s := "m"+strconv.Itoa(i), float64(r.IntN(100))
				_, err := got.Add(m, s)
				require.NoError(t, err)
				_, err = want.Add(m, s)
				require.NoError(t, err)
			}
			tr := &got.tr
			perturb := func(p path) *path {
				switch r.IntN(8) {
				case 0:
					return nil
				case 1:
					return &p // exact
				}
				for h := range p.node {
					switch r.IntN(6) {
					case 0, 1:
						p.idx[h] += uint8(r.IntN(5) - 2)
					case 2:
						p.idx[h] = uint8(r.IntN(256))
					case 3:
						p.node[h] = uint32(r.IntN(int(max(tr.inners.n, tr.leaves.n)) + 2))
					}
				}
				return &p
			}
			for step := 0; step < 20_000; step++ {
				m, s := "m"+strconv.Itoa(r.IntN(n+100)), float64(r.IntN(100))
				_, err := want.Add(m, s)
				require.NoError(t, err)
				g := &guess{id: uint32(r.IntN(int(got.ms.ents.n) + 2))}
				if id, ok := got.ms.find(m); ok {
					if r.IntN(2) == 0 {
						g.id = id
					}
					old := got.keyOf(id)
					nw := old
					nw.s = encode(s)
					g.old, g.nw = perturb(tr.truePath(&old)), perturb(tr.truePath(&nw))
				}
				got.mu.Lock()
				_, err = got.add(m, hashOf(m), s, flagSet{}, g)
				got.mu.Unlock()
				require.NoError(t, err)
			}
			require.NoError(t, got.check())
			require.Equal(t, want.Range(0, -1, nil), got.Range(0, -1, nil))
		})
	}
}

// truePath returns the nodes and children a descent for k passes, and
// k's position in its leaf.
func (tr *tree) truePath(k *key) path {
	p := noPath
	node := tr.root
	for h := tr.height; h > 0; h-- {
		in := tr.inners.at(node)
		i := tr.childFor(in, k)
		p.node[h], p.idx[h] = node, uint8(i)
		node = in.child[i]
	}
	p.node[0], p.idx[0] = node, uint8(tr.lowerBound(tr.leaves.at(node), k))
	return p
}
