package leaderboard

import (
	"fmt"
	"unsafe"
)

const (
	leafCap  = 64
	innerCap = 64
	minLeaf  = leafCap / 4
	minInner = innerCap / 4
	nilNode  = ^uint32(0)
)

// leafNode holds up to leafCap keys in ascending order, struct-of-arrays so
// a search over scores touches only f and s.
//
// The layout is cache-line exact: a leaf is 22 lines (big boards' arenas
// are page aligned), n and the fences fill the first, and every
// searchBlock keys of s, t and id start a line, so a search reads the
// first line and one line of s (see searchFenced) and a key's tie and id
// each sit in one known line.
type leafNode struct {
	n          int
	_          [intPad]byte
	f          fences
	s          [leafCap]uint64
	t          [leafCap]uint64
	id         [leafCap]uint32
	prev, next uint32
	_          [56]byte // to a whole number of cache lines
}

// intPad widens a node's n to 8 bytes where int is 4, so that the layout
// in cache lines is the same on every architecture.
const intPad = 8 - unsafe.Sizeof(int(0))

// innerNode holds up to innerCap children with their subtree sizes. For
// i >= 1, (s[i], t[i], id[i]) is a separator: every key of child i-1 is
// below it and every key of child i is at or above it. Separators may name
// keys that have since been removed; in member order their entries stay
// pinned (see tree.pin) so their bytes can still be compared.
//
// The fields are in the order a descent reads them: the separator scores
// it counts through, then the chosen child and its count, so the hardware
// prefetcher streaming through s has child and cnt on the way.
//
// As in a leaf, n and the fences fill the first cache line (an inner node is
// 29 lines), so a search reads that line and the two lines of s holding one
// block of separators.
type innerNode struct {
	n     int
	_     [intPad]byte
	f     fences // of the separators s[1:n]
	s     [innerCap]uint64
	child [innerCap]uint32
	cnt   [innerCap]uint32 // keys below each child (a board holds < 1<<32)
	t     [innerCap]uint64
	id    [innerCap]uint32
}

// key is a search key: a stored key (id is its entry) or an external one
// (id == noID, used by Sharded to count across shards). m is the member,
// needed only in member order when s and t tie.
type key struct {
	s, t uint64
	id   uint32
	m    string
}

// tree is an order-statistic B+tree: every inner node knows the size of
// each child, so rank and select cost O(log n).
type tree struct {
	root     uint32
	height   int // 0: the root is a leaf
	n        int
	first    uint32 // leftmost leaf
	last     uint32 // rightmost leaf
	leaves   pool[leafNode]
	inners   pool[innerNode]
	byMember bool // ties on (s, t) compare member bytes
	ms       *members
	pins     map[uint32]int32 // separator references per entry (member order)
	dead     map[uint32]bool  // removed entries kept alive by pins
}

func newTree(ms *members, byMember bool) tree {
	return tree{root: nilNode, first: nilNode, last: nilNode, ms: ms, byMember: byMember,
		inners: pool[innerNode]{small: true}, pins: map[uint32]int32{}, dead: map[uint32]bool{}}
}

// cmp compares k with the stored key (s, t, id).
func (tr *tree) cmp(k *key, s, t uint64, id uint32) int {
	switch {
	case k.s < s:
		return -1
	case k.s > s:
		return 1
	}
	return tr.cmpTie(k, t, id)
}

// cmpInner compares k with separator i of in, and cmpLeaf with key i of lf.
// Unlike cmp they read the tie and id only when the scores are equal: an
// argument is loaded before the call even when cmp is inlined, and those
// are lines a search or warming never fetched.
func (tr *tree) cmpInner(k *key, in *innerNode, i int) int {
	if s := in.s[i]; k.s != s {
		return cmpScore(k.s, s)
	}
	return tr.cmpTie(k, in.t[i], in.id[i])
}

func (tr *tree) cmpLeaf(k *key, lf *leafNode, i int) int {
	if s := lf.s[i]; k.s != s {
		return cmpScore(k.s, s)
	}
	return tr.cmpTie(k, lf.t[i], lf.id[i])
}

// cmpScore compares two different scores.
func cmpScore(a, b uint64) int {
	if a < b {
		return -1
	}
	return 1
}

