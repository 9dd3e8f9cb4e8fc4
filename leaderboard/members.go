package leaderboard

import (
	"github.com/cespare/xxhash/v2"
)

const (
	chunkBits  = 20
	chunkSize  = 1 << chunkBits // max member bytes per arena chunk
	maxChunks  = 1 << (32 - chunkBits)
	freeMark   = ^uint32(0) // entry.n of a released entry
	minTable   = 16
	loadNum    = 3 // grow the index when count > len(table) * loadNum / loadDen
	loadDen    = 4
	noID       = ^uint32(0)
	maxMembers = 1<<32 - 2
)

// entry is one member: its sort key and where its bytes live.
type entry struct {
	s   uint64 // order-preserving encoding of the score
	t   uint64 // tie key: member prefix, or ^arrival sequence
	off uint32 // chunk<<chunkBits | position in chunk
	n   uint32 // member length, or freeMark
}

// members owns the member strings and the member -> entry index.
//
// Member bytes live in append-only chunks that hold no pointers, so the
// garbage collector never scans them, and bytes are never overwritten once
// written: strings handed out by view stay immutable. Removed members leave
// garbage that compact reclaims by copying the live bytes to fresh chunks.
//
// The index is open addressing with linear probing over uint64 slots: the
// high 32 bits hold the member's hash, the low 32 bits the entry id + 1
// (0 = empty). Deletion shifts the following slots back, so there are no
// tombstones.
type members struct {
	ents    pool[entry]
	chunks  [][]byte
	garbage int // bytes of removed members still in chunks
	stored  int // bytes in chunks, live and garbage
	table   []uint64
	count   int
	slab    []byte // the uncarved rest of the current member slab
}

func hashOf(m string) uint32 { return uint32(xxhash.Sum64String(m)) }

func (ms *members) bytes(e *entry) []byte {
	c := ms.chunks[e.off>>chunkBits]
	p := e.off & (chunkSize - 1)
	return c[p : p+e.n : p+e.n]
}

// member returns the member of entry id as a string sharing the arena bytes.
func (ms *members) member(id uint32) string { return view(ms.bytes(ms.ents.at(id))) }

// find returns the entry id of m.
func (ms *members) find(m string) (uint32, bool) {
	if ms.count == 0 {
		return 0, false
	}
	return ms.findHash(m, hashOf(m))
}

func (ms *members) findHash(m string, h uint32) (uint32, bool) {
	if ms.count == 0 {
		return 0, false
	}
	mask := uint64(len(ms.table) - 1)
	for i := uint64(h) & mask; ; i = (i + 1) & mask {
		sl := ms.table[i]
		if sl == 0 {
			return 0, false
		}
		if uint32(sl>>32) == h {
			id := uint32(sl) - 1
			e := ms.ents.at(id)
			if int(e.n) == len(m) && string(ms.bytes(e)) == m {
				return id, true
			}
		}
	}
}

// findGuess is findHash for a batch's update, given what warming found
// (nil: nothing): the entry its index probe reached first with m's hash is
// almost always m's, and then its bytes confirm it without probing again.
// That entry was in the index when warming probed, and nothing in a batch
// removes a member, so if its bytes are m it is still m's live entry.
func (ms *members) findGuess(m string, h uint32, g *guess) (uint32, bool) {
	if g != nil && g.id < ms.ents.n {
		if e := ms.ents.at(g.id); int(e.n) == len(m) && string(ms.bytes(e)) == m {
			return g.id, true
		}
	}
	return ms.findHash(m, h)
}

// add stores m, which must not be present and at most chunkSize bytes long,
// and returns its new entry id; false when the arena is full.
func (ms *members) add(m string, h uint32) (uint32, bool) {
	if uint64(ms.count) >= maxMembers {
		return 0, false
	}
	off, ok := ms.store(m)
	if !ok {
		return 0, false
	}
	if (ms.count+1)*loadDen > len(ms.table)*loadNum {
		ms.grow()
	}
	id := ms.ents.alloc()
	e := ms.ents.at(id)
	e.off = off
	e.n = uint32(len(m))
	mask := uint64(len(ms.table) - 1)
	i := uint64(h) & mask
	for ms.table[i] != 0 {
		i = (i + 1) & mask
	}
	ms.table[i] = uint64(h)<<32 | uint64(id+1)
	ms.count++
	return id, true
}

