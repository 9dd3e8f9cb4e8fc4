package ratelimit

import (
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/sysblocks/sysblocks/ratelimit/internal/exact"
)

// store is the per-key state of a limiter: fastcache-style shards selected
// by the xxhash of the key, each a mutex and an open-addressing table of
// entries (linear probing, at most 3/4 full, backward-shift deletion so no
// tombstones). The entries live in the table itself, each with its key
// inline and a 32-bit fingerprint of the key's hash, so finding a key that
// is not cached reads one entry: for the token bucket an entry is exactly
// one 64-byte cache line (key, fingerprint, last use, policy, state), and a
// cold lookup costs one cache miss after the key's own bytes. Looking up an
// existing key neither allocates nor copies the key; a new key allocates
// only if it is longer than inlineKey bytes (a copy of it), its state needs
// memory, or the table doubles.
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
	// reset makes st, a zero state, the state of a fresh key.
	reset func(st *S, p *P, now int64)
	// idle reports whether st is equivalent to a fresh key's state at now.
	idle func(st *S, p *P, now int64) bool
}

// inlineKey is the longest key stored inside its entry: comparing it then
// reads the entry's own cache line, and a new key allocates nothing. 19
// bytes hold "ip:" and any IPv4 address, and make the entries of the token
// bucket (with its denial memo), the fixed window and the sliding window
// exactly 64 bytes.
const inlineKey = 19

// Values of entry.kl besides 1+len(key) for an inline key.
const (
	emptySlot = 0   // the zero entry: a free slot of the table
	longKey   = 255 // the key is in shard.long
)

type entry[S, P any] struct {
	kb   [inlineKey]byte // the key, when it fits
	kl   uint8           // emptySlot, 1+len(key) for a key in kb, or longKey
	fp   uint32          // fingerprint of the key's hash; its low bits give the home slot
	seen int64           // last access, for eviction
	pol  *P
	st   S
}

type shard[S, P any] struct {
	mu    sync.Mutex
	tab   []entry[S, P] // power-of-two length
	tmask uint32
	n     int // occupied slots
	// long holds, at a slot, its key when longer than inlineKey; nil until
	// the shard sees such a key, then as long as tab.
	long    []string
	sweepAt int
	rnd     uint64
	// Pad to 256 bytes: the fields a lookup reads (mu, tab, tmask) share
	// one cache line, and neighbouring shards' locks are at least 128 bytes
	// apart (the pair of lines the adjacent-line prefetcher fetches).
	_ [256 - 88]byte
}

// fingerprint is the part of a key's hash an entry keeps: the low bits
// select the shard, the next 32 the home slot and the fast key check.
func fingerprint(h uint64) uint32 { return uint32(h >> 8) }

// is reports whether slot i holds key (with fingerprint fp).
func (sh *shard[S, P]) is(i uint32, fp uint32, key string) bool {
	e := &sh.tab[i]
	if e.fp != fp {
		return false
	}
	if e.kl != longKey {
		return int(e.kl) == len(key)+1 && string(e.kb[:e.kl-1]) == key
	}
	return sh.long[i] == key
}

// setKey stores key in the free slot i.
func (sh *shard[S, P]) setKey(i uint32, key string) {
	e := &sh.tab[i]
	if len(key) <= inlineKey {
		e.kl = uint8(copy(e.kb[:], key) + 1)
		return
	}
	e.kl = longKey
	if sh.long == nil {
		sh.long = make([]string, len(sh.tab))
	}
	sh.long[i] = strings.Clone(key)
}

// move makes slot to (free) hold slot from's entry and frees from.
func (sh *shard[S, P]) move(to, from uint32) {
	sh.tab[to] = sh.tab[from]
	sh.tab[from] = entry[S, P]{}
	if sh.long != nil {
		sh.long[to], sh.long[from] = sh.long[from], ""
	}
}

func (sh *shard[S, P]) home(fp uint32) uint32 { return fp & sh.tmask }

// free returns the first free slot of fp's probe sequence.
func (sh *shard[S, P]) free(fp uint32) uint32 {
	p := sh.home(fp)
	for sh.tab[p].kl != emptySlot {
		p = (p + 1) & sh.tmask
	}
	return p
}

// resize rehashes the shard into a table of size slots.
func (sh *shard[S, P]) resize(size int) {
	old, oldLong := sh.tab, sh.long
	sh.tab = make([]entry[S, P], size)
	sh.tmask = uint32(size - 1)
	sh.long = nil
	if oldLong != nil {
		sh.long = make([]string, size)
	}
	for i := range old {
		if old[i].kl == emptySlot {
			continue
		}
		p := sh.free(old[i].fp)
		sh.tab[p] = old[i]
		if oldLong != nil {
			sh.long[p] = oldLong[i]
		}
	}
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
		sh.resize(16)
		sh.sweepAt = minSweep
		sh.rnd = uint64(i)*0x9E3779B97F4A7C15 | 1
	}
	s.mask = uint64(n - 1)
	s.def, s.over = def, over
}