// cmpTie compares k with the stored key (k.s, t, id): scores are equal.
func (tr *tree) cmpTie(k *key, t uint64, id uint32) int {
	switch {
	case k.t < t:
		return -1
	case k.t > t:
		return 1
	case k.id == id || !tr.byMember:
		return 0
	}
	return cmpMember(k.m, tr.ms.member(id))
}

func cmpMember(a, b string) int {
	switch {
	case a < b:
		return -1
	case a == b:
		return 0
	}
	return 1
}

// lowerBound returns the first position in lf whose key is >= k.
func (tr *tree) lowerBound(lf *leafNode, k *key) int {
	n := lf.n
	return tr.search(&lf.f, lf.s[:n], lf.t[:n], lf.id[:n], k, false)
}

// childFor returns the child of in whose range holds k: the number of
// separators (from index 1) that are <= k.
func (tr *tree) childFor(in *innerNode, k *key) int {
	n := in.n
	return tr.search(&in.f, in.s[1:n], in.t[1:n], in.id[1:n], k, true)
}

// search returns the number of keys in (xs, ts, ids), ascending, that are
// below k, or at most k when orEqual; f are the fences of xs. Scores decide
// with a branch-free search; only a run of equal scores pays for the full
// comparison.
func (tr *tree) search(f *fences, xs, ts []uint64, ids []uint32, k *key, orEqual bool) int {
	p := searchFenced(f, xs, k.s)
	if p == len(xs) || xs[p] != k.s {
		return p
	}
	// Keys are distinct, so the first key of the score run being k itself
	// (a stored key looked up by its own entry; t too, as a stale separator
	// may carry an older arrival tie of the same entry) settles the answer,
	// and so does a run of one; neither pays for a second search.
	if ids[p] == k.id && ts[p] == k.t {
		return p + b2i(orEqual)
	}
	if p+1 == len(xs) || xs[p+1] != k.s {
		if c := tr.cmpTie(k, ts[p], ids[p]); c > 0 || orEqual && c == 0 {
			return p + 1
		}
		return p
	}
	lo, hi := p, len(xs)
	if k.s != ^uint64(0) {
		hi = p + searchGE(xs[p:], k.s+1)
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c := tr.cmpTie(k, ts[m], ids[m]); c > 0 || orEqual && c == 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// searchGE returns the first index of xs (ascending) holding a value >= v,
// or len(xs). On a big board a node is rarely in cache, and a binary search
// would wait for three or four cache misses one after another, each load
// depending on the last compare. Here the first loop compares every
// searchBlock-th value (the last of each block) with v: those loads do not
// depend on each other, so a node's lines arrive together, and each block
// whose last value is below v lies wholly below v, before the others. The
// second loop counts within the first remaining block, whose line the
// first loop already fetched.
// Neither loop branches on the data.
func searchGE(xs []uint64, v uint64) int {
	base := 0
	for j := searchBlock - 1; j < len(xs); j += searchBlock {
		base += searchBlock & -b2i(xs[j] < v)
	}
	i := base
	for _, x := range xs[base:min(base+searchBlock, len(xs))] {
		i += b2i(x < v)
	}
	return i
}

// searchBlock is searchGE's block: one cache line of scores.
const searchBlock = 8

// fences are the last score of every searchBlock keys of a node's sorted
// scores xs: f[b] = xs[b*searchBlock+searchBlock-1], or ^0 (above every
// score: no score encodes to it, as only NaN would) where xs is shorter.
// The last block needs none (see searchFenced). They are searchGE's first
// loop precomputed into one cache line, so a search of a node that is not
// in cache reads two lines (three for inner nodes, whose blocks straddle
// lines) instead of all its scores'.
type fences [max(leafCap, innerCap)/searchBlock - 1]uint64

// searchFenced is searchGE(xs, v) for xs with fences f.
func searchFenced(f *fences, xs []uint64, v uint64) int {
	base := fenceBlock(f, v)
	i := base
	for _, x := range xs[min(base, len(xs)):min(base+searchBlock, len(xs))] {
		i += b2i(x < v)
	}
	return i
}

// fenceBlock returns the first position of the block of keys with fences f
// that holds searchGE's answer for v: searchBlock times the number of
// fences below v.
func fenceBlock(f *fences, v uint64) int {
	base := 0
	for _, x := range f {
		base += searchBlock & -b2i(x < v)
	}
	return base
}

// refence recomputes the fences of xs for blocks from the one holding
// position from through the one holding position to (inclusive): where a
// change to xs can have moved them.
func (f *fences) refence(xs []uint64, from, to int) {
	for b := max(from, 0) / searchBlock; b <= to/searchBlock && b < len(f); b++ {
		v := ^uint64(0)
		if j := b*searchBlock + searchBlock - 1; j < len(xs) {
			v = xs[j]
		}
		f[b] = v
	}
}

// refence recomputes all of lf's fences.
func (lf *leafNode) refence() { lf.f.refence(lf.s[:lf.n], 0, len(lf.f)*searchBlock) }

// refence recomputes all of in's fences.
func (in *innerNode) refence() { in.f.refence(in.s[1:max(in.n, 1)], 0, len(in.f)*searchBlock) }

// b2i compiles to SETcc: no branch.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (tr *tree) pin(id uint32) {
	if tr.byMember {
		tr.pins[id]++
	}
}

func (tr *tree) unpin(id uint32) {
	if !tr.byMember {
		return
	}
	c := tr.pins[id] - 1
	if c > 0 {
		tr.pins[id] = c
		return
	}
	delete(tr.pins, id)
	if tr.dead[id] {
		delete(tr.dead, id)
		tr.ms.release(id)
	}
}

// forget releases entry id once no separator refers to it.
func (tr *tree) forget(id uint32) {
	if tr.pins[id] > 0 {
		tr.dead[id] = true
		return
	}
	tr.ms.release(id)
}

// units is the fill of a node: keys for a leaf, children for an inner node.
func (tr *tree) units(node uint32, h int) int {
	if h == 0 {
		return tr.leaves.at(node).n
	}
	return tr.inners.at(node).n
}

// size is the number of keys under node.
func (tr *tree) size(node uint32, h int) int {
	if h == 0 {
		return tr.leaves.at(node).n
	}
	in := tr.inners.at(node)
	c := 0
	for i := 0; i < in.n; i++ {
		c += int(in.cnt[i])
	}
	return c
}

func (tr *tree) full(node uint32, h int) bool {
	if h == 0 {
		return tr.leaves.at(node).n == leafCap
	}
	return tr.inners.at(node).n == innerCap
}

// insert adds k, which must not be present. Full nodes are split on the way
// down, so the insert never has to walk back up.
func (tr *tree) insert(k *key) {
	tr.growRoot()
	node, h := tr.root, tr.height
	for h > 0 {
		in := tr.inners.at(node)
		i := tr.roomFor(in, h, k)
		in.cnt[i]++
		node = in.child[i]
		h--
	}
	tr.put(tr.leaves.at(node), k)
	tr.n++
}

// growRoot makes an empty tree a single leaf and splits a full root, so a
// top-down insert always finds room.
func (tr *tree) growRoot() {
	if tr.root == nilNode {
		tr.root = tr.leaves.alloc()
		lf := tr.leaves.at(tr.root)
		lf.prev, lf.next = nilNode, nilNode
		lf.refence()
		tr.first, tr.last = tr.root, tr.root
	}
	if tr.full(tr.root, tr.height) {
		r := tr.inners.alloc()
		in := tr.inners.at(r)
		in.n = 1
		in.child[0] = tr.root
		in.cnt[0] = uint32(tr.n)
		tr.splitChild(in, 0, tr.height)
		tr.root = r
		tr.height++
	}
}

// roomFor returns the child of in (at height h) whose range holds k, first
// splitting it if it is full.
func (tr *tree) roomFor(in *innerNode, h int, k *key) int {
	return tr.room(in, h, tr.childFor(in, k), k)
}

// room is roomFor for the child i that holds k.
func (tr *tree) room(in *innerNode, h, i int, k *key) int {
	if tr.full(in.child[i], h-1) {
		tr.splitChild(in, i, h-1)
		if tr.cmpInner(k, in, i+1) >= 0 {
			i++
		}
	}
	return i
}

// put inserts k into lf, which has room.
func (tr *tree) put(lf *leafNode, k *key) { tr.putAt(lf, k, -1) }

// putAt is put with a guess at k's position (see boundAt).
func (tr *tree) putAt(lf *leafNode, k *key, p int) {
	p = tr.boundAt(lf, k, p)
	copy(lf.s[p+1:lf.n+1], lf.s[p:lf.n])
	copy(lf.t[p+1:lf.n+1], lf.t[p:lf.n])
	copy(lf.id[p+1:lf.n+1], lf.id[p:lf.n])
	lf.s[p], lf.t[p], lf.id[p] = k.s, k.t, k.id
	lf.n++
	lf.f.refence(lf.s[:lf.n], p, leafCap)
}

// splitChild splits the full child i of in (which has room) into i and i+1.
func (tr *tree) splitChild(in *innerNode, i int, ch int) {
	c := in.child[i]
	var r uint32
	var ss, st uint64
	var sid uint32
	if ch == 0 {
		r = tr.leaves.alloc()
		lf, rl := tr.leaves.at(c), tr.leaves.at(r)
		// An append at the right edge leaves the left leaf nearly full, so
		// ascending loads (snapshots, monotonic scores) pack densely. The
		// right leaf gets one key more than the minimum: move may split a
		// leaf and then take a key from either half.
		mid := lf.n / 2
		if lf.next == nilNode {
			mid = lf.n - minLeaf - 1
		}
		rl.n = lf.n - mid
		copy(rl.s[:], lf.s[mid:lf.n])
		copy(rl.t[:], lf.t[mid:lf.n])
		copy(rl.id[:], lf.id[mid:lf.n])
		lf.n = mid
		rl.prev, rl.next = c, lf.next
		if lf.next != nilNode {
			tr.leaves.at(lf.next).prev = r
		} else {
			tr.last = r
		}
		lf.next = r
		ss, st, sid = rl.s[0], rl.t[0], rl.id[0]
		tr.pin(sid)
		lf.refence()
		rl.refence()
	} else {
		r = tr.inners.alloc()
		ln, rn := tr.inners.at(c), tr.inners.at(r)
		mid := ln.n / 2
		rn.n = ln.n - mid
		copy(rn.child[:], ln.child[mid:ln.n])
		copy(rn.cnt[:], ln.cnt[mid:ln.n])
		copy(rn.s[1:], ln.s[mid+1:ln.n])
		copy(rn.t[1:], ln.t[mid+1:ln.n])
		copy(rn.id[1:], ln.id[mid+1:ln.n])
		ss, st, sid = ln.s[mid], ln.t[mid], ln.id[mid]
		ln.n = mid
		ln.refence()
		rn.refence()
	}
	copy(in.child[i+2:in.n+1], in.child[i+1:in.n])
	copy(in.cnt[i+2:in.n+1], in.cnt[i+1:in.n])
	copy(in.s[i+2:in.n+1], in.s[i+1:in.n])
	copy(in.t[i+2:in.n+1], in.t[i+1:in.n])
	copy(in.id[i+2:in.n+1], in.id[i+1:in.n])
	in.n++
	in.child[i+1] = r
	in.s[i+1], in.t[i+1], in.id[i+1] = ss, st, sid
	in.cnt[i+1] = uint32(tr.size(r, ch))
	in.cnt[i] -= in.cnt[i+1]
	in.refence()
}

// remove deletes k, which must be present. Children at minimum fill are
// topped up from a sibling on the way down, so nothing underflows upwards.
func (tr *tree) remove(k *key) {
	node, h := tr.root, tr.height
	for h > 0 {
		in := tr.inners.at(node)
		i := tr.spareFor(in, h, k)
		in.cnt[i]--
		node = in.child[i]
		h--
	}
	tr.take(tr.leaves.at(node), k)
	tr.n--
	tr.shrinkRoot()
}

// spareFor returns the child of in (at height h) whose range holds k, first
// topping it up if it is at minimum fill.
func (tr *tree) spareFor(in *innerNode, h int, k *key) int {
	return tr.spare(in, h, tr.childFor(in, k), k)
}

// spare is spareFor for the child i that holds k.
func (tr *tree) spare(in *innerNode, h, i int, k *key) int {
	lim := minInner
	if h == 1 {
		lim = minLeaf
	}
	if tr.units(in.child[i], h-1) <= lim {
		i = tr.fixChild(in, i, h-1, k)
	}
	return i
}

// take deletes the stored key k from lf.
func (tr *tree) take(lf *leafNode, k *key) { tr.takeAt(lf, k, -1) }

// takeAt is take with a guess at k's position.
func (tr *tree) takeAt(lf *leafNode, k *key, p int) {
	p = tr.position(lf, k, p)
	copy(lf.s[p:], lf.s[p+1:lf.n])
	copy(lf.t[p:], lf.t[p+1:lf.n])
	copy(lf.id[p:], lf.id[p+1:lf.n])
	lf.n--
	lf.f.refence(lf.s[:lf.n], p, leafCap)
}

// shrinkRoot drops roots with a single child.
func (tr *tree) shrinkRoot() {
	for tr.height > 0 && tr.inners.at(tr.root).n == 1 {
		old := tr.root
		tr.root = tr.inners.at(old).child[0]
		tr.height--
		tr.inners.release(old)
	}
}

// move replaces the stored key old by nw (the same entry with another
// score) in one top-down pass: where both keys route through the same
// node it is visited once, and below the node where their paths part the
// two descents advance level by level together, so the cache misses of the
// old and the new path overlap instead of queueing behind each other.
// Children are split on the new path and topped up on the old one exactly
// as insert and remove do, so no node over- or underflows.
func (tr *tree) move(old, nw *key) {
	tr.growRoot()
	a, b := tr.root, tr.root // the nodes holding old and nw at height h
	for h := tr.height; h > 0; h-- {
		if a == b {
			// Top up old's child, then make room in nw's child (a split
			// leaves both halves above the minimum, see splitChild), then
			// find old's child again: merging and splitting shift indices.
			in := tr.inners.at(a)
			tr.spareFor(in, h, old)
			ib := tr.roomFor(in, h, nw)
			ia := tr.childFor(in, old)
			in.cnt[ia]--
			in.cnt[ib]++
			a, b = in.child[ia], in.child[ib]
			continue
		}
		ina, inb := tr.inners.at(a), tr.inners.at(b)
		ia, ib := tr.childFor(ina, old), tr.childFor(inb, nw)
		ia, ib = tr.spare(ina, h, ia, old), tr.room(inb, h, ib, nw)
		ina.cnt[ia]--
		inb.cnt[ib]++
		a, b = ina.child[ia], inb.child[ib]
	}
	if a == b {
		tr.shift(tr.leaves.at(a), old, nw)
	} else {
		tr.take(tr.leaves.at(a), old)
		tr.put(tr.leaves.at(b), nw)
	}
	tr.shrinkRoot()
}

// fixChild makes child i of in hold more than the minimum by merging it
// with a sibling or moving units over, and returns the index of the child
// whose range now holds k.
func (tr *tree) fixChild(in *innerNode, i, ch int, k *key) int {
	l := i
	if i+1 == in.n {
		l = i - 1
	}
	r := l + 1
	capa := innerCap
	if ch == 0 {
		capa = leafCap
	}
	if tr.units(in.child[l], ch)+tr.units(in.child[r], ch) <= capa {
		tr.merge(in, l, ch)
		return l
	}
	tr.rebalance(in, l, ch)
	if tr.cmpInner(k, in, r) >= 0 {
		return r
	}
	return l
}

// merge moves child l+1 of in into child l and drops it.
func (tr *tree) merge(in *innerNode, l, ch int) {
	r := l + 1
	cl, cr := in.child[l], in.child[r]
	if ch == 0 {
		a, b := tr.leaves.at(cl), tr.leaves.at(cr)
		copy(a.s[a.n:], b.s[:b.n])
		copy(a.t[a.n:], b.t[:b.n])
		copy(a.id[a.n:], b.id[:b.n])
		a.n += b.n
		a.next = b.next
		if b.next != nilNode {
			tr.leaves.at(b.next).prev = cl
		} else {
			tr.last = cl
		}
		tr.leaves.release(cr)
		tr.unpin(in.id[r])
		a.refence()
	} else {
		a, b := tr.inners.at(cl), tr.inners.at(cr)
		copy(a.child[a.n:], b.child[:b.n])
		copy(a.cnt[a.n:], b.cnt[:b.n])
		a.s[a.n], a.t[a.n], a.id[a.n] = in.s[r], in.t[r], in.id[r]
		copy(a.s[a.n+1:], b.s[1:b.n])
		copy(a.t[a.n+1:], b.t[1:b.n])
		copy(a.id[a.n+1:], b.id[1:b.n])
		a.n += b.n
		tr.inners.release(cr)
		a.refence()
	}
	in.cnt[l] += in.cnt[r]
	copy(in.child[r:], in.child[r+1:in.n])
	copy(in.cnt[r:], in.cnt[r+1:in.n])
	copy(in.s[r:], in.s[r+1:in.n])
	copy(in.t[r:], in.t[r+1:in.n])
	copy(in.id[r:], in.id[r+1:in.n])
	in.n--
	in.refence()
}

// rebalance evens out the units of children l and l+1 of in.
func (tr *tree) rebalance(in *innerNode, l, ch int) {
	r := l + 1
	cl, cr := in.child[l], in.child[r]
	if ch == 0 {
		a, b := tr.leaves.at(cl), tr.leaves.at(cr)
		total := a.n + b.n
		want := total / 2
		if a.n > want {
			m := a.n - want
			copy(b.s[m:], b.s[:b.n])
			copy(b.t[m:], b.t[:b.n])
			copy(b.id[m:], b.id[:b.n])
			copy(b.s[:m], a.s[want:a.n])
			copy(b.t[:m], a.t[want:a.n])
			copy(b.id[:m], a.id[want:a.n])
		} else {
			m := want - a.n
			copy(a.s[a.n:], b.s[:m])
			copy(a.t[a.n:], b.t[:m])
			copy(a.id[a.n:], b.id[:m])
			copy(b.s[:], b.s[m:b.n])
			copy(b.t[:], b.t[m:b.n])
			copy(b.id[:], b.id[m:b.n])
		}
		a.n, b.n = want, total-want
		tr.unpin(in.id[r])
		in.s[r], in.t[r], in.id[r] = b.s[0], b.t[0], b.id[0]
		tr.pin(b.id[0])
		a.refence()
		b.refence()
	} else {
		a, b := tr.inners.at(cl), tr.inners.at(cr)
		total := a.n + b.n
		want := total / 2
		if a.n > want {
			m := a.n - want
			copy(b.child[m:], b.child[:b.n])
			copy(b.cnt[m:], b.cnt[:b.n])
			copy(b.s[m+1:], b.s[1:b.n])
			copy(b.t[m+1:], b.t[1:b.n])
			copy(b.id[m+1:], b.id[1:b.n])
			b.s[m], b.t[m], b.id[m] = in.s[r], in.t[r], in.id[r]
			copy(b.child[:m], a.child[want:a.n])
			copy(b.cnt[:m], a.cnt[want:a.n])
			copy(b.s[1:m], a.s[want+1:a.n])
			copy(b.t[1:m], a.t[want+1:a.n])
			copy(b.id[1:m], a.id[want+1:a.n])
			in.s[r], in.t[r], in.id[r] = a.s[want], a.t[want], a.id[want]
		} else {
			m := want - a.n
			copy(a.child[a.n:], b.child[:m])
			copy(a.cnt[a.n:], b.cnt[:m])
			a.s[a.n], a.t[a.n], a.id[a.n] = in.s[r], in.t[r], in.id[r]
			copy(a.s[a.n+1:], b.s[1:m])
			copy(a.t[a.n+1:], b.t[1:m])
			copy(a.id[a.n+1:], b.id[1:m])
			in.s[r], in.t[r], in.id[r] = b.s[m], b.t[m], b.id[m]
			copy(b.child[:], b.child[m:b.n])
			copy(b.cnt[:], b.cnt[m:b.n])
			copy(b.s[1:], b.s[m+1:b.n])
			copy(b.t[1:], b.t[m+1:b.n])
			copy(b.id[1:], b.id[m+1:b.n])
		}
		a.n, b.n = want, total-want
		a.refence()
		b.refence()
	}
	in.refence()
	in.cnt[l] = uint32(tr.size(cl, ch))
	in.cnt[r] = uint32(tr.size(cr, ch))
}

// countLess returns the number of keys below k: its ascending rank.
func (tr *tree) countLess(k *key) int {
	if tr.n == 0 {
		return 0
	}
	c := 0
	node, h := tr.root, tr.height
	for h > 0 {
		in := tr.inners.at(node)
		i := tr.childFor(in, k)
		node = in.child[i]
		if tr.n >= warmMin {
			tr.prefetchNode(node, h-1)
		}
		for j := 0; j < i; j++ {
			c += int(in.cnt[j])
		}
		h--
	}
	return c + tr.lowerBound(tr.leaves.at(node), k)
}

// countScore returns the number of keys whose score encoding is below s,
// or at most s when orEqual.
func (tr *tree) countScore(s uint64, orEqual bool) int {
	if tr.n == 0 {
		return 0
	}
	below := func(x uint64) bool { return x < s || orEqual && x == s }
	c := 0
	node, h := tr.root, tr.height
	for h > 0 {
		in := tr.inners.at(node)
		i := 1 + countPrefix(in.s[1:in.n], below)
		for j := 0; j < i-1; j++ {
			c += int(in.cnt[j])
		}
		node = in.child[i-1]
		h--
	}
	lf := tr.leaves.at(node)
	return c + countPrefix(lf.s[:lf.n], below)
}

// countPrefix returns the length of the prefix of xs for which below holds,
// by binary search; below must hold for a prefix of xs and fail after it.
func countPrefix(xs []uint64, below func(uint64) bool) int {
	lo, hi := 0, len(xs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if below(xs[m]) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// seek returns the leaf and position of the key with ascending rank r
// (0 <= r < n). In each node it counts children from the nearer end, so
// the top ranks (the highest keys, which Top reads) cost one step a level.
func (tr *tree) seek(r int) (uint32, int) {
	node, h, size := tr.root, tr.height, tr.n // size: keys under node
	for h > 0 {
		in := tr.inners.at(node)
		var i int
		if r < size/2 {
			for i = 0; r >= int(in.cnt[i]); i++ {
				r -= int(in.cnt[i])
			}
		} else {
			above := size - 1 - r // keys under node above rank r
			for i = in.n - 1; above >= int(in.cnt[i]); i-- {
				above -= int(in.cnt[i])
			}
			r = int(in.cnt[i]) - 1 - above
		}
		node, size = in.child[i], int(in.cnt[i])
		h--
	}
	return node, r
}

// shift replaces the stored key old by nw in lf, where both belong.
func (tr *tree) shift(lf *leafNode, old, nw *key) { tr.shiftAt(lf, old, nw, -1, -1) }

// shiftAt is shift with guesses at the positions of old and nw (see
// position and boundAt).
func (tr *tree) shiftAt(lf *leafNode, old, nw *key, p, q int) {
	p = tr.position(lf, old, p)
	// Only the neighbour on the side nw moves to can be passed, as the
	// keys around p are on either side of old; so the other, maybe in a
	// line warming did not fetch, is never read.
	c := tr.cmp(nw, old.s, old.t, old.id)
	if c == 0 || c > 0 && (p+1 == lf.n || tr.cmpLeaf(nw, lf, p+1) < 0) ||
		c < 0 && (p == 0 || tr.cmpLeaf(nw, lf, p-1) > 0) {
		lf.s[p], lf.t[p] = nw.s, nw.t // still between its neighbours
		lf.f.refence(lf.s[:lf.n], p, p)
		return
	}
	q = tr.boundAt(lf, nw, q)
	if q > p {
		q--
		copy(lf.s[p:q], lf.s[p+1:q+1])
		copy(lf.t[p:q], lf.t[p+1:q+1])
		copy(lf.id[p:q], lf.id[p+1:q+1])
	} else {
		copy(lf.s[q+1:p+1], lf.s[q:p])
		copy(lf.t[q+1:p+1], lf.t[q:p])
		copy(lf.id[q+1:p+1], lf.id[q:p])
	}
	lf.s[q], lf.t[q], lf.id[q] = nw.s, nw.t, nw.id
	lf.f.refence(lf.s[:lf.n], min(p, q), max(p, q))
}

// maxPath is the number of heights a path records. A tree never grows this
// tall: at minimum fill, height 7 already holds more than 1<<32 keys.
const maxPath = 8

// path is a guess at where a key sits, as warming found it: the node at
// each height, and in it the child (inner node) or position (leaf) that
// holds the key. Guesses are only tried, never trusted (see childAt).
type path struct {
	node [maxPath]uint32
	idx  [maxPath]uint8
}

// guessAt returns p's child or position for node at height h, or -1.
func (p *path) guessAt(h int, node uint32) int {
	if p == nil || p.node[h] != node {
		return -1
	}
	return int(p.idx[h])
}

// holds reports whether child i of in holds k: i is childFor(in, k).
func (tr *tree) holds(in *innerNode, i int, k *key) bool {
	n := min(in.n, innerCap)
	return uint(i) < uint(n) &&
		(i == 0 || tr.cmpInner(k, in, i) >= 0) &&
		(i+1 >= n || tr.cmpInner(k, in, i+1) < 0)
}

// childAt is childFor(in, k), trying the guess i first: two comparisons
// with the separators around it instead of a search.
func (tr *tree) childAt(in *innerNode, k *key, i int) int {
	if tr.holds(in, i, k) {
		return i
	}
	return tr.childFor(in, k)
}

// boundAt is lowerBound(lf, k), trying the guess p first.
func (tr *tree) boundAt(lf *leafNode, k *key, p int) int {
	n := min(lf.n, leafCap)
	if uint(p) <= uint(n) &&
		(p == 0 || tr.cmpLeaf(k, lf, p-1) > 0) &&
		(p == n || tr.cmpLeaf(k, lf, p) <= 0) {
		return p
	}
	return tr.lowerBound(lf, k)
}

// position returns the position in lf of the stored key k, trying the
// guess p first: a stored key's entry id is in the tree once, so finding it
// at p confirms the guess.
func (tr *tree) position(lf *leafNode, k *key, p int) int {
	if uint(p) < uint(min(lf.n, leafCap)) && lf.id[p] == k.id {
		return p
	}
	p = tr.lowerBound(lf, k)
	if p == lf.n || lf.id[p] != k.id && !(k.id == noID && tr.cmpLeaf(k, lf, p) == 0) {
		panic(fmt.Sprintf("leaderboard: internal error: key of entry %d not in tree", k.id))
	}
	return p
}

// prefetchNode prefetches every line of node (at height h) a search and an
// update read: for a single call on a big board (warmMin members or more;
// a smaller one stays in cache), whose nodes are not warmed, so that they
// arrive together instead of each after the one before it (the fences, then
// a block of keys, then a child).
func (tr *tree) prefetchNode(node uint32, h int) {
	if h > 0 {
		in := tr.inners.at(node)
		prefetchThrough(in, &in.cnt[innerCap-1])
		return
	}
	lf := tr.leaves.at(node)
	prefetchThrough(lf, &lf.id[leafCap-1])
}

// relocate replaces the stored key old by nw, the same entry with another
// score. ga and gb, when not nil, are guesses at the paths of old and nw
// (see warmApply); a wrong guess costs a search, never correctness.
//
// It descends once, along both keys' paths together (one node while they
// share it), then moves the key between leaves and fixes the counts from
// the leaves up to the node where the paths meet. Only when the old leaf
// is at minimum fill or the new one full does it hand over to move, which
// splits and merges on the way down; with leaves half to fully filled
// that is rare.
func (tr *tree) relocate(old, nw *key, ga, gb *path) {
	if tr.height >= maxPath {
		tr.move(old, nw)
		return
	}
	var ina, inb [maxPath]*innerNode
	var ia, ib [maxPath]int
	a, b := tr.root, tr.root
	for h := tr.height; h > 0; h-- {
		in := tr.inners.at(a)
		i := tr.childAt(in, old, ga.guessAt(h, a))
		ina[h], ia[h] = in, i
		if a == b {
			inb[h], ib[h] = in, i
			if !tr.holds(in, i, nw) {
				ib[h] = tr.childAt(in, nw, gb.guessAt(h, b))
			}
		} else {
			in := tr.inners.at(b)
			inb[h], ib[h] = in, tr.childAt(in, nw, gb.guessAt(h, b))
		}
		a, b = ina[h].child[ia[h]], inb[h].child[ib[h]]
		if ga == nil && tr.n >= warmMin {
			tr.prefetchNode(a, h-1)
			if b != a {
				tr.prefetchNode(b, h-1)
			}
		}
	}
	la := tr.leaves.at(a)
	if a == b {
		tr.shiftAt(la, old, nw, ga.guessAt(0, a), gb.guessAt(0, b))
		return
	}
	lb := tr.leaves.at(b)
	if la.n <= minLeaf || lb.n >= leafCap {
		tr.move(old, nw)
		return
	}
	tr.takeAt(la, old, ga.guessAt(0, a))
	tr.putAt(lb, nw, gb.guessAt(0, b))
	for h := 1; h <= tr.height; h++ {
		ina[h].cnt[ia[h]]--
		inb[h].cnt[ib[h]]++
		if ina[h] == inb[h] {
			break
		}
	}
}