// store appends m's bytes to the arena and returns their location; false
// when all maxChunks chunks are in use.
func (ms *members) store(m string) (uint32, bool) {
	k := len(ms.chunks) - 1
	if k < 0 || len(ms.chunks[k])+len(m) > cap(ms.chunks[k]) {
		// Chunks grow from 4 KiB to chunkSize, so small boards stay small.
		size := 4096
		if k >= 0 {
			size = min(chunkSize, max(size, 2*cap(ms.chunks[k])))
		}
		if k+1 == maxChunks {
			return 0, false
		}
		ms.chunks = append(ms.chunks, ms.chunk(max(size, len(m))))
		k++
	}
	p := len(ms.chunks[k])
	ms.chunks[k] = append(ms.chunks[k], m...)
	ms.stored += len(m)
	return uint32(k)<<chunkBits | uint32(p), true
}

// chunk returns an empty member chunk of capacity size. Full-size chunks of
// a big board are carved from slabBytes slabs on huge pages (see
// hugeSlice).
func (ms *members) chunk(size int) []byte {
	if size != chunkSize || ms.stored < slabBytes {
		return make([]byte, 0, size)
	}
	if len(ms.slab) < size {
		ms.slab = hugeSlice[byte](slabBytes)
	}
	c := ms.slab[:0:size]
	ms.slab = ms.slab[size:]
	return c
}

// unindex removes id (whose member is m, hash h) from the index. The entry
// itself is released separately by release, possibly later.
func (ms *members) unindex(id uint32, h uint32) {
	mask := uint64(len(ms.table) - 1)
	want := uint64(h)<<32 | uint64(id+1)
	i := uint64(h) & mask
	for ms.table[i] != want {
		i = (i + 1) & mask
	}
	// Backward-shift deletion: move later slots of the probe run into the
	// hole when their home slot is not between the hole and themselves.
	for j := (i + 1) & mask; ms.table[j] != 0; j = (j + 1) & mask {
		home := (ms.table[j] >> 32) & mask
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			ms.table[i] = ms.table[j]
			i = j
		}
	}
	ms.table[i] = 0
	ms.count--
}

// release frees entry id and its bytes.
func (ms *members) release(id uint32) {
	e := ms.ents.at(id)
	ms.garbage += int(e.n)
	e.n = freeMark
	ms.ents.release(id)
	if ms.garbage > compactMin && ms.garbage*2 > ms.stored {
		ms.compact()
	}
}

func (ms *members) grow() {
	size := max(minTable, 2*len(ms.table))
	old := ms.table
	ms.table = hugeSlice[uint64](size)
	mask := uint64(size - 1)
	for _, sl := range old {
		if sl == 0 {
			continue
		}
		i := (sl >> 32) & mask
		for ms.table[i] != 0 {
			i = (i + 1) & mask
		}
		ms.table[i] = sl
	}
}

// compact copies the bytes of every unreleased entry to fresh chunks. Old
// chunks stay alive only while a string returned earlier points into them.
func (ms *members) compact() {
	old := ms.chunks
	ms.chunks = nil
	ms.stored, ms.garbage = 0, 0
	for id := uint32(0); id < ms.ents.n; id++ {
		e := ms.ents.at(id)
		if e.n == freeMark {
			continue
		}
		c := old[e.off>>chunkBits]
		p := e.off & (chunkSize - 1)
		// Live bytes fit: they fitted before, and compaction packs them.
		e.off, _ = ms.store(view(c[p : p+e.n]))
	}
}

// memberKey returns the order-preserving 8-byte prefix of m: big-endian,
// zero-padded. Equal prefixes fall back to comparing the whole member.
func memberKey(m string) uint64 {
	var t uint64
	for i := 0; i < 8; i++ {
		t <<= 8
		if i < len(m) {
			t |= uint64(m[i])
		}
	}
	return t
}

// compactMin is the garbage, in bytes, below which compact never runs; a
// variable so tests can exercise compaction on small boards.
var compactMin = chunkSize
