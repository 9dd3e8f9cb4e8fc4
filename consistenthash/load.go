package consistenthash

import (
	"math"
	"slices"
)

// Acquire places one unit of load for key and returns the node that takes it.
//
// With Config.LoadFactor c > 1 (consistent hashing with bounded loads, Mirrokni, Thorup &
// Zadimoghaddam 2018) it walks clockwise from key's position and picks the first node whose
// load is below its capacity ceil(c × m × weight / total weight), where m counts the loads
// including this one; with equal weights that is ceil(c × average). Such a node always
// exists because the capacities add up to at least c × m > m − 1. With LoadFactor 0 loads
// are counted but not bounded, so Acquire returns Get's node.
//
// The bound holds when a load is placed. Release and Remove lower the average without
// moving the loads already placed (the caller owns them), so a node placed under an
// earlier, higher average may sit above the current bound until its loads are released.
//
// Cost: one hash plus a walk over the points of full nodes (O(1/(c−1)²) expected, O(points)
// at worst); no allocation. Acquire and Release serialise on the ring's mutex (Get does
// not). It returns ErrEmpty on an empty ring.
func (r *Ring) Acquire(key []byte) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.snapshot()
	if len(s.hashes) == 0 {
		return "", ErrEmpty
	}
	i := s.search(sum(r.cfg.Hash, key))
	m := r.total + 1
	for range s.hashes {
		o := s.owners[i]
		if r.cfg.LoadFactor == 0 || r.loads[o] < capacity(r.cfg.LoadFactor, m, s.weights[o], s.total) {
			r.loads[o]++
			r.total = m
			return s.names[o], nil
		}
		if i++; i == len(s.hashes) {
			i = 0
		}
	}
	// Not reached: the capacities add up to more than the loads (see the doc comment). Should
	// floating-point rounding with c within an ulp of 1 ever break that, fall back to Get's
	// node rather than fail.
	o := s.owners[i]
	r.loads[o]++
	r.total = m
	return s.names[o], nil
}

// Release removes one unit of load from node, undoing an Acquire that returned node. It
// does nothing if node is unknown (for example removed since) or has no load. Cost:
// O(log nodes) under the ring's mutex.
func (r *Ring) Release(node string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := slices.BinarySearch(r.snapshot().names, node)
	if ok && r.loads[k] > 0 {
		r.loads[k]--
		r.total--
	}
}

// Load returns the load Acquire has placed on node and not yet released (0 for an unknown
// node). Cost: O(log nodes) under the ring's mutex.
func (r *Ring) Load(node string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k, ok := slices.BinarySearch(r.snapshot().names, node); ok {
		return r.loads[k]
	}
	return 0
}

// capacity is the most load a node of weight w may hold when m loads are spread over nodes
// of total weight tw with load factor c: ceil(c × m × w / tw).
func capacity(c float64, m int64, w, tw int) int64 {
	return int64(math.Ceil(c * float64(m) * float64(w) / float64(tw)))
}
