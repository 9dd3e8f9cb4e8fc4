package consistenthash

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/require"
	"github.com/sysblocks/sysblocks/internal/testseed"
)

// weakHash keeps 6 bits of xxhash, spread over the top and bottom of the word, so that
// points and keys collide often: it exercises tie-breaking and the lookup table.
func weakHash(b []byte) uint64 { return xxhash.Sum64(b) & 0xF000_0000_0000_0003 }

// model is the brute-force oracle: it recomputes every point and scans them linearly.
type model struct {
	vnodes  int
	hash    func([]byte) uint64
	lf      float64
	weights map[string]int
	loads   map[string]int64
}

type modelPoint struct {
	h    uint64
	node string
}

func newModel(cfg Config) *model {
	h := cfg.Hash
	if h == nil {
		h = xxhash.Sum64
	}
	v := cfg.VirtualNodes
	if v == 0 {
		v = DefaultVirtualNodes
	}
	return &model{vnodes: v, hash: h, lf: cfg.LoadFactor, weights: map[string]int{}, loads: map[string]int64{}}
}

func (m *model) points() []modelPoint {
	var ps []modelPoint
	for node, w := range m.weights {
		for i := 0; i < m.vnodes*w; i++ {
			ps = append(ps, modelPoint{m.hash([]byte(fmt.Sprintf("%s#%d", node, i))), node})
		}
	}
	slices.SortFunc(ps, func(a, b modelPoint) int {
		return cmp.Or(cmp.Compare(a.h, b.h), cmp.Compare(a.node, b.node))
	})
	return ps
}

// start is the index of the first point at or after key's hash, wrapping to 0.
func (m *model) start(ps []modelPoint, key []byte) int {
	h := m.hash(key)
	for i, p := range ps {
		if p.h >= h {
			return i
		}
	}
	return 0
}

func (m *model) get(key []byte) (string, bool) {
	ps := m.points()
	if len(ps) == 0 {
		return "", false
	}
	return ps[m.start(ps, key)].node, true
}

func (m *model) getN(key []byte, n int) []string {
	ps := m.points()
	if len(ps) == 0 {
		return nil
	}
	var out []string
	for i := m.start(ps, key); len(out) < min(n, len(m.weights)); i = (i + 1) % len(ps) {
		if !slices.Contains(out, ps[i].node) {
			out = append(out, ps[i].node)
		}
	}
	return out
}

func (m *model) acquire(key []byte) (string, bool) {
	ps := m.points()
	if len(ps) == 0 {
		return "", false
	}
	var total int64
	tw := 0
	for node, w := range m.weights {
		total += m.loads[node]
		tw += w
	}
	for i, k := m.start(ps, key), 0; k < len(ps); i, k = (i+1)%len(ps), k+1 {
		node := ps[i].node
		limit := math.Ceil(m.lf * float64(total+1) * float64(m.weights[node]) / float64(tw))
		if m.lf == 0 || float64(m.loads[node]) < limit {
			m.loads[node]++
			return node, true
		}
	}
	panic("model: every node is full")
}

// rendezvous ranks every node by the weighted score directly (no equal-weight shortcut).
func (m *model) rendezvous(key []byte, n int) []string {
	type scored struct {
		node  string
		score float64
		x     uint64
	}
	var all []scored
	kh := m.hash(key)
	for node, w := range m.weights {
		x := mix(kh ^ m.hash([]byte(node)))
		u := (float64(x>>11) + 0.5) / (1 << 53)
		all = append(all, scored{node, float64(w) / -math.Log(u), x})
	}
	slices.SortFunc(all, func(a, b scored) int {
		return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(b.x, a.x), cmp.Compare(a.node, b.node))
	})
	var out []string
	for _, s := range all[:min(n, len(all))] {
		out = append(out, s.node)
	}
	return out
}

// checkRing verifies the snapshot's internal invariants against the model.
func checkRing(t testing.TB, r *Ring, m *model) {
	t.Helper()
	s := r.snapshot()
	names := make([]string, 0, len(m.weights))
	for n := range m.weights {
		names = append(names, n)
	}
	slices.Sort(names)
	require.Equal(t, names, append([]string{}, r.Nodes()...), "nodes")
	ps := m.points()
	require.Len(t, s.hashes, len(ps))
	require.Len(t, s.owners, len(ps))
	for i, p := range ps {
		require.Equal(t, p.h, s.hashes[i], "point %d", i)
		require.Equal(t, p.node, s.names[s.owners[i]], "point %d owner", i)
	}
	if len(ps) > 0 {
		for b := 0; b+1 < len(s.table); b++ {
			lo := int(s.table[b])
			require.True(t, lo == len(ps) || s.hashes[lo]>>s.shift >= uint64(b), "table[%d]", b)
			require.True(t, lo == 0 || s.hashes[lo-1]>>s.shift < uint64(b), "table[%d] not first", b)
		}
	}
	var total int64
	for _, n := range names {
		require.Equal(t, m.loads[n], r.Load(n), "load of %s", n)
		total += m.loads[n]
	}
	r.mu.Lock()
	require.Equal(t, total, r.total, "total load")
	r.mu.Unlock()
}

