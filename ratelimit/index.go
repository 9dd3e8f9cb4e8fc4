package ratelimit

// index maps a key's 64-bit hash to the position of its entry in a shard,
// by linear probing in a power-of-two table kept at most half full. Keys
// whose hashes are equal simply occupy several slots with the same hash; the
// caller tells them apart by comparing keys. Deleting shifts the following
// run back (no tombstones), so probes stay short however keys churn.
//
// The shard's low hash bits pick the shard, so the index probes from bit 8
// up. Cost: O(1) expected per operation; the table doubles when half full
// and never shrinks, so its size follows the shard's peak key count.
type index struct {
	slots []slot
	mask  uint64
	n     int
}

type slot struct {
	hash uint64
	pos  int // entry position + 1; 0 marks an empty slot
}

func (x *index) init(size int) {
	x.slots = make([]slot, size)
	x.mask = uint64(size - 1)
	x.n = 0
}

func (x *index) home(h uint64) uint64 { return (h >> 8) & x.mask }

func (x *index) insert(h uint64, pos int) {
	if 2*(x.n+1) > len(x.slots) {
		old := x.slots
		x.init(2 * len(old))
		for _, sl := range old {
			if sl.pos != 0 {
				x.put(sl)
			}
		}
	}
	x.put(slot{hash: h, pos: pos + 1})
}

func (x *index) put(sl slot) {
	p := x.home(sl.hash)
	for x.slots[p].pos != 0 {
		p = (p + 1) & x.mask
	}
	x.slots[p] = sl
	x.n++
}

// find returns the slot index holding (h, pos).
func (x *index) find(h uint64, pos int) uint64 {
	p := x.home(h)
	for x.slots[p].hash != h || x.slots[p].pos != pos+1 {
		p = (p + 1) & x.mask
	}
	return p
}

// move repoints the slot of (h, from) to position to.
func (x *index) move(h uint64, from, to int) {
	x.slots[x.find(h, from)].pos = to + 1
}

// remove deletes (h, pos), shifting back the slots after it that would
// otherwise become unreachable.
func (x *index) remove(h uint64, pos int) {
	hole := x.find(h, pos)
	for j := (hole + 1) & x.mask; x.slots[j].pos != 0; j = (j + 1) & x.mask {
		// Slot j may fill the hole unless its home lies cyclically in
		// (hole, j].
		k := x.home(x.slots[j].hash)
		if (j-k)&x.mask >= (j-hole)&x.mask {
			x.slots[hole] = x.slots[j]
			hole = j
		}
	}
	x.slots[hole] = slot{}
	x.n--
}
