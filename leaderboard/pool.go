package leaderboard

import "math/bits"

// Pool chunks grow from 1<<poolMinShift values, doubling, to 1<<poolShift
// values, then stay at that size: small boards stay small and big ones
// never copy.
const (
	poolMinShift = 4
	poolShift    = 10
	poolSmall    = 1<<(poolShift+1) - 1<<poolMinShift // indices held by the growing chunks
	poolGrowing  = poolShift - poolMinShift + 1       // number of growing chunks
)

// pool is a chunked arena of T addressed by uint32 index, with a free list.
// Chunks never move once allocated, so a *T stays valid while the pool grows,
// and growth never copies the existing values (a 25M-member board would
// otherwise briefly need twice its memory on every doubling).
//
// Once a pool holds slabBytes (or, when small is set, smallSlabFrom), its
// chunks are carved from slabs of about slabBytes (smallSlabBytes)
// allocated with hugeSlice, so a big board's nodes sit on huge pages;
// small pools never allocate a slab.
type pool[T any] struct {
	chunks [][]T
	n      uint32   // indices handed out so far
	free   []uint32 // released indices, reused first
	slab   []T      // the uncarved rest of the current slab
	small  bool     // slabs from smallSlabFrom, of smallSlabBytes
}

// slabBytes is the pool size from which chunks come from slabs, and the
// size of a slab.
const slabBytes = 32 << 20

// smallSlabFrom and smallSlabBytes are slabBytes for a pool that stays
// small but is read at random on every update: the inner nodes (about 20
// MiB at 25M members, each update reads two of the lowest level), which
// would otherwise miss the TLB on most reads. A slab wastes at most
// smallSlabBytes.
const (
	smallSlabFrom  = 2 << 20
	smallSlabBytes = hugeMin
)

// locate returns the chunk and offset of index i.
func locate(i uint32) (int, uint32) {
	if i >= poolSmall {
		i -= poolSmall
		return poolGrowing + int(i>>poolShift), i & (1<<poolShift - 1)
	}
	c := bits.Len32(i+1<<poolMinShift) - 1 - poolMinShift
	return c, i + 1<<poolMinShift - 1<<(c+poolMinShift)
}

func (p *pool[T]) at(i uint32) *T {
	c, o := locate(i)
	return &p.chunks[c][o]
}

// alloc returns the index of a zeroed T.
func (p *pool[T]) alloc() uint32 {
	if k := len(p.free); k > 0 {
		i := p.free[k-1]
		p.free = p.free[:k-1]
		var zero T
		*p.at(i) = zero
		return i
	}
	if c, _ := locate(p.n); c == len(p.chunks) {
		size := 1 << poolShift
		if c < poolGrowing {
			size = 1 << (c + poolMinShift)
		}
		p.chunks = append(p.chunks, p.chunk(size))
	}
	i := p.n
	p.n++
	return i
}

// chunk returns a new zeroed chunk of size values.
func (p *pool[T]) chunk(size int) []T {
	sz := sizeOf[T]()
	from, slab := slabBytes, slabBytes
	if p.small {
		from, slab = smallSlabFrom, smallSlabBytes
	}
	if int(p.n)*sz < from {
		return make([]T, size)
	}
	if len(p.slab) < size {
		p.slab = hugeSlice[T](max(size, slab/sz/size*size))
	}
	c := p.slab[:size:size]
	p.slab = p.slab[size:]
	return c
}

func (p *pool[T]) release(i uint32) { p.free = append(p.free, i) }

// inUse is the number of live values.
func (p *pool[T]) inUse() int { return int(p.n) - len(p.free) }
