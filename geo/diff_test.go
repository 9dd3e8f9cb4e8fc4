package geo

import (
	"cmp"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sysblocks/sysblocks/internal/testseed"
)

type namedIndex struct {
	name string
	idx  Index
}

// newIndexes returns every index type, each with its defaults and with a configuration that
// stresses its structure (tiny leaves, one-cell coverings).
func newIndexes(t testing.TB) []namedIndex {
	var out []namedIndex
	add := func(name string, idx Index, err error) {
		require.NoError(t, err, name)
		out = append(out, namedIndex{name, idx})
	}
	gh, err := NewGeohash(GeohashConfig{})
	add("geohash", gh, err)
	gh1, err := NewGeohash(GeohashConfig{MaxCells: 1})
	add("geohash/cells=1", gh1, err)
	qt, err := NewQuadtree(QuadtreeConfig{})
	add("quadtree", qt, err)
	qt4, err := NewQuadtree(QuadtreeConfig{LeafSize: 4, MaxDepth: 12})
	add("quadtree/leaf=4", qt4, err)
	s, err := NewS2(S2Config{})
	add("s2", s, err)
	s1, err := NewS2(S2Config{MaxCells: 1})
	add("s2/cells=1", s1, err)
	return out
}

// checkInvariants verifies each index's internal structure against the model.
func checkInvariants(t *testing.T, idx Index, m model) {
	t.Helper()
	require.Equal(t, len(m), idx.Len())
	switch x := idx.(type) {
	case *Quadtree:
		require.Equal(t, len(m), x.root.n)
		require.Equal(t, len(m), checkNode(t, x, &x.root))
	case *GeohashIndex:
		require.Equal(t, len(m), x.s.tree.Len())
	case *S2Index:
		require.Equal(t, len(m), x.s.tree.Len())
	}
	for id, p := range m {
		got, ok := idx.Get(id)
		require.True(t, ok)
		require.Equal(t, p, got)
	}
}

func checkNode(t *testing.T, q *Quadtree, n *qnode) int {
	if n.kids == nil {
		require.Equal(t, len(n.pts), n.n)
		require.True(t, slices.IsSortedFunc(n.pts, func(a, b qentry) int { return cmp.Compare(a.p.Lat, b.p.Lat) }), "leaf not sorted by latitude")
		if n.depth < q.maxDepth {
			require.LessOrEqual(t, len(n.pts), q.leafSize)
		}
		for _, e := range n.pts {
			require.True(t, e.p.Lat >= n.minLat && e.p.Lat <= n.maxLat && e.p.Lng >= n.minLng && e.p.Lng <= n.maxLng,
				"point %+v outside cell %+v", e.p, *n)
			require.Equal(t, qref{p: e.p, leaf: n}, q.pos[e.id])
			require.True(t, n.owns(e.p), "point %+v not owned by its leaf", e.p)
		}
		return n.n
	}
	sum := 0
	for i := range n.kids {
		require.Same(t, n, n.kids[i].parent)
		sum += checkNode(t, q, &n.kids[i])
	}
	require.Equal(t, sum, n.n)
	require.Greater(t, n.n, q.leafSize/2, "subtree should have merged")
	return sum
}

// TestDifferential drives every index and the brute-force model with the same random stream
// of inserts, moves, removes and queries (uniform, city-clustered, polar, antimeridian and
// cell-boundary points; radii from 1 m to 5,000 km plus 0 and half the circumference and
// beyond; random k; antimeridian-crossing boxes) and requires identical answers.
func TestDifferential(t *testing.T) {
	seeds, ops, ids := 6, 2000, 500
	if testing.Short() {
		seeds, ops = 4, 1500
	}
	if testseed.Long() {
		seeds, ops, ids = 60, 5000, 2000
	}
	base := testseed.Seed(t)
	for s := range seeds {
		seed := base + uint64(s)
		t.Run("", func(t *testing.T) {
			runDifferential(t, seed, ops, ids)
		})
	}
}

func runDifferential(t *testing.T, seed uint64, ops, ids int) {
	g := newGen(seed)
	m := model{}
	idxs := newIndexes(t)
	var dst []Result
	existing := func() (Point, bool) {
		for id := range m { // map order is random enough to pick an arbitrary point
			return m[id], true
		}
		return Point{}, false
	}
	center := func() Point {
		if p, ok := existing(); ok && g.r.IntN(3) == 0 {
			return p
		}
		return g.point()
	}
	for op := range ops {
		switch r := g.r.IntN(20); {
		case r < 9: // insert or move
			id, p := uint64(g.r.IntN(ids)), g.point()
			if old, ok := m[id]; ok && g.r.IntN(3) == 0 { // a small move, usually within one cell
				step := math.Exp(g.r.Float64()*math.Log(1e4)) * 1e-6
				p = clampPoint(old.Lat+(g.r.Float64()-0.5)*step, old.Lng+(g.r.Float64()-0.5)*step)
			}
			m[id] = p
			for _, x := range idxs {
				require.NoError(t, x.idx.Set(id, p), x.name)
			}
		case r < 11: // remove
			id := uint64(g.r.IntN(ids))
			_, want := m[id]
			delete(m, id)
			for _, x := range idxs {
				require.Equal(t, want, x.idx.Remove(id), x.name)
			}
		case r < 16: // radius
			c, meters := center(), g.radius()
			if p, ok := existing(); ok && g.r.IntN(4) == 0 {
				meters = Distance(c, p) // a point exactly on the circle
			}
			limit := 0
			if g.r.IntN(3) == 0 {
				limit = 1 + g.r.IntN(20)
			}
			want := m.radius(c, meters, limit)
			for _, x := range idxs {
				var err error
				dst, err = x.idx.Radius(c, meters, limit, dst[:0])
				require.NoError(t, err)
				if d := diffResults(dst, want); d != "" {
					t.Fatalf("seed %d op %d %s.Radius(%+v, %v, %d): %s", seed, op, x.name, c, meters, limit, d)
				}
			}
		case r < 18: // nearest
			c, k := center(), 1+g.r.IntN(40)
			if g.r.IntN(10) == 0 {
				k = len(m) + 3
			}
			want := m.nearest(c, k)
			for _, x := range idxs {
				var err error
				dst, err = x.idx.Nearest(c, k, dst[:0])
				require.NoError(t, err)
				if d := diffResults(dst, want); d != "" {
					t.Fatalf("seed %d op %d %s.Nearest(%+v, %d): %s", seed, op, x.name, c, k, d)
				}
			}
		default: // box, often across the antimeridian or touching a pole
			a, b := center(), g.point()
			if g.r.IntN(2) == 0 { // a small box around a
				h := math.Exp(g.r.Float64()*math.Log(20)) - 0.9
				b = clampPoint(a.Lat+h, a.Lng+h*2)
			}
			sw := Point{min(a.Lat, b.Lat), a.Lng}
			ne := Point{max(a.Lat, b.Lat), b.Lng}
			want := m.box(sw, ne)
			for _, x := range idxs {
				var err error
				dst, err = x.idx.Box(sw, ne, dst[:0])
				require.NoError(t, err)
				if d := diffResults(dst, want); d != "" {
					t.Fatalf("seed %d op %d %s.Box(%+v, %+v): %s", seed, op, x.name, sw, ne, d)
				}
			}
		}
	}
	for _, x := range idxs {
		checkInvariants(t, x.idx, m)
	}
}
