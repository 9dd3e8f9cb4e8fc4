package leaderboard

import (
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/cespare/xxhash/v2"
)

const stripeCount = 256

// ScoreSharded partitions members by score range over N boards: design
// option B ("fixed partitioning"). Shard i holds scores in
// [bounds[i-1], bounds[i]), the first shard from -Inf and the last to +Inf.
// Top reads the highest shard only (plus lower ones when it holds too few),
// and a rank is the rank inside the member's shard plus the sizes of the
// shards above. The price: shards are as uneven as the score distribution
// (most players have low scores), a score change that crosses a bound moves
// the member between shards, and a member -> shard index is needed.
//
// ScoreSharded is safe for concurrent use. Writers of the same member are
// serialised by one of 256 striped mutexes, which also guard the member ->
// shard index; each shard is a Board with its own lock. Multi-shard reads
// (Top, Range, Rank, Len) see each shard at a slightly different moment, and
// may miss a member that is moving between shards.
type ScoreSharded struct {
	bounds  []float64
	shards  []*Board
	stripes [stripeCount]stripe
}

type stripe struct {
	mu    sync.Mutex
	where map[string]uint16
	_     [64]byte // keep neighbouring stripes off one cache line
}

// NewScoreSharded returns a ScoreSharded with len(bounds)+1 shards. bounds
// must be strictly ascending and finite; the slice is copied.
func NewScoreSharded(bounds []float64, opts Options) (*ScoreSharded, error) {
	if len(bounds)+1 > MaxShards {
		return nil, fmt.Errorf("%w: %d shards", ErrInvalidOptions, len(bounds)+1)
	}
	for i, v := range bounds {
		if math.IsNaN(v) || math.IsInf(v, 0) || i > 0 && !(v > bounds[i-1]) {
			return nil, fmt.Errorf("%w: bound %d (%v) not finite and ascending", ErrInvalidOptions, i, v)
		}
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s := &ScoreSharded{bounds: append([]float64(nil), bounds...), shards: make([]*Board, len(bounds)+1)}
	for i := range s.shards {
		s.shards[i], _ = NewWithOptions(opts)
		s.shards[i].seq = s.shards[0].seq
	}
	for i := range s.stripes {
		s.stripes[i].where = map[string]uint16{}
	}
	return s, nil
}

func (s *ScoreSharded) stripeOf(member string) *stripe {
	return &s.stripes[xxhash.Sum64String(member)>>32%stripeCount]
}

// shardFor returns the index of the shard holding score.
func (s *ScoreSharded) shardFor(score float64) int {
	return sort.Search(len(s.bounds), func(i int) bool { return s.bounds[i] > score })
}

// Shards returns the number of shards.
func (s *ScoreSharded) Shards() int { return len(s.shards) }

// ShardLen returns the number of members in shard i (0 = lowest scores).
func (s *ScoreSharded) ShardLen(i int) int { return s.shards[i].Len() }

// current returns member's shard and score; st is locked.
func (s *ScoreSharded) current(st *stripe, member string) (uint16, float64, bool) {
	from, ok := st.where[member]
	if !ok {
		return 0, 0, false
	}
	cur, _ := s.shards[from].Score(member)
	return from, cur, true
}

// set moves member to score; st is locked.
func (s *ScoreSharded) set(st *stripe, member string, exists bool, from int, score float64) error {
	to := s.shardFor(score)
	if exists && to != from {
		s.shards[from].Remove(member)
	}
	if _, err := s.shards[to].Add(member, score); err != nil {
		return err
	}
	st.where[member] = uint16(to)
	return nil
}

// Add is Board.Add over the partitions. Cost O(log n), plus a move when the
// score crosses a bound.
func (s *ScoreSharded) Add(member string, score float64, flags ...AddFlag) (bool, error) {
	fs, err := parseFlags(flags)
	if err != nil {
		return false, err
	}
	if math.IsNaN(score) {
		return false, fmt.Errorf("%w: add %q", ErrNaN, member)
	}
	st := s.stripeOf(member)
	st.mu.Lock()
	defer st.mu.Unlock()
	from, cur, exists := s.current(st, member)
	write, changed := fs.decide(exists, cur, score)
	if !write {
		return changed, nil
	}
	return changed, s.set(st, member, exists, int(from), score)
}

// Incr is Board.Incr over the partitions.
func (s *ScoreSharded) Incr(member string, delta float64) (float64, error) {
	if math.IsNaN(delta) {
		return 0, fmt.Errorf("%w: increment of %q", ErrNaN, member)
	}
	st := s.stripeOf(member)
	st.mu.Lock()
	defer st.mu.Unlock()
	from, cur, exists := s.current(st, member)
	score := cur + delta
	if math.IsNaN(score) {
		return cur, fmt.Errorf("%w: %q: %v + %v", ErrNaN, member, cur, delta)
	}
	if exists && score == cur {
		return score, nil
	}
	return score, s.set(st, member, exists, int(from), score)
}

// Remove deletes member and reports whether it was present.
func (s *ScoreSharded) Remove(member string) bool {
	st := s.stripeOf(member)
	st.mu.Lock()
	defer st.mu.Unlock()
	from, ok := st.where[member]
	if !ok {
		return false
	}
	delete(st.where, member)
	return s.shards[from].Remove(member)
}

// Score returns member's score.
func (s *ScoreSharded) Score(member string) (float64, bool) {
	st := s.stripeOf(member)
	st.mu.Lock()
	defer st.mu.Unlock()
	from, ok := st.where[member]
	if !ok {
		return 0, false
	}
	return s.shards[from].Score(member)
}

// Len returns the number of members. Cost O(shards).
func (s *ScoreSharded) Len() int {
	n := 0
	for _, b := range s.shards {
		n += b.Len()
	}
	return n
}

// Rank returns member's global rank: its rank in its shard plus the sizes
// of the shards above. Cost O(log n + shards).
func (s *ScoreSharded) Rank(member string) (int, bool) {
	st := s.stripeOf(member)
	st.mu.Lock()
	from, ok := st.where[member]
	var r int
	if ok {
		r, ok = s.shards[from].Rank(member)
	}
	st.mu.Unlock()
	if !ok {
		return 0, false
	}
	for _, b := range s.shards[from+1:] {
		r += b.Len()
	}
	return r, true
}

// Top appends the n highest entries to dst, reading shards from the top
// down until n are found. Cost O(log n + n) when the top shard holds n.
func (s *ScoreSharded) Top(n int, dst []Entry) []Entry {
	if n <= 0 {
		return dst
	}
	return s.Range(0, n-1, dst)
}

// Range appends global ranks start..stop (ZREVRANGE, negatives as in
// Redis), skipping whole shards by their sizes.
func (s *ScoreSharded) Range(start, stop int, dst []Entry) []Entry {
	start, stop, ok := clampRange(start, stop, s.Len())
	if !ok {
		return dst
	}
	base := 0 // global rank of the current shard's first entry
	for i := len(s.shards) - 1; i >= 0 && start <= stop; i-- {
		b := s.shards[i]
		n := b.Len()
		if start < base+n {
			k := len(dst)
			dst = b.Range(start-base, stop-base, dst)
			for j := k; j < len(dst); j++ {
				dst[j].Rank += base
			}
			start = base + n
		}
		base += n
	}
	return dst
}

// Count returns the number of members with min <= score <= max, asking
// only the shards whose ranges overlap [min, max].
func (s *ScoreSharded) Count(min, max float64) int {
	if math.IsNaN(min) || math.IsNaN(max) || min > max {
		return 0
	}
	c := 0
	for i := s.shardFor(min); i <= s.shardFor(max); i++ {
		c += s.shards[i].Count(min, max)
	}
	return c
}
