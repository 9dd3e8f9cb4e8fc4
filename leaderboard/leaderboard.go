package leaderboard

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

// Errors returned by the package, matched with errors.Is.
var (
	ErrInvalidFlags   = errors.New("leaderboard: incompatible add flags")
	ErrNaN            = errors.New("leaderboard: score is not a number")
	ErrMemberTooLong  = errors.New("leaderboard: member too long")
	ErrFull           = errors.New("leaderboard: board full")
	ErrInvalidOptions = errors.New("leaderboard: invalid options")
	ErrCorrupt        = errors.New("leaderboard: corrupt snapshot")
	ErrVersion        = errors.New("leaderboard: unsupported snapshot version")
)

// MaxMemberLen is the longest member accepted, in bytes (Redis allows
// 512 MiB; a leaderboard member is an id, and the bound keeps a corrupt
// snapshot from asking for huge allocations).
const MaxMemberLen = chunkSize

// Entry is one member of a board as returned by the range calls.
type Entry struct {
	Member string
	Score  float64
	Rank   int // 0-based, highest score first
}

// AddFlag modifies Add as the ZADD options of the same names do.
type AddFlag uint8

// Add flags. NX and XX exclude each other; GT and LT exclude each other and NX.
const (
	NX AddFlag = 1 << iota // only add new members, never update
	XX                     // only update existing members, never add
	GT                     // update only when the new score is greater (new members are still added)
	LT                     // update only when the new score is less (new members are still added)
	CH                     // report changed scores as well as additions
)

// TieBreak orders members with equal scores.
type TieBreak uint8

const (
	// ByMember orders equal scores by member bytes, as Redis does: the
	// greater member ranks higher.
	ByMember TieBreak = iota
	// ByArrival ranks the member that reached the score first higher.
	ByArrival
)

// Options configures a Board. The zero value means Redis ordering.
type Options struct {
	TieBreak TieBreak
}

func (o Options) validate() error {
	if o.TieBreak > ByArrival {
		return fmt.Errorf("%w: tie-break %d", ErrInvalidOptions, o.TieBreak)
	}
	return nil
}

// Board is a sorted set of members by score with Redis ZSET semantics:
// highest score first, ties by member bytes (or by arrival, see Options).
//
// Structure: a member -> entry hash index over a pointer-free arena of
// member bytes, plus an order-statistic B+tree of (score, tie, entry) keys
// whose inner nodes count their subtrees. Updates, rank and the start of
// every range cost O(log n); a range then walks O(count) leaf entries.
//
// A Board is safe for concurrent use: one sync.RWMutex guards it, writers
// (Add, Incr, Remove, and AddBatch and IncrBatch for a whole batch) take it
// exclusively and readers share it, so reads run in parallel with each
// other. The zero value is not usable; call New.
type Board struct {
	mu      sync.RWMutex
	arrival bool
	seq     *atomic.Uint64 // arrival sequence, shared by the shards of a Sharded
	ms      members
	tr      tree
	fl      *flight // the batch calls' scratch, allocated by the first
}

// New returns an empty board with Redis ordering.
func New() *Board {
	b, _ := NewWithOptions(Options{})
	return b
}

// NewWithOptions returns an empty board configured by opts.
func NewWithOptions(opts Options) (*Board, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	b := &Board{arrival: opts.TieBreak == ByArrival, seq: new(atomic.Uint64)}
	b.tr = newTree(&b.ms, !b.arrival)
	return b, nil
}

// encode maps a score to a uint64 whose unsigned order is the score order,
// with -0 folded into +0 (they compare equal, as in Redis).
func encode(f float64) uint64 {
	if f == 0 {
		f = 0
	}
	u := math.Float64bits(f)
	if u>>63 == 1 {
		return ^u
	}
	return u | 1<<63
}

func decode(u uint64) float64 {
	if u>>63 == 1 {
		return math.Float64frombits(u &^ (1 << 63))
	}
	return math.Float64frombits(^u)
}

// flagSet is a parsed and validated set of AddFlags.
type flagSet struct{ nx, xx, gt, lt, ch bool }

func parseFlags(flags []AddFlag) (flagSet, error) {
	var all AddFlag
	for _, f := range flags {
		all |= f
	}
	fs := flagSet{nx: all&NX != 0, xx: all&XX != 0, gt: all&GT != 0, lt: all&LT != 0, ch: all&CH != 0}
	switch {
	case all&^(NX|XX|GT|LT|CH) != 0:
		return fs, fmt.Errorf("%w: unknown flag bits %#x", ErrInvalidFlags, uint8(all))
	case fs.nx && fs.xx:
		return fs, fmt.Errorf("%w: NX with XX", ErrInvalidFlags)
	case fs.gt && fs.lt, (fs.gt || fs.lt) && fs.nx:
		return fs, fmt.Errorf("%w: GT, LT and NX exclude each other", ErrInvalidFlags)
	}
	return fs, nil
}

