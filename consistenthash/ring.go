package consistenthash

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
)

// maxTableBits caps the lookup table at 2^20+1 entries (4 MiB); rings with more points use
// a binary search over a few points per bucket instead of one.
const maxTableBits = 20

// maxRingPoints bounds the points of a whole ring, so that point indices fit the uint32
// lookup table and the int32 owner indices.
const maxRingPoints = 1<<31 - 1

// Ring is a consistent-hash ring with virtual nodes, replica lookup (GetN) and optional
// bounded loads (Acquire/Release).
//
// A Ring is safe for concurrent use. Get and GetN read an immutable snapshot through an
// atomic pointer: they take no lock and do not allocate. Add and Remove build a new snapshot
// (copy-on-write, O(points)) and serialise on a mutex, as do Acquire and Release, which
// also guard the load counters. The zero value is an empty ring with the default Config
// (New(Config{})). A Ring must not be copied after first use.
type Ring struct {
	state atomic.Pointer[ringState]
	// Keep the writers' mutex off the cache line readers load the snapshot pointer from.
	_ [120]byte

	mu    sync.Mutex
	cfg   Config
	loads []int64 // by owner index of the current snapshot; guarded by mu
	total int64   // sum of loads; guarded by mu
}

// ringState is one immutable snapshot of the ring.
type ringState struct {
	hashes  []uint64 // point positions, sorted by (hash, owner)
	owners  []int32  // owners[i] is the index in names of the node owning point i
	names   []string // node names, sorted
	weights []int    // weights[i] is the weight of names[i]
	total   int      // sum of weights
	// table[b] is the first point whose top tableBits bits are >= b; table[len-1] = len(hashes).
	// It narrows a lookup to the few points of one bucket.
	table []uint32
	shift uint // 64 - tableBits
}

// New returns an empty ring configured by cfg (the zero Config gives the defaults). cfg is
// copied and never modified. It returns an error wrapping ErrInvalidConfig for a bad Config.
func New(cfg Config) (*Ring, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Ring{cfg: c}, nil
}

// emptyRing is the snapshot of a ring that has never had a node.
var emptyRing ringState

// snapshot returns the current snapshot (the zero Ring has none yet).
func (r *Ring) snapshot() *ringState {
	if s := r.state.Load(); s != nil {
		return s
	}
	return &emptyRing
}

// vnodes is Config.VirtualNodes, defaulted for the zero Ring.
func (r *Ring) vnodes() int {
	if r.cfg.VirtualNodes == 0 {
		return DefaultVirtualNodes
	}
	return r.cfg.VirtualNodes
}

// Add places node on the ring with VirtualNodes × weight points. Only keys that now land on
// node's points move, all of them to node. Cost: O(points + weight × VirtualNodes × log);
// use AddAll to build a large ring. It returns an error wrapping ErrInvalidNode,
// ErrInvalidWeight or ErrDuplicateNode.
func (r *Ring) Add(node string, weight int) error {
	return r.AddAll(map[string]int{node: weight})
}

