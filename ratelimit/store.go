package ratelimit

import (
	"math/bits"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// store is the per-key state of a limiter: fastcache-style shards selected
// by a seeded hash of the key, each an open-addressing table of entries
// (linear probing, at most 3/4 full, backward-shift deletion so no
// tombstones). The entries live in the table itself, each with its key
// inline, a 32-bit fingerprint of the key's hash and its own lock, so that
// finding a key that is not cached reads one entry: for the token bucket an
// entry is exactly one 64-byte cache line (key, fingerprint, lock, last use,
// policy, state), and a cold lookup costs one cache miss after the key's own
// bytes. Looking up an existing key neither allocates nor copies the key; a
// new key allocates only if it is longer than inlineKey bytes (a copy of
// it), its state needs memory, or the table doubles.
//
// Concurrency. A lookup of an existing key takes no shard-wide lock and
// writes nothing shared but its own entry: it reads the shard's sequence
// number and table, probes with atomic loads of the key words, locks the
// entry it found and checks that the sequence number has not moved; a call
// on one hot key from two cores then moves one cache line between them
// (lock and state together), not two (a shard lock, then the entry), and
// its critical section has no cache miss of its own. Everything that
// changes the table's layout (insert, sweep, eviction, doubling) runs under
// the shard's mutex, makes the sequence number odd, waits for each entry it
// moves, removes or inspects to be unlocked (a lookup that got there first
// finishes; one that comes later sees the changed sequence number and
// retries under the mutex), and makes it even again. Keys longer than
// inlineKey are always looked up under the mutex.
//
// Everything about the key (its hash, and the 24-byte block an entry
// holding it has) is computed before any lock is taken.
//
// The state S of one key is a small value owned by its algorithm, touched
// only under its entry's lock. Nothing else in the store depends on S, which
// is the seam for a shared backend (a Redis hash per key holding the same
// integers, updated by one script per decision: see ratelimit/redislimit).
type store[S, P any] struct {
	cfg      config
	shards   []shard[S, P]
	mask     uint64
	perShard int // entries per shard when MaxKeys is set, else 0
	def      *P
	// pols are the policies an entry's pi indexes: the default, then the
	// overrides, whose index over gives by key.
	pols []*P
	over map[string]uint32
	seed [4]uint64 // of the key hash: random, so colliding keys cannot be precomputed
	// reset makes st, a zero state, the state of a fresh key.
	reset func(st *S, p *P, now int64)
	// idle reports whether st is equivalent to a fresh key's state at now.
	idle func(st *S, p *P, now int64) bool
}

// inlineKey is the longest key stored inside its entry: comparing it then
// reads the entry's own cache line, and a new key allocates nothing. 19
// bytes hold "ip:" and any IPv4 address, and make the entries of the token
// bucket (with its denial memo), the fixed window and the sliding window
// exactly 64 bytes (the leaky bucket's is padded to it).
const inlineKey = 19

// longKey is the kl of an entry whose key is in shard.long; a free slot has
// kl 0 (its key words are all zero), an inline key 1+len(key).
const longKey = 255

type entry[S, P any] struct {
	// kw is the key block, as three words so that it compares in three
	// instructions: bytes 0–18 the key when it fits (zero-padded, little
	// endian), byte 19 kl, bytes 20–23 fp (see longKey for kl); fp is a
	// fingerprint of the key's hash, whose low bits give the home slot.
	// Lookups read it without a lock, so it is only read and written with
	// atomic operations.
	kw [3]atomic.Uint64 // atomic.Uint64 also aligns entries to 8 bytes on 32-bit platforms
	// mu guards the rest. It belongs to the slot: moving an entry moves
	// everything else.
	mu   sync.Mutex
	seen uint32 // last access, in units of 2^seenShift ns (wrapping), for eviction
	pi   uint32 // the key's policy: store.pols[pi]
	st   S
}

// seenShift sets the resolution of entry.seen, about a millisecond (2^20
// ns): a lookup rewrites seen only when it changes, so calls on a hot key
// whose state does not change (a denial) write nothing to its cache line.
// 32 bits of it wrap after 52 days, which only makes a key that old look
// recent to eviction once (and an instant before seen look old).
const seenShift = 20

func seenAt(t int64) uint32 { return uint32(t >> seenShift) }

// age is how long ago (ns) e was last seen, by its coarse clock.
func (e *entry[S, P]) age(now int64) int64 {
	return int64(seenAt(now)-e.seen) << seenShift
}

// Layout of kw[2].
const (
	klShift = 24 // kl's bit offset
	fpShift = 32 // fp's bit offset
)

func (e *entry[S, P]) w2() uint64        { return e.kw[2].Load() }
func (e *entry[S, P]) kl() uint8         { return uint8(e.w2() >> klShift) }
func (e *entry[S, P]) fp() uint32        { return uint32(e.w2() >> fpShift) }
func (e *entry[S, P]) free() bool        { return e.w2() == 0 }
func (e *entry[S, P]) word(i int) uint64 { return e.kw[i].Load() }

// setKey stores the key block w.
func (e *entry[S, P]) setKey(w *[3]uint64) {
	e.kw[0].Store(w[0])
	e.kw[1].Store(w[1])
	e.kw[2].Store(w[2])
}

// wait returns once no lookup holds e's lock: one that held it has finished
// with the entry, and one that takes it later will see the shard's changed
// sequence number and leave the entry alone. Only a writer, with the
// sequence number odd, calls it.
func (e *entry[S, P]) wait() {
	e.mu.Lock()
	//lint:ignore SA2001 the empty critical section is the point: a barrier
	e.mu.Unlock()
}

// keyRef is a key prepared for a lookup: the key, its hash and the key block
// (entry.kw) of an entry holding it. It is filled and read in place, word by
// word: the compiler copies a struct of more than four fields (or an array)
// with 16-byte moves, and a 16-byte load of data just stored in 8-byte
// halves stalls (the store cannot be forwarded).
type keyRef struct {
	s string
	h uint64
	w [3]uint64
}

// le64 and le32 read 8 and 4 bytes of s at i as a little-endian integer; the
// compiler merges the byte loads into one.
func le64(s string, i int) uint64 {
	b := s[i : i+8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func le32(s string, i int) uint64 {
	b := s[i : i+4]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24
}

// setInline sets q's key block to that of s, a key of at most inlineKey
// bytes, and its fingerprint to 0. It reads s with loads that may overlap
// (the last 8 or 4 bytes shifted into place) instead of a loop over bytes.
func (q *keyRef) setInline(s string) {
	var w0, w1, w2 uint64
	switch n := len(s); {
	case n >= 16:
		w0, w1 = le64(s, 0), le64(s, 8)
		w2 = le64(s, n-8) >> (8 * (24 - n))
	case n >= 8:
		w0 = le64(s, 0)
		w1 = le64(s, n-8) >> (8 * (16 - n))
	case n >= 4:
		w0 = le32(s, 0) | le32(s, n-4)>>(8*(8-n))<<32
	default:
		for i := 0; i < n; i++ {
			w0 |= uint64(s[i]) << (8 * i)
		}
	}
	q.s = s
	q.w[0], q.w[1], q.w[2] = w0, w1, w2|uint64(len(s)+1)<<klShift
}

// mix folds the 128-bit product of a and b (wyhash's mum).
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// ref prepares q for a lookup of key, hashing it: an inline key by two
// seeded multiplications of its block, a longer one by xxhash and one.
func (s *store[S, P]) ref(q *keyRef, key string) {
	if len(key) > inlineKey {
		q.setHash(key, mix(xxhash.Sum64String(key)^s.seed[0], s.seed[1]))
		return
	}
	q.setInline(key)
	h := mix(mix(q.w[0]^s.seed[0], q.w[1]^s.seed[1])^s.seed[2], q.w[2]^s.seed[3])
	q.h = h
	q.w[2] |= uint64(fingerprint(h)) << fpShift
}

// setHash prepares q for a lookup of key with hash h.
func (q *keyRef) setHash(key string, h uint64) {
	if len(key) <= inlineKey {
		q.setInline(key)
	} else {
		q.s, q.w = key, [3]uint64{0, 0, longKey << klShift}
	}
	q.h = h
	q.w[2] |= uint64(fingerprint(h)) << fpShift
}

// is reports whether e holds the key block w (a long key's block matches
// every long key with its fingerprint).
func (e *entry[S, P]) is(w *[3]uint64) bool {
	return e.w2() == w[2] && e.word(0) == w[0] && e.word(1) == w[1]
}

// table is a shard's slots; a doubling replaces it whole.
type table[S, P any] struct {
	slots []entry[S, P] // power-of-two length
	mask  uint32
}

type shard[S, P any] struct {
	// seq is odd while a writer changes the table, and moves with every
	// change: lookups without mu check it before and after finding their
	// entry. tab is the current table. Both change only under mu, so the
	// cache line holding them stays shared while no key is added.
	seq atomic.Uint64
	tab atomic.Pointer[table[S, P]]
	mu  sync.Mutex // serialises writers and lookups of new or long keys
	n   int        // occupied slots
	// long holds, at a slot, its key when longer than inlineKey; nil until
	// the shard sees such a key, then as long as the table. Under mu.
	long    []string
	sweepAt int
	rnd     uint64
	// Pad to 256 bytes: neighbouring shards' hot lines are at least 128
	// bytes apart (the pair of lines the adjacent-line prefetcher fetches).
	_ [256 - 24 - 6*unsafe.Sizeof(uintptr(0))]byte
}

// fingerprint is the part of a key's hash an entry keeps: the low bits
// select the shard, the next 32 the home slot and the fast key check.
func fingerprint(h uint64) uint32 { return uint32(h >> 8) }

// is reports whether slot i of t holds q's key. Under sh.mu.
func (sh *shard[S, P]) is(t *table[S, P], i uint32, q *keyRef) bool {
	e := &t.slots[i]
	return e.is(&q.w) && (e.kl() != longKey || sh.long[i] == q.s)
}

// setKey stores q's key in the free slot i of t. Under sh.mu.
func (sh *shard[S, P]) setKey(t *table[S, P], i uint32, q *keyRef) {
	t.slots[i].setKey(&q.w)
	if len(q.s) <= inlineKey {
		return
	}
	if sh.long == nil {
		sh.long = make([]string, len(t.slots))
	}
	sh.long[i] = strings.Clone(q.s)
}

// move makes slot to (free) hold slot from's key and state and frees from;
// neither slot's lock is held, or moved.
func (sh *shard[S, P]) move(t *table[S, P], to, from uint32) {
	a, b := &t.slots[to], &t.slots[from]
	w := [3]uint64{b.word(0), b.word(1), b.w2()}
	a.setKey(&w)
	a.seen, a.pi, a.st = b.seen, b.pi, b.st
	clearEntry(b)
	if sh.long != nil {
		sh.long[to], sh.long[from] = sh.long[from], ""
	}
}

// clearEntry frees e's slot, except for its lock.
func clearEntry[S, P any](e *entry[S, P]) {
	var zero [3]uint64
	e.setKey(&zero)
	var st S
	e.seen, e.pi, e.st = 0, 0, st
}

// freeSlot returns the first free slot of fp's probe sequence in t.
func freeSlot[S, P any](t *table[S, P], fp uint32) uint32 {
	p := fp & t.mask
	for !t.slots[p].free() {
		p = (p + 1) & t.mask
	}
	return p
}

// resize rehashes the shard into a new table of size slots and publishes
// it. Under sh.mu, with seq odd; old entries are waited for, so none is
// being changed while it is copied.
func (sh *shard[S, P]) resize(size int) {
	old, oldLong := sh.tab.Load(), sh.long
	t := &table[S, P]{slots: make([]entry[S, P], size), mask: uint32(size - 1)}
	sh.long = nil
	if oldLong != nil {
		sh.long = make([]string, size)
	}
	if old != nil {
		for i := range old.slots {
			e := &old.slots[i]
			if e.free() {
				continue
			}
			e.wait()
			p := freeSlot(t, e.fp())
			// t is not published yet: plain stores would do, but the
			// key words are atomic everywhere else.
			n := &t.slots[p]
			w := [3]uint64{e.word(0), e.word(1), e.w2()}
			n.setKey(&w)
			n.seen, n.pi, n.st = e.seen, e.pi, e.st
			if oldLong != nil {
				sh.long[p] = oldLong[i]
			}
		}
	}
	sh.tab.Store(t)
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
	s.def = def
	s.pols = []*P{def}
	s.over = make(map[string]uint32, len(over))
	for k, p := range over {
		s.over[k] = uint32(len(s.pols))
		s.pols = append(s.pols, p)
	}
	for i := range s.seed {
		s.seed[i] = rand.Uint64()
	}
}

// lookup returns key's entry, creating it if needed, locked (the caller
// unlocks e.mu), and its policy. Cost: one hash of the key and, for a key
// not in cache, one cache miss; creating a key may sweep, evict or double
// the table (amortised O(1)).
func (s *store[S, P]) lookup(key string, now int64) (*entry[S, P], *P) {
	var q keyRef
	s.ref(&q, key)
	return s.lookupRef(&q, now)
}

// lookupHash is lookup with the hash h (for tests forcing collisions).
func (s *store[S, P]) lookupHash(key string, h uint64, now int64) (*entry[S, P], *P) {
	var q keyRef
	q.setHash(key, h)
	return s.lookupRef(&q, now)
}

func (s *store[S, P]) lookupRef(q *keyRef, now int64) (*entry[S, P], *P) {
	sh := &s.shards[q.h&s.mask]
	e := sh.fast(q)
	if e == nil {
		e = s.slow(sh, q, now)
	}
	if at := seenAt(now); e.seen != at {
		e.seen = at
	}
	return e, s.pols[e.pi]
}

// fast finds q's entry without the shard's mutex and returns it locked, or
// nil if it is not there, its key is long, or a writer changed the table
// meanwhile (then the caller retries under the mutex).
func (sh *shard[S, P]) fast(q *keyRef) *entry[S, P] {
	seq := sh.seq.Load()
	if seq&1 != 0 || q.w[2]>>klShift&0xff == longKey {
		return nil
	}
	t := sh.tab.Load()
	// At most a table's worth of probes: a table changing under the probe
	// might otherwise never show it a free slot.
	for i, p := 0, fingerprint(q.h)&t.mask; i < len(t.slots); i, p = i+1, (p+1)&t.mask {
		e := &t.slots[p]
		if e.is(&q.w) {
			e.mu.Lock()
			if sh.seq.Load() == seq {
				return e
			}
			e.mu.Unlock()
			return nil
		}
		if e.free() {
			return nil
		}
	}
	return nil
}

// slow is lookup under the shard's mutex: it finds q's entry or inserts
// it, and returns it locked.
func (s *store[S, P]) slow(sh *shard[S, P], q *keyRef, now int64) *entry[S, P] {
	sh.mu.Lock()
	e := sh.find(q)
	if e == nil {
		sh.seq.Add(1)
		e = s.insert(sh, q, now)
		sh.seq.Add(1)
	}
	e.mu.Lock()
	sh.mu.Unlock()
	return e
}

// find returns q's entry, or nil. Under sh.mu.
func (sh *shard[S, P]) find(q *keyRef) *entry[S, P] {
	t := sh.tab.Load()
	for p := fingerprint(q.h) & t.mask; ; p = (p + 1) & t.mask {
		if sh.is(t, p, q) {
			return &t.slots[p]
		}
		if t.slots[p].free() {
			return nil
		}
	}
}

// insert adds q's key. Under sh.mu, with seq odd.
func (s *store[S, P]) insert(sh *shard[S, P], q *keyRef, now int64) *entry[S, P] {
	switch {
	case s.perShard > 0 && sh.n >= s.perShard:
		s.evict(sh, now)
	case s.perShard == 0 && sh.n >= sh.sweepAt:
		s.sweep(sh, now)
	}
	if t := sh.tab.Load(); 4*(sh.n+1) > 3*len(t.slots) {
		sh.resize(2 * len(t.slots))
	}
	pi := uint32(0)
	if len(s.over) > 0 {
		if i, ok := s.over[q.s]; ok {
			pi = i
		}
	}
	t := sh.tab.Load()
	i := freeSlot(t, fingerprint(q.h))
	sh.setKey(t, i, q)
	sh.n++
	e := &t.slots[i]
	e.seen = seenAt(now)
	e.pi = pi
	s.reset(&e.st, s.pols[pi], now)
	return e
}

// remove frees slot i, shifting back the entries after it that would
// otherwise become unreachable. An entry at or after i may move to a lower
// slot (cyclically), never past a free slot. Under sh.mu, with seq odd.
func (s *store[S, P]) remove(sh *shard[S, P], i uint32) {
	t := sh.tab.Load()
	hole := i
	t.slots[hole].wait()
	clearEntry(&t.slots[hole])
	if sh.long != nil {
		sh.long[hole] = ""
	}
	for j := (hole + 1) & t.mask; !t.slots[j].free(); j = (j + 1) & t.mask {
		// Slot j may fill the hole unless its home lies cyclically in
		// (hole, j].
		k := t.slots[j].fp() & t.mask
		if (j-k)&t.mask >= (j-hole)&t.mask {
			t.slots[j].wait()
			sh.move(t, hole, j)
			hole = j
		}
	}
	sh.n--
}

// sweep removes every idle entry of an unbounded shard not used for
// sweepGrace and sets the next sweep at twice the survivors, so sweeping
// costs O(1) amortised per insert. After a removal it looks at the same slot
// again, which may now hold a shifted entry; a shift across the end of the
// table may make it look at an entry twice, which is harmless. Under sh.mu,
// with seq odd.
func (s *store[S, P]) sweep(sh *shard[S, P], now int64) {
	t := sh.tab.Load()
	for i := uint32(0); int(i) < len(t.slots); {
		e := &t.slots[i]
		if !e.free() {
			e.wait()
			if e.age(now) >= sweepGrace && s.idle(&e.st, s.pols[e.pi], now) {
				s.remove(sh, i)
				continue
			}
		}
		i++
	}
	sh.sweepAt = max(minSweep, 2*sh.n)
}

// evict frees one slot of a full shard: the first idle entry among the
// first evictSample entries from a random slot on, else the least recently
// used of them. Under sh.mu, with seq odd.
func (s *store[S, P]) evict(sh *shard[S, P], now int64) {
	t := sh.tab.Load()
	sh.rnd ^= sh.rnd << 13
	sh.rnd ^= sh.rnd >> 7
	sh.rnd ^= sh.rnd << 17
	p := uint32(sh.rnd) & t.mask
	victim, found := uint32(0), false
	var oldest int64
	for k := 0; k < evictSample && k < sh.n; p = (p + 1) & t.mask {
		e := &t.slots[p]
		if e.free() {
			continue
		}
		k++
		e.wait()
		if s.idle(&e.st, s.pols[e.pi], now) {
			victim, found = p, true
			break
		}
		if age := e.age(now); !found || age > oldest {
			victim, oldest, found = p, age, true
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