// decide applies ZADD's rules: whether to write score, and Add's reply.
func (fs flagSet) decide(exists bool, cur, score float64) (write, changed bool) {
	if !exists {
		return !fs.xx, !fs.xx
	}
	if fs.nx || fs.gt && !(score > cur) || fs.lt && !(score < cur) || score == cur {
		return false, false
	}
	return true, fs.ch
}

// Add sets member's score, following ZADD with the given flags. changed is
// ZADD's reply: true when member was added, or, with CH, also when its
// score changed. Errors: ErrInvalidFlags, ErrNaN, ErrMemberTooLong, ErrFull;
// on error nothing changes. Cost O(log n).
func (b *Board) Add(member string, score float64, flags ...AddFlag) (changed bool, err error) {
	fs, err := parseFlags(flags)
	if err != nil {
		return false, err
	}
	if math.IsNaN(score) {
		return false, fmt.Errorf("%w: add %q", ErrNaN, member)
	}
	if len(member) > MaxMemberLen {
		return false, fmt.Errorf("%w: %d bytes", ErrMemberTooLong, len(member))
	}
	h := hashOf(member)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.add(member, h, score, fs, nil)
}

// add is Add after validation, with the write lock held; h is member's
// hash, g what a batch's warming found (nil: nothing).
func (b *Board) add(member string, h uint32, score float64, fs flagSet, g *guess) (bool, error) {
	id, ok := b.ms.findGuess(member, h, g)
	cur := 0.0
	if ok {
		cur = decode(b.ms.ents.at(id).s)
	}
	write, changed := fs.decide(ok, cur, score)
	if !write {
		return changed, nil
	}
	if !ok {
		return changed, b.insert(member, h, score)
	}
	b.update(b.keyFor(id, member), score, g)
	return changed, nil
}

// Incr adds delta to member's score (ZINCRBY), adding member with score
// delta when absent, and returns the new score. A NaN delta or result
// (+Inf plus -Inf) is ErrNaN and changes nothing. Cost O(log n).
func (b *Board) Incr(member string, delta float64) (float64, error) {
	if math.IsNaN(delta) {
		return 0, fmt.Errorf("%w: increment of %q", ErrNaN, member)
	}
	if len(member) > MaxMemberLen {
		return 0, fmt.Errorf("%w: %d bytes", ErrMemberTooLong, len(member))
	}
	h := hashOf(member)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.incr(member, h, delta, nil)
}

// incr is Incr after validation, with the write lock held; h is member's
// hash, g what a batch's warming found (nil: nothing).
func (b *Board) incr(member string, h uint32, delta float64, g *guess) (float64, error) {
	id, ok := b.ms.findGuess(member, h, g)
	if !ok {
		return delta, b.insert(member, h, delta)
	}
	cur := decode(b.ms.ents.at(id).s)
	score := cur + delta
	if math.IsNaN(score) {
		return cur, fmt.Errorf("%w: %q: %v + %v", ErrNaN, member, cur, delta)
	}
	if score != cur {
		b.update(b.keyFor(id, member), score, g)
	}
	return score, nil
}

func (b *Board) tie(member string) uint64 {
	if b.arrival {
		return ^b.seq.Add(1)
	}
	return memberKey(member)
}

func (b *Board) insert(member string, h uint32, score float64) error {
	id, ok := b.ms.add(member, h)
	if !ok {
		return fmt.Errorf("%w: %d members, %d bytes of members", ErrFull, b.ms.count, b.ms.stored)
	}
	e := b.ms.ents.at(id)
	e.s, e.t = encode(score), b.tie(member)
	b.tr.insert(&key{s: e.s, t: e.t, id: id, m: b.ms.member(id)})
	return nil
}

func (b *Board) keyOf(id uint32) key {
	e := b.ms.ents.at(id)
	return key{s: e.s, t: e.t, id: id, m: view(b.ms.bytes(e))}
}

// keyFor is keyOf for entry id of member, which the caller holds: it spares
// the arena lookup of the member bytes.
func (b *Board) keyFor(id uint32, member string) key {
	e := b.ms.ents.at(id)
	return key{s: e.s, t: e.t, id: id, m: member}
}

// update moves the stored key old to score, which differs from its current
// score; g is what a batch's warming found, or nil.
func (b *Board) update(old key, score float64, g *guess) {
	k := old
	if b.arrival {
		k.t = b.tie("")
	}
	k.s = encode(score)
	var ga, gb *path
	if g != nil {
		ga, gb = g.old, g.nw
	}
	b.tr.relocate(&old, &k, ga, gb)
	e := b.ms.ents.at(k.id)
	e.s, e.t = k.s, k.t
}

