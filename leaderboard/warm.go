package leaderboard

// batchGroup is how many updates of a batch warm the cache together (see
// warmApply): each stage issues the cache-line fetches of a whole group at
// once, so they overlap. 8 measured alike, 32 worse.
const batchGroup = 16

// warmMin is the board size, in members, below which batches skip
// warming: about 6 MiB of index, entries and tree, which stays mostly in
// cache. A variable so tests can warm small boards too.
var warmMin = 1 << 16

// flight is one group of a batch being warmed: its updates, and what the
// stages have found so far.
type flight struct {
	g     []Entry
	hs    [batchGroup]uint32
	ents  [batchGroup]*entry
	nl    int
	lanes [2 * batchGroup]lane
}

// lane is one key of a flight to follow down the tree: a member's current
// key or its new one (scores only: warming never compares members, see
// warmChild), and the node reached so far.
type lane struct {
	s      uint64
	node   uint32 // nilNode: none (an empty tree, or a child id out of range)
	h      int8   // height of node
	c      uint8  // the child of node picked by pickChild
	paired bool   // a member's current key; the next lane is its new one
}

// warmApply applies es one by one, in order, with apply(i, hash of
// es[i].Member), and on a big board first warms the cache for each group
// of batchGroup updates, in stages; each stage issues prefetches for the
// whole group and reads only what the stage before it fetched:
//
//	stage 0   hash the members; prefetch their index slots
//	stage 1   probe the index; prefetch the entries found
//	stage 2   read the entries: prefetch the member bytes; descend with
//	          the current and the new key to the lowest inner node and
//	          prefetch its scores (the levels above are few nodes, which
//	          stay in cache: 300 at 25M members)
//	stage 3   pick the child by the scores; prefetch its entries in child
//	          and cnt
//	stage 4   read the child: prefetch the leaf's scores, as many as the
//	          parent counts
//	stage 5   search the leaf; prefetch the tie and id lines the update
//	          will read or shift
//
// So the group's misses at each stage are independent and overlap, where
// one update alone waits for each of its misses in turn; prefetches (not
// loads) let a stage issue all of them without stalling, and fetch only
// the lines the update will use. Applying then goes through the very code
// Add and Incr run, so results are those of the single calls by
// construction; the stages only guess what the updates will touch (a
// member twice in a group, a tie between scores), so a wrong guess costs
// a miss, never correctness. Overlapping the stages of the next groups
// with the applying of this one (a software pipeline) measured no better
// at 25M members: the apply's own misses then compete with the
// prefetches.
//
// incr says the Scores of es are increments. apply's error stops and is
// returned.
func (b *Board) warmApply(es []Entry, incr bool, apply func(i int, h uint32) error) error {
	warm := b.ms.count >= warmMin
	var f flight
	for lo := 0; lo < len(es); lo += batchGroup {
		f.g = es[lo:min(lo+batchGroup, len(es))]
		if warm {
			b.ms.prefetchSlots(&f)
			b.ms.probe(&f)
			b.lanes(&f, incr)
			b.tr.pickChild(&f)
			b.tr.step(&f)
			b.tr.leafLines(&f)
		} else {
			for i, e := range f.g {
				f.hs[i] = hashOf(e.Member)
			}
		}
		for i := range f.g {
			if err := apply(lo+i, f.hs[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// prefetchSlots hashes the members of f and prefetches their home slots.
func (ms *members) prefetchSlots(f *flight) {
	mask := uint64(len(ms.table) - 1)
	for i, e := range f.g {
		h := hashOf(e.Member)
		f.hs[i] = h
		prefetchSpan(&ms.table[uint64(h)&mask], 1)
	}
}

// probe finds the entries of f's members in the index (the first slot with
// a matching 32-bit tag is almost always the member) and prefetches them.
func (ms *members) probe(f *flight) {
	mask := uint64(len(ms.table) - 1)
	for i := range f.g {
		h := f.hs[i]
		f.ents[i] = nil
		for j := uint64(h) & mask; ms.table[j] != 0; j = (j + 1) & mask {
			if sl := ms.table[j]; uint32(sl>>32) == h {
				f.ents[i] = ms.ents.at(uint32(sl) - 1)
				prefetchSpan(f.ents[i], 1)
				break
			}
		}
	}
}

// lanes reads f's entries, prefetches their member bytes, and starts a
// lane for each key an update will look for, the member's current key and
// its new one: it descends to the lowest inner node (or the root leaf)
// and prefetches that node's scores.
func (b *Board) lanes(f *flight, incr bool) {
	ms, tr := &b.ms, &b.tr
	f.nl = 0
	for i, e := range f.g {
		score := e.Score
		if ent := f.ents[i]; ent != nil {
			if k := int(ent.off >> chunkBits); ent.n != freeMark && k < len(ms.chunks) {
				c := ms.chunks[k]
				if p := int(ent.off & (chunkSize - 1)); p < len(c) {
					prefetchSpan(&c[p], min(int(ent.n), len(c)-p, 256))
				}
			}
			f.lanes[f.nl] = lane{s: ent.s, paired: true}
			f.nl++
			if incr {
				score += decode(ent.s)
			}
		}
		f.lanes[f.nl] = lane{s: encode(score)}
		f.nl++
	}
	for j := range f.lanes[:f.nl] {
		ln := &f.lanes[j]
		ln.node, ln.h = tr.root, int8(tr.height)
		if ln.node == nilNode {
			continue
		}
		for ln.h > 1 {
			in := tr.inners.at(ln.node)
			ln.node, ln.h = in.child[warmChild(in, ln.s)], ln.h-1
		}
		tr.prefetchNode(ln.node, ln.h, innerCap)
	}
}

// prefetchNode prefetches the head of node (at height h) and the first n
// of its scores: what a search of it reads.
func (tr *tree) prefetchNode(node uint32, h int8, n int) {
	n = min(max(n, 1), innerCap, leafCap)
	if h > 0 {
		in := tr.inners.at(node)
		prefetchThrough(in, &in.s[n-1])
		return
	}
	lf := tr.leaves.at(node)
	prefetchThrough(lf, &lf.s[n-1])
}

// pickChild picks, for every lane of f at an inner node, the child by score,
// and prefetches that child's entries in child and cnt (the update reads
// one and changes the other).
func (tr *tree) pickChild(f *flight) {
	for j := range f.lanes[:f.nl] {
		ln := &f.lanes[j]
		if ln.node == nilNode || ln.h == 0 {
			continue
		}
		in := tr.inners.at(ln.node)
		c := warmChild(in, ln.s)
		ln.c = uint8(c)
		prefetchSpan(&in.child[c], 1)
		prefetchSpan(&in.cnt[c], 1)
	}
}

// step moves every lane of f that is at an inner node to the child its
// search picked, and prefetches that child's scores: for a leaf only the
// ones it holds, which its parent's count gives.
func (tr *tree) step(f *flight) {
	for j := range f.lanes[:f.nl] {
		ln := &f.lanes[j]
		if ln.node == nilNode || ln.h == 0 {
			continue
		}
		in := tr.inners.at(ln.node)
		ln.node, ln.h = in.child[ln.c], ln.h-1
		if ln.h > 0 && ln.node >= tr.inners.n || ln.h == 0 && ln.node >= tr.leaves.n {
			ln.node = nilNode // defensive: stages must never index out of range
			continue
		}
		n := innerCap
		if ln.h == 0 {
			n = int(in.cnt[ln.c])
		}
		tr.prefetchNode(ln.node, ln.h, n)
	}
}

// warmChild is childFor by score alone, for warming: it never reads an
// entry or member bytes, which a stage has not fetched. Among equal scores
// it may pick a neighbouring child.
func warmChild(in *innerNode, s uint64) int {
	n := min(max(in.n, 1), innerCap)
	if s == ^uint64(0) {
		return n - 1
	}
	return searchGE(in.s[1:n], s+1)
}

// leafLines prefetches, for every lane of f at a leaf, the tie and id
// lines at the key's position (by score) and, unless the update stays in
// this leaf (a member's current and new key in the same leaf), those from
// there to the end, which inserting or removing a key shifts.
func (tr *tree) leafLines(f *flight) {
	for j := range f.lanes[:f.nl] {
		ln := &f.lanes[j]
		if ln.node == nilNode || ln.h != 0 {
			continue
		}
		lf := tr.leaves.at(ln.node)
		n := min(lf.n, leafCap)
		p := min(searchGE(lf.s[:n], ln.s), leafCap-1)
		m := 1
		same := ln.paired && ln.node == f.lanes[j+1].node ||
			j > 0 && f.lanes[j-1].paired && f.lanes[j-1].node == ln.node
		if !same {
			m = max(1, n-p)
		}
		prefetchSpan(&lf.t[p], m)
		prefetchSpan(&lf.id[p], m)
	}
}
