package ratelimit

import (
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
)

// store is the per-key state of a limiter: fastcache-style shards selected
// by the xxhash of the key, each a mutex, an open-addressing index from hash
// to position and a slice of entries. Looking up an existing key neither allocates nor copies the
// key; a new key allocates only if it is longer than 32 bytes (a copy of it)
// or its state needs memory.
//
// The state S of one key is a small value owned by its algorithm, touched
// only under the shard lock. Nothing else in the store depends on S, which is
// the seam for a shared backend later (a Redis hash per key holding the same
// integers, updated by one script per decision).
type store[S, P any] struct {
	cfg      config
	shards   []shard[S, P]
	mask     uint64
	perShard int // entries per shard when MaxKeys is set, else 0
	def      *P
	over     map[string]*P
	// reset makes st the state of a fresh key. st may hold a previous
	// key's state whose buffers it may reuse.
	reset func(st *S, p *P, now int64)
	// idle reports whether st is equivalent to a fresh key's state at now.
	idle func(st *S, p *P, now int64) bool
}

// inlineKey is the longest key stored inside its entry: comparing it then
// reads the entry's own cache lines, and a new key allocates nothing.
const inlineKey = 32

type entry[S, P any] struct {
	kb   [inlineKey]byte // the key, when it fits
	kl   int             // len of the key in kb, or -1 when it is in long
	long string          // the key, when longer than inlineKey
	hash uint64
	seen int64 // last access, for eviction
	pol  *P
	st   S
}

type shard[S, P any] struct {
	mu      sync.Mutex
	idx     index
	ents    []entry[S, P]
	sweepAt int
	rnd     uint64
	_       [64]byte // keep neighbouring shards' locks off one cache line
}

func (e *entry[S, P]) is(key string) bool {
	if e.kl >= 0 {
		return e.kl == len(key) && string(e.kb[:e.kl]) == key
	}
	return e.long == key
}

func (e *entry[S, P]) setKey(key string) {
	if len(key) <= inlineKey {
		e.kl = copy(e.kb[:], key)
		e.long = ""
		return
	}
	e.kl = -1
	e.long = strings.Clone(key)
}

const (
	minSweep    = 64
	evictSample = 8
	// sweepGrace keeps a key that went idle only recently, so that a client
	// calling every few seconds under its limit is not dropped and re-created
	// (an allocation) on each call.
	sweepGrace = int64(10 * time.Second)
)

func (s *store[S, P]) init(c config, def *P, over map[string]*P) {
	s.cfg = c
	n := c.shards
	if c.maxKeys > 0 {
		for n > 1 && n > c.maxKeys {
			n /= 2
		}
		s.perShard = c.maxKeys / n
	}
	s.shards = make([]shard[S, P], n)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.idx.init(16)
		sh.sweepAt = minSweep
		sh.rnd = uint64(i)*0x9E3779B97F4A7C15 | 1
	}
	s.mask = uint64(n - 1)
	s.def, s.over = def, over
}

// lookup returns key's entry, creating it if needed, with its shard locked;
// the caller unlocks sh.mu. Cost: one xxhash of the key and one map lookup;
// creating a key may sweep or evict (amortised O(1)).
func (s *store[S, P]) lookup(key string, now int64) (*shard[S, P], *entry[S, P]) {
	return s.lookupHash(key, xxhash.Sum64String(key), now)
}

func (s *store[S, P]) lookupHash(key string, h uint64, now int64) (*shard[S, P], *entry[S, P]) {
	sh := &s.shards[h&s.mask]
	sh.mu.Lock()
	slots, m := sh.idx.slots, sh.idx.mask
	for p := (h >> 8) & m; ; p = (p + 1) & m {
		sl := &slots[p]
		if sl.pos == 0 {
			break
		}
		if sl.hash == h {
			if e := &sh.ents[sl.pos-1]; e.is(key) {
				e.seen = now
				return sh, e
			}
		}
	}
	return sh, s.insert(sh, key, h, now)
}

