package leaderboard

// batchGroup is how many updates of a batch warm the cache together (see
// warmApply): each stage issues the cache-line fetches of a whole group at
// once, so they overlap. At 25M members 32 measured 1.1-1.2x cheaper per
// random-score update than 16, 64 alike within the noise.
const batchGroup = 32

// warmMin is the board size, in members, below which batches skip
// warming: about 6 MiB of index, entries and tree, which stays mostly in
// cache. A variable so tests can warm small boards too.
var warmMin = 1 << 16

// flight is one group of a batch being warmed: its updates, and what the
// stages have found so far.
type flight struct {
	g     []Entry
	hs    [batchGroup]uint32
	ids   [batchGroup]uint32 // the entry the index probe found, or noID
	ents  [batchGroup]*entry
	first [batchGroup]uint8 // each update's first lane
	nl    int
	lanes [2 * batchGroup]lane
	cur   guess // the guess of the update being applied
}

// lane is one key of a flight to follow down the tree: a member's current
// key or its new one (scores only: warming never compares members, see
// warmChildAll), the node reached so far, and the path to it, which
// applying the update tries first (see tree.relocate).
type lane struct {
	s      uint64
	node   uint32 // nilNode: none (an empty tree, or a child id out of range)
	h      int8   // height of node
	blk    uint8  // the first position of the block of node holding s
	paired bool   // a member's current key; the next lane is its new one
	path   path   // the nodes passed and the children picked (by score)
}

// noPath is a path that guesses nothing.
var noPath = func() (p path) {
	for h := range p.node {
		p.node[h] = nilNode
	}
	return p
}()

// guess is what warming found for one update of a batch: the member's
// entry and the paths of its current and its new key, or nothing.
type guess struct {
	id      uint32 // noID: the probe found no entry
	old, nw *path
}

// guessFor returns what f's warming found for its update i.
func (f *flight) guessFor(i int) guess {
	j := int(f.first[i])
	g := guess{id: f.ids[i]}
	if f.lanes[j].paired {
		g.old = &f.lanes[j].path
		j++
	}
	g.nw = &f.lanes[j].path
	return g
}

// warmApply applies es one by one, in order, with apply(i, hash of
// es[i].Member, guess), and on a big board first warms the cache for each
// group of batchGroup updates, in stages; each stage issues prefetches for
// the whole group and reads only what the stages before it fetched:
//
//	slots     hash the members; prefetch their index slots
//	probe     probe the index; prefetch the entries found
//	lanes     read the entries: prefetch the member bytes; follow the
//	          current and the new key down the levels above the lowest
//	          inner one (few nodes, in cache: 230 at 25M members), a level
//	          a pass, prefetching the next level's nodes; prefetch the
//	          first line (size and fences) of each lowest inner node
//	pickBlock pick the block of separators by the fences; prefetch it and
//	          the child and cnt entries it can pick
//	step      pick the child in the block; prefetch the leaf's first line
//	leafLines pick the block of keys by the leaf's fences; prefetch the
//	          lines of s, t and id the update reads or shifts
//
// So the group's misses at each stage are independent and overlap, where
// one update alone waits for each of its misses in turn; prefetches (not
// loads) let a stage issue all of them without stalling, and the fences
// let it fetch only the lines the update will use: on a big board the
// cost is how many lines are fetched, more than how many instructions run
// (fetching every node's scores instead cost 1.3x). Applying then goes
// through the very code Add and Incr run, given the nodes and children
// the stages found as guesses (see tree.relocate), which it confirms with
// two comparisons each instead of searching again; so results are those
// of the single calls by construction, and a wrong guess (a member twice
// in a group, a tie between scores) costs a search or a miss, never
// correctness. Overlapping the stages of the next group with the applying
// of this one (a software pipeline) measured no better.
//
// incr says the Scores of es are increments. apply's error stops and is
// returned.
func (b *Board) warmApply(es []Entry, incr bool, apply func(i int, h uint32, g *guess) error) error {
	warm := b.ms.count >= warmMin
	if b.fl == nil {
		b.fl = new(flight) // kept: the guesses handed to apply point into it
	}
	f := b.fl
	for lo := 0; lo < len(es); lo += batchGroup {
		f.g = es[lo:min(lo+batchGroup, len(es))]
		if warm {
			b.warm(f, incr)
		} else {
			for i, e := range f.g {
				f.hs[i] = hashOf(e.Member)
			}
		}
		for i := range f.g {
			var g *guess
			if warm {
				f.cur = f.guessFor(i)
				g = &f.cur
			}
			if err := apply(lo+i, f.hs[i], g); err != nil {
				return err
			}
		}
	}
	return nil
}

