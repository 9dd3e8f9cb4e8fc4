package leaderboard

import (
	"fmt"
	"math"
)

// batchGroup is how many updates of a batch warm the cache together (see
// warm): enough independent misses to keep the memory system busy, few
// enough that what they fetch (a few KiB each) stays in L2 until applied.
const batchGroup = 16

// warmMin is the board size, in members, below which batches skip warm:
// about 6 MiB of index, entries and tree, which stays mostly in cache. A
// variable so tests can warm small boards too.
var warmMin = 1 << 16

// AddBatch applies Add(e.Member, e.Score, flags...) for every entry, in
// order (Entry.Rank is ignored), in one hold of the write lock, so readers
// see all of the batch or none of it, and returns the number of true
// replies Add would have given (additions, and with CH also score
// changes). The result is exactly that of calling Add for each entry in
// turn, a member named twice included, but on a big board (over a million
// members) each update costs about half as much: the cache misses of
// neighbouring updates are fetched together instead of one after another.
//
// Errors: ErrInvalidFlags, or ErrNaN / ErrMemberTooLong for any entry,
// change nothing. ErrFull (the board ran out of member ids or bytes)
// stops the batch at the entry that did not fit: the entries before it
// stay applied and are counted in changed.
//
// Cost: O(len(entries) * log n) under one exclusive lock, so readers wait
// for the whole batch; keep batches to hundreds or thousands of entries
// when reads must stay responsive. No allocations.
func (b *Board) AddBatch(entries []Entry, flags ...AddFlag) (changed int, err error) {
	fs, err := parseFlags(flags)
	if err != nil {
		return 0, err
	}
	for i, e := range entries {
		if math.IsNaN(e.Score) {
			return 0, fmt.Errorf("%w: entry %d: add %q", ErrNaN, i, e.Member)
		}
		if err := checkLen(i, e.Member); err != nil {
			return 0, err
		}
	}
	var hs [batchGroup]uint32
	b.mu.Lock()
	defer b.mu.Unlock()
	for lo := 0; lo < len(entries); lo += batchGroup {
		g := entries[lo:min(lo+batchGroup, len(entries))]
		b.warm(g, &hs, false)
		for i, e := range g {
			c, err := b.add(e.Member, hs[i], e.Score, fs)
			if err != nil {
				return changed, fmt.Errorf("entry %d: %w", lo+i, err)
			}
			if c {
				changed++
			}
		}
	}
	return changed, nil
}

// IncrBatch applies Incr(d.Member, d.Score) for every entry of deltas, in
// order — each entry's Score is the increment; Rank is ignored — in one
// hold of the write lock, and appends each resulting score to
// dst, in the order of deltas. The result is exactly that of calling Incr
// for each entry in turn, a member named twice included, at the batch cost
// described at AddBatch.
//
// Errors: a NaN delta, a delta whose result would be NaN (+Inf plus -Inf,
// counting earlier entries of the batch) or ErrMemberTooLong change
// nothing and return dst as given. ErrFull stops the batch at the entry
// that did not fit: the entries before it stay applied and their scores
// are appended.
//
// Cost: O(len(deltas) * log n) under one exclusive lock (see AddBatch). No
// allocations beyond growing dst, except that a batch holding an infinite
// delta first checks the whole batch for NaN results with a map.
func (b *Board) IncrBatch(deltas []Entry, dst []float64) ([]float64, error) {
	inf := false
	for i, d := range deltas {
		if math.IsNaN(d.Score) {
			return dst, fmt.Errorf("%w: entry %d: increment of %q", ErrNaN, i, d.Member)
		}
		if err := checkLen(i, d.Member); err != nil {
			return dst, err
		}
		inf = inf || math.IsInf(d.Score, 0)
	}
	var hs [batchGroup]uint32
	b.mu.Lock()
	defer b.mu.Unlock()
	if inf {
		if err := b.checkIncrs(deltas); err != nil {
			return dst, err
		}
	}
	for lo := 0; lo < len(deltas); lo += batchGroup {
		g := deltas[lo:min(lo+batchGroup, len(deltas))]
		b.warm(g, &hs, true)
		for i, d := range g {
			s, err := b.incr(d.Member, hs[i], d.Score)
			if err != nil {
				return dst, fmt.Errorf("entry %d: %w", lo+i, err)
			}
			dst = append(dst, s)
		}
	}
	return dst, nil
}

func checkLen(i int, member string) error {
	if len(member) > MaxMemberLen {
		return fmt.Errorf("%w: entry %d: %d bytes", ErrMemberTooLong, i, len(member))
	}
	return nil
}

// checkIncrs returns ErrNaN when applying deltas in order would produce a
// NaN score anywhere. Only an infinite delta can produce one (a finite
// delta added to any non-NaN score is not NaN), so IncrBatch calls it only
// then; an absent member counts as 0, as Incr adds it with the delta.
func (b *Board) checkIncrs(deltas []Entry) error {
	scores := make(map[string]float64, len(deltas))
	for i, d := range deltas {
		cur, ok := scores[d.Member]
		if !ok {
			if id, found := b.ms.find(d.Member); found {
				cur = decode(b.ms.ents.at(id).s)
			}
		}
		s := cur + d.Score
		if math.IsNaN(s) {
			return fmt.Errorf("%w: entry %d: %q: %v + %v", ErrNaN, i, d.Member, cur, d.Score)
		}
		scores[d.Member] = s
	}
	return nil
}