func (s *store[S, P]) insert(sh *shard[S, P], key string, h uint64, now int64) *entry[S, P] {
	switch {
	case s.perShard > 0 && len(sh.ents) >= s.perShard:
		s.evict(sh, now)
	case s.perShard == 0 && len(sh.ents) >= sh.sweepAt:
		s.sweep(sh, now)
	}
	pol := s.def
	if len(s.over) > 0 {
		if p, ok := s.over[key]; ok {
			pol = p
		}
	}
	i := len(sh.ents)
	if i < cap(sh.ents) {
		sh.ents = sh.ents[:i+1] // reuse the slot, and its state's buffers
	} else {
		var zero entry[S, P]
		sh.ents = append(sh.ents, zero)
	}
	e := &sh.ents[i]
	e.setKey(key)
	e.hash = h
	e.seen = now
	e.pol = pol
	sh.idx.insert(h, i)
	s.reset(&e.st, pol, now)
	return e
}

// remove deletes entry i by swapping it with the last one; the freed slot
// keeps its state so that the next insert can reuse its buffers.
func (s *store[S, P]) remove(sh *shard[S, P], i int) {
	sh.idx.remove(sh.ents[i].hash, i)
	last := len(sh.ents) - 1
	if i != last {
		sh.ents[i], sh.ents[last] = sh.ents[last], sh.ents[i]
		sh.idx.move(sh.ents[i].hash, last, i)
	}
	sh.ents[last].long = ""
	sh.ents[last].pol = nil
	sh.ents = sh.ents[:last]
}

// sweep removes every idle entry of an unbounded shard not used for
// sweepGrace and sets the next sweep at twice the survivors, so sweeping
// costs O(1) amortised per insert.
func (s *store[S, P]) sweep(sh *shard[S, P], now int64) {
	for i := len(sh.ents) - 1; i >= 0; i-- {
		e := &sh.ents[i]
		if subSat(now, e.seen) >= sweepGrace && s.idle(&e.st, e.pol, now) {
			s.remove(sh, i)
		}
	}
	sh.sweepAt = max(minSweep, 2*len(sh.ents))
}

// evict frees one slot of a full shard: the first idle entry of a sample of
// consecutive entries from a random start, else the sample's least recently
// used entry.
func (s *store[S, P]) evict(sh *shard[S, P], now int64) {
	n := len(sh.ents)
	sh.rnd ^= sh.rnd << 13
	sh.rnd ^= sh.rnd >> 7
	sh.rnd ^= sh.rnd << 17
	start := int(sh.rnd % uint64(n))
	victim := -1
	var oldest int64
	for k := 0; k < evictSample && k < n; k++ {
		i := (start + k) % n
		e := &sh.ents[i]
		if s.idle(&e.st, e.pol, now) {
			victim = i
			break
		}
		if victim < 0 || e.seen < oldest {
			victim, oldest = i, e.seen
		}
	}
	s.remove(sh, victim)
}

// setup validates the options and the policies (mk turns a Policy into the
// algorithm's own) and prepares the shards.
func (s *store[S, P]) setup(opts []Option, def Policy, mk func(Policy) (P, error),
	reset func(*S, *P, int64), idle func(*S, *P, int64) bool) error {
	c, err := buildConfig(opts)
	if err != nil {
		return err
	}
	d, over, err := newPolicies(c, def, mk)
	if err != nil {
		return err
	}
	s.init(c, d, over)
	s.reset, s.idle = reset, idle
	return nil
}

// decide runs one decision for key at now under its shard's lock.
func (s *store[S, P]) decide(key string, n int, now time.Time, f func(*P, *S, int, int64) Decision) Decision {
	t := unixNano(now)
	sh, e := s.lookup(key, t)
	d := settle(f(e.pol, &e.st, n, t))
	sh.mu.Unlock()
	return d
}

// Len returns the number of keys currently tracked. Cost: O(shards); it locks
// each shard in turn.
func (s *store[S, P]) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.ents)
		sh.mu.Unlock()
	}
	return n
}