// AddAll adds every node of weights (node → weight) in one copy of the ring, all or none:
// on error the ring is unchanged. Cost: O(points + p × log p) for the p new points, so
// building a ring of n nodes costs one copy rather than n. Errors are those of Add, for the
// first offending node in name order.
func (r *Ring) AddAll(weights map[string]int) error {
	added := make([]string, 0, len(weights))
	for node := range weights {
		added = append(added, node)
	}
	slices.Sort(added)

	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.snapshot()
	points := len(old.hashes)
	maxWeight := MaxPoints / r.vnodes()
	for _, node := range added {
		w := weights[node]
		switch {
		case node == "":
			return ErrInvalidNode
		case w < 1 || w > maxWeight:
			return fmt.Errorf("%w: node %q weight %d not in [1, %d]", ErrInvalidWeight, node, w, maxWeight)
		}
		if _, found := slices.BinarySearch(old.names, node); found {
			return fmt.Errorf("%w: %q", ErrDuplicateNode, node)
		}
		if points += w * r.vnodes(); points > maxRingPoints {
			return fmt.Errorf("%w: node %q: the ring would exceed %d points", ErrInvalidWeight, node, maxRingPoints)
		}
	}
	if len(added) == 0 {
		return nil
	}

	// Merge the sorted name lists; remap[i] is old node i's new index.
	s := &ringState{
		hashes:  make([]uint64, 0, points),
		owners:  make([]int32, 0, points),
		names:   make([]string, 0, len(old.names)+len(added)),
		weights: make([]int, 0, len(old.names)+len(added)),
	}
	remap := make([]int32, len(old.names))
	var fresh []point
	for a, b := 0, 0; a < len(old.names) || b < len(added); {
		o := int32(len(s.names))
		if b == len(added) || (a < len(old.names) && old.names[a] < added[b]) {
			remap[a] = o
			s.names = append(s.names, old.names[a])
			s.weights = append(s.weights, old.weights[a])
			a++
			continue
		}
		w := weights[added[b]]
		s.names = append(s.names, added[b])
		s.weights = append(s.weights, w)
		fresh = appendPoints(fresh, r.cfg.Hash, added[b], w*r.vnodes(), o)
		b++
	}
	for _, w := range s.weights {
		s.total += w
	}
	slices.SortFunc(fresh, func(x, y point) int {
		if x.h != y.h {
			return cmp.Compare(x.h, y.h)
		}
		return cmp.Compare(x.o, y.o)
	})

	// Merge the old points (remapping keeps them ordered by (hash, owner), because the
	// old names keep their relative order) with the sorted new ones.
	i, j := 0, 0
	for i < len(old.hashes) || j < len(fresh) {
		if i < len(old.hashes) {
			o := remap[old.owners[i]]
			if j == len(fresh) || old.hashes[i] < fresh[j].h || (old.hashes[i] == fresh[j].h && o < fresh[j].o) {
				s.hashes = append(s.hashes, old.hashes[i])
				s.owners = append(s.owners, o)
				i++
				continue
			}
		}
		s.hashes = append(s.hashes, fresh[j].h)
		s.owners = append(s.owners, fresh[j].o)
		j++
	}
	s.buildTable()

	loads := make([]int64, len(s.names))
	for k, l := range r.loads {
		loads[remap[k]] = l
	}
	r.loads = loads
	r.state.Store(s)
	return nil
}

// Remove takes node off the ring. Only node's keys move; each goes to the next point
// clockwise. Its bounded-load count is dropped. Cost: O(points). It returns an error
// wrapping ErrUnknownNode if node is not on the ring.
func (r *Ring) Remove(node string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.snapshot()
	k, err := find(old.names, node)
	if err != nil {
		return err
	}
	nk := int32(k)
	n := len(old.hashes) - old.weights[k]*r.vnodes()
	s := &ringState{
		hashes:  make([]uint64, 0, n),
		owners:  make([]int32, 0, n),
		names:   slices.Delete(slices.Clone(old.names), k, k+1),
		weights: slices.Delete(slices.Clone(old.weights), k, k+1),
		total:   old.total - old.weights[k],
	}
	for i, h := range old.hashes {
		o := old.owners[i]
		switch {
		case o == nk:
			continue
		case o > nk:
			o--
		}
		s.hashes = append(s.hashes, h)
		s.owners = append(s.owners, o)
	}
	s.buildTable()

	r.total -= r.loads[k]
	r.loads = slices.Delete(r.loads, k, k+1)
	r.state.Store(s)
	return nil
}

// Get returns the node owning key: the owner of the first point at or clockwise after
// key's hash. Cost: one hash of key and O(1) expected (a table lookup and a search among the
// few points of one bucket); no allocation, no lock. It returns ErrEmpty on an empty ring.
func (r *Ring) Get(key []byte) (string, error) {
	s := r.snapshot()
	if len(s.hashes) == 0 {
		return "", ErrEmpty
	}
	// Call xxhash directly rather than through sum: sum is too big to inline, and this is
	// the hottest path of the package.
	var h uint64
	if r.cfg.Hash == nil {
		h = xxhash.Sum64(key)
	} else {
		h = r.cfg.Hash(key)
	}
	return s.names[s.owners[s.search(h)]], nil
}

