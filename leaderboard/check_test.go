package leaderboard

import "fmt"

// check verifies the board's structural invariants: key order across the
// whole tree, subtree counts, separator bounds, minimum fill, leaf links,
// index agreement and separator pins. It is O(n) and used by tests only.
func (b *Board) check() error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	tr := &b.tr
	if tr.n != b.ms.count {
		return fmt.Errorf("tree has %d keys, index %d", tr.n, b.ms.count)
	}
	if tr.root == nilNode {
		return nil
	}
	pins := map[uint32]int32{}
	var leaves []uint32
	var walk func(node uint32, h int, lo, hi *key, isRoot bool) (int, error)
	walk = func(node uint32, h int, lo, hi *key, isRoot bool) (int, error) {
		if h == 0 {
			lf := tr.leaves.at(node)
			if !isRoot && lf.n < minLeaf {
				return 0, fmt.Errorf("leaf %d underfull: %d", node, lf.n)
			}
			leaves = append(leaves, node)
			if want := fencesOf(lf.s[:lf.n]); lf.f != want {
				return 0, fmt.Errorf("leaf %d fences %v, want %v", node, lf.f, want)
			}
			for i := 0; i < lf.n; i++ {
				k := b.keyOf(lf.id[i])
				if k.s != lf.s[i] || k.t != lf.t[i] {
					return 0, fmt.Errorf("leaf key %d disagrees with its entry", lf.id[i])
				}
				if lo != nil && tr.cmp(&k, lo.s, lo.t, lo.id) < 0 {
					return 0, fmt.Errorf("key %d below separator", lf.id[i])
				}
				if hi != nil && tr.cmp(&k, hi.s, hi.t, hi.id) >= 0 {
					return 0, fmt.Errorf("key %d at or above separator", lf.id[i])
				}
				if i > 0 && tr.cmp(&k, lf.s[i-1], lf.t[i-1], lf.id[i-1]) <= 0 {
					return 0, fmt.Errorf("leaf %d out of order at %d", node, i)
				}
			}
			return lf.n, nil
		}
		in := tr.inners.at(node)
		if !isRoot && in.n < minInner || isRoot && in.n < 2 {
			return 0, fmt.Errorf("inner %d underfull: %d", node, in.n)
		}
		if want := fencesOf(in.s[1:in.n]); in.f != want {
			return 0, fmt.Errorf("inner %d fences %v, want %v", node, in.f, want)
		}
		total := 0
		for i := 0; i < in.n; i++ {
			clo, chi := lo, hi
			if i > 0 {
				pins[in.id[i]]++
				clo = b.sepKey(in, i)
			}
			if i+1 < in.n {
				chi = b.sepKey(in, i+1)
			}
			c, err := walk(in.child[i], h-1, clo, chi, false)
			if err != nil {
				return 0, err
			}
			if c != int(in.cnt[i]) {
				return 0, fmt.Errorf("inner %d child %d count %d, has %d", node, i, in.cnt[i], c)
			}
			total += c
		}
		return total, nil
	}
	n, err := walk(tr.root, tr.height, nil, nil, true)
	if err != nil {
		return err
	}
	if n != tr.n {
		return fmt.Errorf("tree holds %d keys, n = %d", n, tr.n)
	}
	if tr.first != leaves[0] || tr.last != leaves[len(leaves)-1] {
		return fmt.Errorf("first/last leaf wrong")
	}
	for i, l := range leaves {
		lf := tr.leaves.at(l)
		if i > 0 && lf.prev != leaves[i-1] || i == 0 && lf.prev != nilNode {
			return fmt.Errorf("leaf %d prev link wrong", l)
		}
		if i+1 < len(leaves) && lf.next != leaves[i+1] || i+1 == len(leaves) && lf.next != nilNode {
			return fmt.Errorf("leaf %d next link wrong", l)
		}
	}
	if tr.byMember {
		if len(pins) != len(tr.pins) {
			return fmt.Errorf("%d pinned entries, tree has %d", len(tr.pins), len(pins))
		}
		for id, c := range pins {
			if tr.pins[id] != c {
				return fmt.Errorf("entry %d pinned %d times, tree has %d", id, tr.pins[id], c)
			}
		}
		for id := range tr.dead {
			if pins[id] == 0 {
				return fmt.Errorf("dead entry %d not pinned", id)
			}
		}
	}
	if live := b.ms.ents.inUse() - len(tr.dead); live != tr.n {
		return fmt.Errorf("%d live entries, %d keys", live, tr.n)
	}
	return nil
}

// sepKey returns separator i of in as a key; its member is only read (and
// only valid) in member order.
func (b *Board) sepKey(in *innerNode, i int) *key {
	k := &key{s: in.s[i], t: in.t[i], id: in.id[i]}
	if b.tr.byMember {
		k.m = b.ms.member(in.id[i])
	}
	return k
}

// fencesOf computes the fences of xs from their definition.
func fencesOf(xs []uint64) fences {
	var f fences
	for b := range f {
		f[b] = ^uint64(0)
		if j := b*searchBlock + searchBlock - 1; j < len(xs) {
			f[b] = xs[j]
		}
	}
	return f
}
