package leaderboard

import (
	"fmt"

	"github.com/cespare/xxhash/v2"
)

// MaxShards bounds the shard count of Sharded and ScoreSharded.
const MaxShards = 1 << 12

// Sharded hash-partitions members over N boards by xxhash of the member:
// design option A for "x100 scale". Writes touch one shard and spread
// evenly; Top and Range scatter to every shard and merge; Rank is exact:
// the member's rank in its shard plus, for every other shard, the number
// of members ranked above it there.
//
// Sharded is safe for concurrent use: each shard has its own lock, so
// writers to different shards run in parallel. Multi-shard reads lock one
// shard at a time and so see each shard at a slightly different moment.
type Sharded struct {
	shards []*Board
}

// NewSharded returns a Sharded of n boards configured by opts. With
// ByArrival the shards share one arrival counter, so ties compare across
// shards.
func NewSharded(n int, opts Options) (*Sharded, error) {
	if n < 1 || n > MaxShards {
		return nil, fmt.Errorf("%w: %d shards", ErrInvalidOptions, n)
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s := &Sharded{shards: make([]*Board, n)}
	for i := range s.shards {
		s.shards[i], _ = NewWithOptions(opts)
		s.shards[i].seq = s.shards[0].seq
	}
	return s, nil
}

// shard picks the board of member from the high half of its hash; the low
// half indexes the board's own hash table, so the two stay independent.
func (s *Sharded) shard(member string) *Board {
	h := xxhash.Sum64String(member) >> 32
	return s.shards[h*uint64(len(s.shards))>>32]
}

// Shards returns the number of shards.
func (s *Sharded) Shards() int { return len(s.shards) }

// ShardLen returns the number of members in shard i.
func (s *Sharded) ShardLen(i int) int { return s.shards[i].Len() }

// Add is Board.Add on member's shard.
func (s *Sharded) Add(member string, score float64, flags ...AddFlag) (bool, error) {
	return s.shard(member).Add(member, score, flags...)
}

// Incr is Board.Incr on member's shard.
func (s *Sharded) Incr(member string, delta float64) (float64, error) {
	return s.shard(member).Incr(member, delta)
}

// Remove is Board.Remove on member's shard.
func (s *Sharded) Remove(member string) bool { return s.shard(member).Remove(member) }

// Score is Board.Score on member's shard.
func (s *Sharded) Score(member string) (float64, bool) { return s.shard(member).Score(member) }

// Len returns the number of members in all shards. Cost O(shards).
func (s *Sharded) Len() int {
	n := 0
	for _, b := range s.shards {
		n += b.Len()
	}
	return n
}

// Rank returns member's global rank, highest score first. Cost
// O(shards * log n): every shard counts the members above member's key.
func (s *Sharded) Rank(member string) (int, bool) {
	home := s.shard(member)
	home.mu.RLock()
	id, ok := home.ms.find(member)
	if !ok {
		home.mu.RUnlock()
		return 0, false
	}
	k := home.keyOf(id) // k.m views immutable arena bytes: valid after unlock
	r := home.rankOf(&k)
	home.mu.RUnlock()
	k.id = noID
	for _, b := range s.shards {
		if b != home {
			r += b.countAbove(&k)
		}
	}
	return r, true
}

// countAbove returns the number of members ranked above the absent key k.
func (b *Board) countAbove(k *key) int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.tr.n - b.tr.countLess(k)
}

// Top appends the n highest entries to dst: every shard's top n, k-way
// merged. Cost O(shards * (log n + n)).
func (s *Sharded) Top(n int, dst []Entry) []Entry {
	if n <= 0 {
		return dst
	}
	return s.Range(0, n-1, dst)
}

// Range appends global ranks start..stop (ZREVRANGE, negatives as in
// Redis). Every shard contributes its top stop+1 entries, so deep pages
// cost O(shards * stop): the scatter-gather cost of hash partitioning.
func (s *Sharded) Range(start, stop int, dst []Entry) []Entry {
	start, stop, ok := clampRange(start, stop, s.Len())
	if !ok {
		return dst
	}
	heads := make([][]mergeItem, len(s.shards))
	for i, b := range s.shards {
		heads[i] = b.topKeys(stop+1, nil)
	}
	return mergeTop(heads, start, stop, dst)
}

// mergeItem is an entry with its full sort key, for merging across boards.
type mergeItem struct {
	s, t uint64
	m    string
}

// ranksAbove reports whether a ranks above b.
func (a *mergeItem) ranksAbove(b *mergeItem) bool {
	if a.s != b.s {
		return a.s > b.s
	}
	if a.t != b.t {
		return a.t > b.t
	}
	return a.m > b.m
}

// topKeys appends up to n of b's highest keys, highest first.
func (b *Board) topKeys(n int, dst []mergeItem) []mergeItem {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for node := b.tr.last; node != nilNode && n > 0 && b.tr.n > 0; {
		lf := b.tr.leaves.at(node)
		for i := lf.n - 1; i >= 0 && n > 0; i-- {
			dst = append(dst, mergeItem{s: lf.s[i], t: lf.t[i], m: b.ms.member(lf.id[i])})
			n--
		}
		node = lf.prev
	}
	return dst
}

// mergeTop merges per-shard descending lists and appends merged ranks
// start..stop to dst. It scans the list heads, O(len(heads)) per output.
func mergeTop(heads [][]mergeItem, start, stop int, dst []Entry) []Entry {
	for rank := 0; rank <= stop; rank++ {
		best := -1
		for i := range heads {
			if len(heads[i]) > 0 && (best < 0 || heads[i][0].ranksAbove(&heads[best][0])) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		it := heads[best][0]
		heads[best] = heads[best][1:]
		if rank >= start {
			dst = append(dst, Entry{Member: it.m, Score: decode(it.s), Rank: rank})
		}
	}
	return dst
}

// Count sums Board.Count over the shards. Cost O(shards * log n).
func (s *Sharded) Count(min, max float64) int {
	c := 0
	for _, b := range s.shards {
		c += b.Count(min, max)
	}
	return c
}