// GetString is Get for a string key. Get's key escapes (it is passed to Config.Hash), so
// Get([]byte(s)) copies s to the heap; GetString hashes s in place with the default hash and
// does not allocate (a custom Hash gets a copy). Cost: as Get.
func (r *Ring) GetString(key string) (string, error) {
	if r.cfg.Hash != nil {
		return r.Get([]byte(key))
	}
	s := r.snapshot()
	if len(s.hashes) == 0 {
		return "", ErrEmpty
	}
	return s.names[s.owners[s.search(xxhash.Sum64String(key))]], nil
}

// GetN appends to dst the first n distinct nodes met clockwise from key's position (the
// first is Get's answer): the replicas of key. It appends all nodes if n exceeds their
// number. Cost: one hash and a walk until n distinct owners are seen; no allocation for
// n <= 8 when dst has room. It returns an error wrapping ErrInvalidCount for n < 0 and
// ErrEmpty on an empty ring.
func (r *Ring) GetN(key []byte, n int, dst []string) ([]string, error) {
	if n < 0 {
		return dst, fmt.Errorf("%w: %d", ErrInvalidCount, n)
	}
	s := r.snapshot()
	if len(s.hashes) == 0 {
		return dst, ErrEmpty
	}
	n = min(n, len(s.names))
	i := s.search(sum(r.cfg.Hash, key))
	var small [8]int32
	var seen []uint64 // bit set of owners, only when n > len(small)
	if n > len(small) {
		seen = make([]uint64, (len(s.names)+63)/64)
	}
	for got := 0; got < n; {
		o := s.owners[i]
		if seen != nil {
			if seen[o/64]&(1<<(o%64)) == 0 {
				seen[o/64] |= 1 << (o % 64)
				dst = append(dst, s.names[o])
				got++
			}
		} else if !slices.Contains(small[:got], o) {
			small[got] = o
			dst = append(dst, s.names[o])
			got++
		}
		if i++; i == len(s.hashes) {
			i = 0
		}
	}
	return dst, nil
}

// Nodes returns the ring's nodes in ascending order, in a new slice. Cost: O(nodes).
func (r *Ring) Nodes() []string {
	return slices.Clone(r.snapshot().names)
}

// Weight returns node's weight, or 0 if node is not on the ring.
func (r *Ring) Weight(node string) int {
	s := r.snapshot()
	if k, ok := slices.BinarySearch(s.names, node); ok {
		return s.weights[k]
	}
	return 0
}

// point is a ring point under construction: its position and its owner's index.
type point struct {
	h uint64
	o int32
}

// appendPoints appends node's n points, owned by index o: the hashes of "node#0",
// "node#1", ... "node#(n-1)". Keeping the index in the name (rather than the weight) means
// a later weight change would keep the existing points.
func appendPoints(dst []point, hash func([]byte) uint64, node string, n int, o int32) []point {
	buf := make([]byte, 0, len(node)+1+20)
	buf = append(append(buf, node...), '#')
	for i := range n {
		dst = append(dst, point{sum(hash, strconv.AppendInt(buf, int64(i), 10)), o})
	}
	return dst
}

// buildTable fills table and shift for the current points: O(points + 2^tableBits).
func (s *ringState) buildTable() {
	if len(s.hashes) == 0 {
		s.table = nil
		return
	}
	tb := min(bits.Len(uint(len(s.hashes))), maxTableBits)
	s.shift = uint(64 - tb)
	s.table = make([]uint32, 1<<tb+1)
	i := 0
	for b := range s.table[:1<<tb] {
		for i < len(s.hashes) && s.hashes[i]>>s.shift < uint64(b) {
			i++
		}
		s.table[b] = uint32(i)
	}
	s.table[1<<tb] = uint32(len(s.hashes))
}

// search returns the index of the first point at or after h, wrapping to 0 past the last.
// The ring must not be empty.
func (s *ringState) search(h uint64) int {
	b := h >> s.shift
	lo, hi := int(s.table[b]), int(s.table[b+1])
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.hashes[m] < h {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(s.hashes) {
		return 0
	}
	return lo
}