// warm runs the stages of warmApply for the group f.g.
func (b *Board) warm(f *flight, incr bool) {
	b.ms.prefetchSlots(f)
	b.ms.probe(f)
	b.lanes(f, incr)
	b.tr.pickBlock(f)
	b.tr.step(f)
	b.tr.leafLines(f)
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
		f.ents[i], f.ids[i] = nil, noID
		for j := uint64(h) & mask; ms.table[j] != 0; j = (j + 1) & mask {
			if sl := ms.table[j]; uint32(sl>>32) == h {
				f.ids[i] = uint32(sl) - 1
				f.ents[i] = ms.ents.at(f.ids[i])
				prefetchSpan(f.ents[i], 1)
				break
			}
		}
	}
}

// lanes reads f's entries, prefetches their member bytes, and starts a
// lane for each key an update will look for, the member's current key and
// its new one: it descends to the lowest inner node (or the root leaf)
// and prefetches that node's first line, its size and fences.
func (b *Board) lanes(f *flight, incr bool) {
	ms, tr := &b.ms, &b.tr
	f.nl = 0
	for i, e := range f.g {
		score := e.Score
		f.first[i] = uint8(f.nl)
		if ent := f.ents[i]; ent != nil {
			if k := int(ent.off >> chunkBits); ent.n != freeMark && k < len(ms.chunks) {
				c := ms.chunks[k]
				if p := int(ent.off & (chunkSize - 1)); p < len(c) {
					prefetchSpan(&c[p], min(int(ent.n), len(c)-p, 256))
				}
			}
			f.lanes[f.nl] = lane{s: ent.s, paired: true, path: noPath}
			f.nl++
			if incr {
				score += decode(ent.s)
			}
		}
		f.lanes[f.nl] = lane{s: encode(score), path: noPath}
		f.nl++
	}
	for j := range f.lanes[:f.nl] {
		ln := &f.lanes[j]
		ln.node, ln.h = tr.root, int8(tr.height)
	}
	// Descend the levels above the lowest inner one a level at a time, all
	// lanes together, prefetching each node a level below before any is
	// read. Those few nodes are in cache, if maybe not the nearest one
	// (at 25M members, 226 nodes at height 2): searchGE reads the lines it
	// needs at once, where the fences would be a line and then a line
	// depending on it.
	for h := tr.height; h > 1 && h < maxPath; h-- {
		for j := range f.lanes[:f.nl] {
			ln := &f.lanes[j]
			if ln.node == nilNode {
				continue
			}
			in := tr.inners.at(ln.node)
			c := f.pairChild(j, h, in, ln.s)
			ln.path.node[h], ln.path.idx[h] = ln.node, uint8(c)
			ln.node, ln.h = in.child[c], int8(h-1)
			if f.sameAsPrev(j) {
				continue
			}
			if h > 2 {
				ch := tr.inners.at(ln.node)
				prefetchThrough(ch, &ch.child[innerCap-1])
			}
		}
	}
	for j := range f.lanes[:f.nl] {
		if ln := &f.lanes[j]; ln.node != nilNode && !f.sameAsPrev(j) {
			tr.prefetchHead(ln.node, ln.h)
		}
	}
}

// pairChild is warmChildAll(in, s) for lane j of f at height h, first
// trying the child the lane before took when that is the same member's
// current key at the same node: after a small change the new key mostly
// stays in the same child, which two comparisons confirm.
func (f *flight) pairChild(j, h int, in *innerNode, s uint64) int {
	if j > 0 {
		if p := &f.lanes[j-1]; p.paired && p.path.node[h] == f.lanes[j].node {
			c := int(p.path.idx[h])
			n := min(max(in.n, 1), innerCap)
			if c < n && (c == 0 || in.s[c] <= s) && (c+1 >= n || s < in.s[c+1]) {
				return c
			}
		}
	}
	return warmChildAll(in, s)
}

// sameAsPrev reports whether lane j of f is at the node and block the lane
// before it is at: a member's current and new key usually are, after a
// small change, and their lines are then prefetched once.
func (f *flight) sameAsPrev(j int) bool {
	if j == 0 {
		return false
	}
	a, b := &f.lanes[j-1], &f.lanes[j]
	return a.node == b.node && a.h == b.h && a.blk == b.blk
}

// prefetchHead prefetches the first cache line of node (at height h): its
// size and fences.
func (tr *tree) prefetchHead(node uint32, h int8) {
	if h > 0 {
		in := tr.inners.at(node)
		prefetchThrough(in, &in.f[len(in.f)-1])
		return
	}
	lf := tr.leaves.at(node)
	prefetchThrough(lf, &lf.f[len(lf.f)-1])
}

