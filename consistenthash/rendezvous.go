package consistenthash

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
)

// Rendezvous maps keys to nodes by highest random weight (Thaler & Ravishankar 1998): every
// node scores the key and the best score wins. Adding a node moves only the keys it now wins;
// removing one moves only its keys; GetN gives the next-best nodes as replicas. It needs no
// virtual nodes, at the price of O(nodes) per lookup.
//
// Weights use the logarithmic method (Schindelhauer & Schomaker 2005): with u the key-node
// hash mapped to (0, 1), a node scores weight / −ln(u), so each node wins a share of keys
// proportional to its weight. When all weights are equal the score is u itself and the
// lookup uses integer comparisons only.
//
// The zero value is an empty set that hashes with xxhash. A Rendezvous is safe for
// concurrent use: lookups read an immutable snapshot without locking or allocating; Add and
// Remove copy it (O(nodes)) under a mutex. It must not be copied after first use.
type Rendezvous struct {
	state atomic.Pointer[rendezvousState]
	_     [120]byte // keep the writers' mutex off the readers' cache line
	mu    sync.Mutex
	hash  func([]byte) uint64
}

type rendezvousState struct {
	names   []string  // sorted
	seeds   []uint64  // seeds[i] is the hash of names[i]
	weights []float64 // weights[i] is the weight of names[i]
	equal   bool      // all weights are equal: compare raw scores
}

// candidate is one node's score for a key; better orders candidates best first.
type candidate struct {
	score float64 // weight / −ln(u); 0 when all weights are equal
	x     uint64  // the key-node hash
	i     int     // index in names
}

func (a candidate) better(b candidate) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	if a.x != b.x {
		return a.x > b.x
	}
	return a.i < b.i
}

// NewRendezvous returns an empty set that hashes keys and node names with hash (nil means
// xxhash.Sum64). hash must be deterministic and must not retain its argument.
func NewRendezvous(hash func([]byte) uint64) *Rendezvous {
	return &Rendezvous{hash: hash}
}

// Add adds node with weight (>= 1). Cost: O(nodes). It returns an error wrapping
// ErrInvalidNode, ErrInvalidWeight or ErrDuplicateNode.
func (r *Rendezvous) Add(node string, weight int) error {
	if node == "" {
		return ErrInvalidNode
	}
	if weight < 1 {
		return fmt.Errorf("%w: node %q weight %d < 1", ErrInvalidWeight, node, weight)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.snapshot()
	k, found := slices.BinarySearch(old.names, node)
	if found {
		return fmt.Errorf("%w: %q", ErrDuplicateNode, node)
	}
	r.publish(slices.Insert(slices.Clone(old.names), k, node),
		slices.Insert(slices.Clone(old.seeds), k, sum(r.hash, []byte(node))),
		slices.Insert(slices.Clone(old.weights), k, float64(weight)))
	return nil
}

// Remove removes node. Cost: O(nodes). It returns an error wrapping ErrUnknownNode if node
// is absent.
func (r *Rendezvous) Remove(node string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.snapshot()
	k, err := find(old.names, node)
	if err != nil {
		return err
	}
	r.publish(slices.Delete(slices.Clone(old.names), k, k+1),
		slices.Delete(slices.Clone(old.seeds), k, k+1),
		slices.Delete(slices.Clone(old.weights), k, k+1))
	return nil
}

// publish stores a new snapshot; r.mu must be held.
func (r *Rendezvous) publish(names []string, seeds []uint64, weights []float64) {
	s := &rendezvousState{names: names, seeds: seeds, weights: weights, equal: true}
	for _, w := range weights {
		s.equal = s.equal && w == weights[0]
	}
	r.state.Store(s)
}

// snapshot returns the current state; the zero Rendezvous has none yet.
func (r *Rendezvous) snapshot() *rendezvousState {
	if s := r.state.Load(); s != nil {
		return s
	}
	return &rendezvousState{}
}

// Get returns the node with the highest score for key. Cost: one hash of key and O(nodes)
// mixes (plus a logarithm per node when weights differ); no allocation, no lock. It returns
// ErrEmpty when there are no nodes.
func (r *Rendezvous) Get(key []byte) (string, error) {
	s := r.snapshot()
	if len(s.names) == 0 {
		return "", ErrEmpty
	}
	kh := sum(r.hash, key)
	if s.equal {
		best, bx := 0, mix(kh^s.seeds[0])
		for i := 1; i < len(s.seeds); i++ {
			if x := mix(kh ^ s.seeds[i]); x > bx {
				best, bx = i, x
			}
		}
		return s.names[best], nil
	}
	best := s.candidate(kh, 0)
	for i := 1; i < len(s.seeds); i++ {
		if c := s.candidate(kh, i); c.better(best) {
			best = c
		}
	}
	return s.names[best.i], nil
}

// GetN appends to dst the n best-scoring nodes for key, best first (the first is Get's
// answer), or all nodes if there are fewer. Cost: O(nodes × n); no allocation for n <= 8
// when dst has room. It returns an error wrapping ErrInvalidCount for n < 0 and ErrEmpty
// when there are no nodes.
func (r *Rendezvous) GetN(key []byte, n int, dst []string) ([]string, error) {
	if n < 0 {
		return dst, fmt.Errorf("%w: %d", ErrInvalidCount, n)
	}
	s := r.snapshot()
	if len(s.names) == 0 {
		return dst, ErrEmpty
	}
	n = min(n, len(s.names))
	var small [8]candidate
	top := small[:0]
	if n > len(small) {
		top = make([]candidate, 0, n)
	}
	kh := sum(r.hash, key)
	for i := range s.seeds {
		c := s.candidate(kh, i)
		// Insertion into top, kept sorted best first and at most n long.
		j := len(top)
		for j > 0 && c.better(top[j-1]) {
			j--
		}
		if j < n {
			if len(top) < n {
				top = append(top, candidate{})
			}
			copy(top[j+1:], top[j:])
			top[j] = c
		}
	}
	for _, c := range top {
		dst = append(dst, s.names[c.i])
	}
	return dst, nil
}

// Nodes returns the nodes in ascending order, in a new slice. Cost: O(nodes).
func (r *Rendezvous) Nodes() []string {
	return slices.Clone(r.snapshot().names)
}

// candidate scores node i for a key hashing to kh.
func (s *rendezvousState) candidate(kh uint64, i int) candidate {
	x := mix(kh ^ s.seeds[i])
	if s.equal {
		return candidate{x: x, i: i}
	}
	// u in (0, 1): the top 53 bits of x, centred in their interval so that ln(u) < 0.
	u := (float64(x>>11) + 0.5) / (1 << 53)
	return candidate{score: s.weights[i] / -math.Log(u), x: x, i: i}
}

// mix is the MurmurHash3 64-bit finaliser: a bijection that spreads every input bit over
// the output, so that one key hash combines with each node's seed into independent-looking
// scores.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