// lookup returns key's entry, creating it if needed, with its shard locked;
// the caller unlocks sh.mu. Cost: one xxhash of the key and, for a key not
// in cache, one cache miss; creating a key may sweep, evict or double the
// table (amortised O(1)).
func (s *store[S, P]) lookup(key string, now int64) (*shard[S, P], *entry[S, P]) {
	return s.lookupHash(key, xxhash.Sum64String(key), now)
}

func (s *store[S, P]) lookupHash(key string, h uint64, now int64) (*shard[S, P], *entry[S, P]) {
	sh := &s.shards[h&s.mask]
	fp := fingerprint(h)
	sh.mu.Lock()
	if e := sh.find(fp, key); e != nil {
		e.seen = now
		return sh, e
	}
	return sh, s.insert(sh, key, fp, now)
}

// find returns key's entry, or nil.
func (sh *shard[S, P]) find(fp uint32, key string) *entry[S, P] {
	for p := sh.home(fp); sh.tab[p].kl != emptySlot; p = (p + 1) & sh.tmask {
		if sh.is(p, fp, key) {
			return &sh.tab[p]
		}
	}
	return nil
}

func (s *store[S, P]) insert(sh *shard[S, P], key string, fp uint32, now int64) *entry[S, P] {
	switch {
	case s.perShard > 0 && sh.n >= s.perShard:
		s.evict(sh, now)
	case s.perShard == 0 && sh.n >= sh.sweepAt:
		s.sweep(sh, now)
	}
	if 4*(sh.n+1) > 3*len(sh.tab) {
		sh.resize(2 * len(sh.tab))
	}
	pol := s.def
	if len(s.over) > 0 {
		if p, ok := s.over[key]; ok {
			pol = p
		}
	}
	i := sh.free(fp)
	sh.setKey(i, key)
	sh.n++
	e := &sh.tab[i]
	e.fp = fp
	e.seen = now
	e.pol = pol
	s.reset(&e.st, pol, now)
	return e
}

// remove frees slot i, shifting back the entries after it that would
// otherwise become unreachable. An entry at or after i may move to a lower
// slot (cyclically), never past a free slot.
func (s *store[S, P]) remove(sh *shard[S, P], i uint32) {
	hole := i
	sh.tab[hole] = entry[S, P]{}
	if sh.long != nil {
		sh.long[hole] = ""
	}
	for j := (hole + 1) & sh.tmask; sh.tab[j].kl != emptySlot; j = (j + 1) & sh.tmask {
		// Slot j may fill the hole unless its home lies cyclically in
		// (hole, j].
		k := sh.home(sh.tab[j].fp)
		if (j-k)&sh.tmask >= (j-hole)&sh.tmask {
			sh.move(hole, j)
			hole = j
		}
	}
	sh.n--
}

// sweep removes every idle entry of an unbounded shard not used for
// sweepGrace and sets the next sweep at twice the survivors, so sweeping
// costs O(1) amortised per insert. After a removal it looks at the same slot
// again, which may now hold a shifted entry; a shift across the end of the
// table may make it look at an entry twice, which is harmless.
func (s *store[S, P]) sweep(sh *shard[S, P], now int64) {
	for i := uint32(0); int(i) < len(sh.tab); {
		e := &sh.tab[i]
		if e.kl != emptySlot && exact.SubSat(now, e.seen) >= sweepGrace && s.idle(&e.st, e.pol, now) {
			s.remove(sh, i)
			continue
		}
		i++
	}
	sh.sweepAt = max(minSweep, 2*sh.n)
}

// evict frees one slot of a full shard: the first idle entry among the
// first evictSample entries from a random slot on, else the least recently
// used of them.
func (s *store[S, P]) evict(sh *shard[S, P], now int64) {
	sh.rnd ^= sh.rnd << 13
	sh.rnd ^= sh.rnd >> 7
	sh.rnd ^= sh.rnd << 17
	p := uint32(sh.rnd) & sh.tmask
	victim, found := uint32(0), false
	var oldest int64
	for k := 0; k < evictSample && k < sh.n; p = (p + 1) & sh.tmask {
		e := &sh.tab[p]
		if e.kl == emptySlot {
			continue
		}
		k++
		if s.idle(&e.st, e.pol, now) {
			victim, found = p, true
			break
		}
		if !found || e.seen < oldest {
			victim, oldest, found = p, e.seen, true
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

// Len returns the number of keys currently tracked. Cost: O(shards); it locks
// each shard in turn.
func (s *store[S, P]) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.n
		sh.mu.Unlock()
	}
	return n
}