// pickBlock finds, for every lane of f at an inner node, the block of
// separators holding its key by the node's fences, and prefetches that
// block and the entries of child and cnt it can pick (the update reads one
// child and changes one count).
func (tr *tree) pickBlock(f *flight) {
	for j := range f.lanes[:f.nl] {
		ln := &f.lanes[j]
		if ln.node == nilNode || ln.h == 0 {
			continue
		}
		in := tr.inners.at(ln.node)
		lo := warmBlock(&in.f, ln.s)
		ln.blk = uint8(lo)
		if f.sameAsPrev(j) {
			continue
		}
		hi := min(lo+searchBlock, innerCap-1)
		prefetchThrough(&in.s[lo], &in.s[hi])
		prefetchThrough(&in.child[lo], &in.child[hi])
		prefetchThrough(&in.cnt[lo], &in.cnt[hi])
	}
}

// step moves every lane of f that is at an inner node to the child its
// score picks within the block pickBlock found, and prefetches that
// child's first line.
func (tr *tree) step(f *flight) {
	for j := range f.lanes[:f.nl] {
		ln := &f.lanes[j]
		if ln.node == nilNode || ln.h == 0 {
			continue
		}
		if int(ln.h) >= maxPath {
			ln.node = nilNode
			continue
		}
		in := tr.inners.at(ln.node)
		c := warmChildIn(in, int(ln.blk), ln.s)
		ln.path.node[ln.h], ln.path.idx[ln.h] = ln.node, uint8(c)
		ln.node, ln.h = in.child[c], ln.h-1
		if ln.h > 0 && ln.node >= tr.inners.n || ln.h == 0 && ln.node >= tr.leaves.n {
			ln.node = nilNode // defensive: stages must never index out of range
			continue
		}
		ln.blk = 0 // leafLines picks the leaf's block
		if !f.sameAsPrev(j) {
			tr.prefetchHead(ln.node, ln.h)
		}
	}
}

// warmChildAll is childFor by score alone, for warming: it never reads an
// entry or member bytes, which a stage has not fetched. Among equal scores
// it may pick a neighbouring child.
func warmChildAll(in *innerNode, s uint64) int {
	n := min(max(in.n, 1), innerCap)
	if s == ^uint64(0) {
		return n - 1
	}
	return searchGE(in.s[1:n], s+1)
}

// warmBlock is the first position of the block of fences f holding the
// score s: where warmChildAll's count of separators up to s lies.
func warmBlock(f *fences, s uint64) int {
	if s == ^uint64(0) {
		return fenceBlock(f, s)
	}
	return fenceBlock(f, s+1)
}

// warmChildIn is warmChildAll given its block lo (see warmBlock): it reads
// only that block of separators.
func warmChildIn(in *innerNode, lo int, s uint64) int {
	n := min(max(in.n, 1), innerCap)
	xs := in.s[1:n]
	lo = min(lo, len(xs))
	c := lo
	for _, x := range xs[lo:min(lo+searchBlock, len(xs))] {
		c += b2i(x <= s)
	}
	return c
}

// leafLines prefetches, for every lane of f at a leaf, the lines of s, t
// and id the update will read or shift, by the block the leaf's fences put
// the key in: when a member's current and new key are in the same leaf
// (the update stays there), the blocks from one key to the other; else,
// as a key is taken out or put in, those from the key's block to the end.
func (tr *tree) leafLines(f *flight) {
	for j := range f.lanes[:f.nl] {
		ln := &f.lanes[j]
		if ln.node == nilNode || ln.h != 0 {
			continue
		}
		ln.blk = uint8(fenceBlock(&tr.leaves.at(ln.node).f, ln.s))
	}
	for j := range f.lanes[:f.nl] {
		ln := &f.lanes[j]
		if ln.node == nilNode || ln.h != 0 {
			continue
		}
		lf := tr.leaves.at(ln.node)
		n := min(lf.n, leafCap)
		lo, hi := int(ln.blk), n+1
		switch {
		case ln.paired && j+1 < f.nl && f.lanes[j+1].node == ln.node && f.lanes[j+1].h == 0:
			o := int(f.lanes[j+1].blk)
			lo, hi = min(lo, o), max(lo, o)+searchBlock
		case j > 0 && f.lanes[j-1].paired && f.lanes[j-1].node == ln.node && f.lanes[j-1].h == 0:
			continue // its pair's lines
		}
		hi = min(hi, leafCap) // a put writes position n too
		lo = min(lo, hi-1)
		if lo < 0 {
			continue
		}
		hi--
		prefetchThrough(&lf.s[lo], &lf.s[hi])
		prefetchThrough(&lf.t[lo], &lf.t[hi])
		prefetchThrough(&lf.id[lo], &lf.id[hi])
	}
}