// Remove deletes member and reports whether it was present (ZREM). Cost O(log n).
func (b *Board) Remove(member string) bool {
	h := hashOf(member)
	b.mu.Lock()
	defer b.mu.Unlock()
	id, ok := b.ms.findHash(member, h)
	if !ok {
		return false
	}
	k := b.keyFor(id, member)
	b.tr.remove(&k)
	b.ms.unindex(id, h)
	b.tr.forget(id)
	return true
}

// Score returns member's score (ZSCORE). Cost O(1).
func (b *Board) Score(member string) (float64, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	id, ok := b.ms.find(member)
	if !ok {
		return 0, false
	}
	return decode(b.ms.ents.at(id).s), true
}

// Rank returns member's 0-based rank, highest score first (ZREVRANK).
// Cost O(log n).
func (b *Board) Rank(member string) (int, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	id, ok := b.ms.find(member)
	if !ok {
		return 0, false
	}
	k := b.keyFor(id, member)
	return b.rankOf(&k), true
}

// rankOf returns the descending rank of the stored key k.
func (b *Board) rankOf(k *key) int {
	return b.tr.n - 1 - b.tr.countLess(k)
}

// Len returns the number of members (ZCARD). Cost O(1).
func (b *Board) Len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.tr.n
}

// Top appends the n highest-ranked entries to dst (ZREVRANGE 0 n-1); n <= 0
// appends nothing. Cost O(log len + n).
func (b *Board) Top(n int, dst []Entry) []Entry {
	if n <= 0 {
		return dst
	}
	return b.Range(0, n-1, dst)
}

// Range appends the entries ranked start through stop, inclusive and highest
// score first, to dst (ZREVRANGE start stop). Negative indices count from
// the end (-1 is the lowest ranked), as in Redis. Cost O(log len + count).
func (b *Board) Range(start, stop int, dst []Entry) []Entry {
	b.mu.RLock()
	defer b.mu.RUnlock()
	start, stop, ok := clampRange(start, stop, b.tr.n)
	if !ok {
		return dst
	}
	return b.appendRanks(dst, start, stop-start+1)
}

// clampRange resolves Redis range indices against length n.
func clampRange(start, stop, n int) (int, int, bool) {
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	start = max(start, 0)
	if start > stop || start >= n {
		return 0, 0, false
	}
	return start, min(stop, n-1), true
}

// appendRanks appends count entries from descending rank start, which must
// exist.
func (b *Board) appendRanks(dst []Entry, start, count int) []Entry {
	node, p := b.tr.seek(b.tr.n - 1 - start)
	for rank := start; count > 0 && node != nilNode; count-- {
		lf := b.tr.leaves.at(node)
		dst = append(dst, Entry{Member: b.ms.member(lf.id[p]), Score: decode(lf.s[p]), Rank: rank})
		rank++
		if p--; p < 0 {
			node = lf.prev
			if node != nilNode {
				p = b.tr.leaves.at(node).n - 1
			}
		}
	}
	return dst
}

// Around appends the entries from n ranks above member to n ranks below it,
// clipped at the board's edges, to dst; a negative n counts as 0. A missing
// member appends nothing. Cost O(log len + n).
func (b *Board) Around(member string, n int, dst []Entry) []Entry {
	n = max(n, 0)
	b.mu.RLock()
	defer b.mu.RUnlock()
	id, ok := b.ms.find(member)
	if !ok {
		return dst
	}
	k := b.keyFor(id, member)
	r := b.rankOf(&k)
	n = min(n, b.tr.n) // r+n cannot overflow
	start := max(r-n, 0)
	stop := min(r+n, b.tr.n-1)
	return b.appendRanks(dst, start, stop-start+1)
}

// scoreSpan returns the ascending positions [lo, hi) of scores in [min, max].
func (b *Board) scoreSpan(min, max float64) (int, int) {
	if math.IsNaN(min) || math.IsNaN(max) || min > max {
		return 0, 0
	}
	return b.tr.countScore(encode(min), false), b.tr.countScore(encode(max), true)
}

// RangeByScore appends the entries with min <= score <= max, highest score
// first, to dst (ZREVRANGEBYSCORE max min LIMIT offset count): it skips
// offset entries and appends at most count, or all when count is negative.
// A negative offset or a NaN bound appends nothing. Cost O(log len + offset + count).
func (b *Board) RangeByScore(min, max float64, offset, count int, dst []Entry) []Entry {
	if offset < 0 || count == 0 {
		return dst
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	lo, hi := b.scoreSpan(min, max)
	if hi-lo <= offset {
		return dst
	}
	avail := hi - lo - offset
	if count < 0 || count > avail {
		count = avail
	}
	return b.appendRanks(dst, b.tr.n-hi+offset, count)
}

// Count returns the number of members with min <= score <= max (ZCOUNT).
// Cost O(log n).
func (b *Board) Count(min, max float64) int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	lo, hi := b.scoreSpan(min, max)
	return hi - lo
}