// warm stores the hash of each member of g in hs and loads, for every
// update of g, what applying it will read: the index slot, the entry, the
// member bytes, and the tree nodes on the paths of the member's current
// key and of its new one. It works pass by pass and, in the tree, level by
// level, so the loads of one pass are independent of each other and their
// cache misses overlap, where applying the updates one at a time waits for
// each miss in turn. incr says the Scores of g are increments.
//
// warm changes nothing. Its loads only warm the cache, so a stale guess
// (a member updated twice in one group, a new key's tie) costs time, never
// correctness; what they read is summed into b.sink so the compiler cannot
// drop them.
func (b *Board) warm(g []Entry, hs *[batchGroup]uint32, incr bool) {
	ms, tr := &b.ms, &b.tr
	for i, e := range g {
		hs[i] = hashOf(e.Member)
	}
	if ms.count < warmMin {
		return // the board fits in cache: warming would only add work
	}
	var sink uint64
	mask := uint64(len(ms.table) - 1)
	for i := range g {
		sink += ms.table[uint64(hs[i])&mask]
	}
	// Entries: the first slot with a matching tag is almost always the
	// member (tags are 32 bits).
	var ents [batchGroup]*entry
	for i := range g {
		h := hs[i]
		for j := uint64(h) & mask; ms.table[j] != 0; j = (j + 1) & mask {
			if sl := ms.table[j]; uint32(sl>>32) == h {
				ents[i] = ms.ents.at(uint32(sl) - 1)
				sink += ents[i].s
				break
			}
		}
	}
	// Member bytes, and the keys to look for in the tree: the current one
	// and the new one (its tie guessed for arrival order, where it is the
	// next sequence number, below every stored tie of its score).
	var keys [2 * batchGroup]key
	var paired [2 * batchGroup]bool // keys[j] is a current key, keys[j+1] its new one
	nk := 0
	for i, e := range g {
		score := e.Score
		if ent := ents[i]; ent != nil {
			if ent.n > 0 {
				sink += uint64(ms.bytes(ent)[0])
			}
			keys[nk] = key{s: ent.s, t: ent.t, id: noID, m: e.Member}
			paired[nk] = true
			nk++
			if incr {
				score += decode(ent.s)
			}
		}
		t := uint64(0)
		if tr.byMember {
			t = memberKey(e.Member)
		}
		keys[nk] = key{s: encode(score), t: t, id: noID, m: e.Member}
		nk++
	}
	b.sink += sink + tr.warmPaths(keys[:nk], paired[:nk])
}

// warmPaths descends to the leaf of every key of ks level by level: at
// each level it first touches every cache line of each node's separator
// scores, all nodes at once, then searches them and touches the chosen
// child and count; at the leaves it touches what applying the update
// reads: the scores, the key's tie and id, and, unless the update stays
// in its leaf (paired marks a member's current key, followed by its new
// one), the ties and ids from the key's position on, which an insertion or
// removal there shifts. It returns a sum of what it read.
func (tr *tree) warmPaths(ks []key, paired []bool) uint64 {
	if tr.root == nilNode {
		return 0
	}
	var sink uint64
	var nodes [2 * batchGroup]uint32
	for j := range ks {
		nodes[j] = tr.root
	}
	for h := tr.height; h > 0; h-- {
		for j := range ks {
			in := tr.inners.at(nodes[j])
			for i := 0; i < innerCap; i += searchBlock {
				sink += in.s[i]
			}
			sink += in.s[innerCap-1]
		}
		for j := range ks {
			in := tr.inners.at(nodes[j])
			c := tr.childFor(in, &ks[j])
			sink += uint64(in.cnt[c])
			nodes[j] = in.child[c]
		}
	}
	for j := range ks {
		lf := tr.leaves.at(nodes[j])
		for i := 0; i < leafCap; i += searchBlock {
			sink += lf.s[i]
		}
		sink += lf.s[leafCap-1]
	}
	for j := range ks {
		lf := tr.leaves.at(nodes[j])
		p := min(tr.lowerBound(lf, &ks[j]), leafCap-1)
		sink += lf.t[p] + uint64(lf.id[p]) // p == n: touch the line anyway
		if paired[j] && nodes[j] == nodes[j+1] || j > 0 && paired[j-1] && nodes[j-1] == nodes[j] {
			continue // the update stays in this leaf: shift rewrites it in place
		}
		for i := p; i < lf.n; i += searchBlock {
			sink += lf.t[i] + uint64(lf.id[i])
		}
		if lf.n > 0 {
			sink += lf.t[lf.n-1] + uint64(lf.id[lf.n-1])
		}
	}
	return sink
}