// ops drives a Ring and a Rendezvous with a byte stream and checks every answer against the
// model. Byte layout: each op is a selector byte followed by its arguments.
func runOps(t testing.TB, cfg Config, data []byte) {
	r, err := New(cfg)
	require.NoError(t, err)
	rv := NewRendezvous(cfg.Hash)
	m := newModel(cfg)
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	var dst []string
	for len(data) > 0 {
		op, arg := next(), next()
		node := "n" + strconv.Itoa(int(arg%8))
		key := []byte{arg, next()}
		switch op % 8 {
		case 0:
			w := int(next()%3) + 1
			err := r.Add(node, w)
			require.Equal(t, err, rv.Add(node, w))
			if _, ok := m.weights[node]; ok {
				require.ErrorIs(t, err, ErrDuplicateNode)
			} else {
				require.NoError(t, err)
				m.weights[node] = w
			}
			require.Equal(t, m.weights[node], r.Weight(node))
		case 1:
			err := r.Remove(node)
			require.Equal(t, err, rv.Remove(node))
			if _, ok := m.weights[node]; ok {
				require.NoError(t, err)
				delete(m.weights, node)
				delete(m.loads, node)
			} else {
				require.ErrorIs(t, err, ErrUnknownNode)
			}
		case 2:
			got, err := r.Get(key)
			want, ok := m.get(key)
			requireAnswer(t, ok, err, want, got)
			got, err = r.GetString(string(key))
			requireAnswer(t, ok, err, want, got)
			got, err = rv.Get(key)
			requireAnswer(t, ok, err, first(m.rendezvous(key, 1)), got)
		case 3:
			n := int(next() % 10)
			var err error
			dst, err = r.GetN(key, n, dst[:0])
			if len(m.weights) == 0 {
				require.ErrorIs(t, err, ErrEmpty)
				continue
			}
			require.NoError(t, err)
			require.Equal(t, m.getN(key, n), nilIfEmpty(dst), "GetN(%x, %d)", key, n)
			dst, err = rv.GetN(key, n, dst[:0])
			require.NoError(t, err)
			require.Equal(t, m.rendezvous(key, n), nilIfEmpty(dst), "Rendezvous.GetN(%x, %d)", key, n)
		case 4:
			got, err := r.Acquire(key)
			want, ok := m.acquire(key)
			requireAnswer(t, ok, err, want, got)
		case 5:
			r.Release(node)
			if m.loads[node] > 0 {
				m.loads[node]--
			}
		case 6:
			checkRing(t, r, m)
		case 7:
			other := "n" + strconv.Itoa(int(next()%8))
			batch := map[string]int{node: 1, other: int(next()%3) + 1}
			err := r.AddAll(batch)
			_, dup1 := m.weights[node]
			_, dup2 := m.weights[other]
			if dup1 || dup2 {
				require.ErrorIs(t, err, ErrDuplicateNode)
				continue
			}
			require.NoError(t, err)
			for n, w := range batch {
				m.weights[n] = w
				require.NoError(t, rv.Add(n, w))
			}
		}
	}
	checkRing(t, r, m)
}

func requireAnswer(t testing.TB, ok bool, err error, want, got string) {
	t.Helper()
	if !ok {
		require.ErrorIs(t, err, ErrEmpty)
		return
	}
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// modelConfigs are the ring configurations the differential tests and the fuzzer cycle
// through: few points so the brute-force model stays cheap, a colliding hash, load bounds.
var modelConfigs = []Config{
	{VirtualNodes: 3},
	{VirtualNodes: 2, Hash: weakHash},
	{VirtualNodes: 4, LoadFactor: 1.25},
	{VirtualNodes: 1, Hash: weakHash, LoadFactor: 2},
	{VirtualNodes: 5, LoadFactor: 1.5},
}

func TestRingAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.Seed(t), 0))
	rounds := 100
	if testseed.Long() {
		rounds = 2000
	}
	for i := range rounds {
		cfg := modelConfigs[i%len(modelConfigs)]
		data := make([]byte, 300)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		runOps(t, cfg, data)
	}
}

func FuzzOps(f *testing.F) {
	f.Add(byte(0), []byte{0, 1, 0, 0, 2, 0, 2, 3, 3, 9, 1, 4, 5, 4, 6, 5, 2, 0, 6, 0})
	f.Add(byte(1), []byte{0, 0, 2, 0, 1, 0, 0, 2, 2, 7, 7, 9, 3, 1, 1, 3, 1, 1, 2, 9, 9})
	f.Add(byte(2), []byte{0, 1, 1, 0, 2, 1, 4, 1, 1, 4, 2, 2, 4, 3, 3, 4, 4, 4, 5, 1, 4, 5, 5, 1, 6})
	f.Add(byte(3), []byte{0, 3, 0, 4, 9, 9, 4, 8, 8, 4, 7, 7, 1, 3, 4, 1, 1, 6})
	f.Fuzz(func(t *testing.T, c byte, data []byte) {
		if len(data) > 400 {
			data = data[:400]
		}
		runOps(t, modelConfigs[int(c)%len(modelConfigs)], data)
	})
}
