package orderbook

import (
	"math"
	"math/bits"

	"github.com/google/btree"
)

// DefaultWindow is the number of ticks each side indexes directly when
// Config.Window is zero.
const DefaultWindow = 4096

const (
	minWindow = 64
	maxWindow = 1 << 18 // three 64-ary bitmap levels
)

// farLevel is a level outside the direct-indexed window, kept in a B-tree.
type farLevel struct {
	price int64
	lv    int32
}

func farLess(a, b farLevel) bool { return a.price < b.price }

// ladder indexes one side's price levels. A window of 0 ticks keeps every
// level in the B-tree (used to measure the two designs against each other). Prices inside a window of w ticks
// starting at base are found by direct indexing (slots) and ordered by a
// three-level bitmap, so finding, adding and removing a level and finding
// the next best level are O(1). Prices outside the window live in a B-tree
// (O(log n)); the window is re-centred on the next new level whenever it
// holds no level, so a book whose prices drift keeps its hot levels in the
// window. The best level is cached.
type ladder struct {
	bids  bool // best is the highest price
	base  int64
	w     int
	slots []int32 // level index per tick offset; 0 = none
	l0    []uint64
	l1    []uint64
	l2    uint64
	inWin int // levels inside the window
	far   *btree.BTreeG[farLevel]

	best      int32 // cached best level; 0 = side empty
	bestPrice int64

	// found/hit receive the first item of a B-tree scan; findFn is built
	// once so scans do not allocate a closure per call.
	found  farLevel
	hit    bool
	findFn func(farLevel) bool
}

func newLadder(bids bool, w int, fl *btree.FreeListG[farLevel]) *ladder {
	l := &ladder{
		bids:  bids,
		base:  1,
		w:     w,
		slots: make([]int32, w),
		l0:    make([]uint64, w/64),
		l1:    make([]uint64, (w+4095)/4096),
		far:   btree.NewWithFreeListG(16, farLess, fl),
	}
	l.findFn = func(f farLevel) bool {
		l.found, l.hit = f, true
		return false
	}
	return l
}

// len returns the number of levels on this side.
func (l *ladder) len() int { return l.inWin + l.far.Len() }

func (l *ladder) inWindow(price int64) bool {
	return price >= l.base && price-l.base < int64(l.w)
}

// better reports whether price a has priority over price b on this side.
func (l *ladder) better(a, b int64) bool {
	if l.bids {
		return a > b
	}
	return a < b
}

// get returns the level at price, or 0.
func (l *ladder) get(price int64) int32 {
	if l.inWindow(price) {
		return l.slots[price-l.base]
	}
	if l.far.Len() == 0 {
		return 0
	}
	f, ok := l.far.Get(farLevel{price: price})
	if !ok {
		return 0
	}
	return f.lv
}

// insert adds level lv at price, which must not be present.
func (l *ladder) insert(price int64, lv int32) {
	if l.w > 0 && l.inWin == 0 && !l.inWindow(price) {
		l.rebase(price)
	}
	if l.inWindow(price) {
		l.setSlot(int(price-l.base), lv)
	} else {
		l.far.ReplaceOrInsert(farLevel{price: price, lv: lv})
	}
	if l.best == 0 || l.better(price, l.bestPrice) {
		l.best, l.bestPrice = lv, price
	}
}

// remove deletes the level at price, which must be present.
func (l *ladder) remove(price int64) {
	if l.inWindow(price) {
		l.clearSlot(int(price - l.base))
	} else {
		l.far.Delete(farLevel{price: price})
	}
	if price == l.bestPrice {
		l.best, l.bestPrice = l.extreme()
	}
}

// extreme finds the best level from scratch: O(1) in the window plus
// O(log n) in the B-tree when it is not empty.
func (l *ladder) extreme() (int32, int64) {
	var lv int32
	var price int64
	if l.inWin > 0 {
		var off int
		if l.bids {
			off = l.prevSet(l.w - 1)
		} else {
			off = l.nextSet(0)
		}
		lv, price = l.slots[off], l.base+int64(off)
	}
	if l.far.Len() > 0 {
		var f farLevel
		if l.bids {
			f, _ = l.far.Max()
		} else {
			f, _ = l.far.Min()
		}
		if lv == 0 || l.better(f.price, price) {
			lv, price = f.lv, f.price
		}
	}
	return lv, price
}

// next returns the best level strictly worse than price, or 0.
func (l *ladder) next(price int64) (int32, int64) {
	var lv int32
	var p int64
	w := int64(l.w)
	if l.bids {
		if l.inWin > 0 && price > l.base {
			start := price - l.base - 1
			if start > w-1 {
				start = w - 1
			}
			if off := l.prevSet(int(start)); off >= 0 {
				lv, p = l.slots[off], l.base+int64(off)
			}
		}
		if l.far.Len() > 0 && price > math.MinInt64 {
			l.hit = false
			l.far.DescendLessOrEqual(farLevel{price: price - 1}, l.findFn)
			if l.hit && (lv == 0 || l.found.price > p) {
				lv, p = l.found.lv, l.found.price
			}
		}
		return lv, p
	}
	if l.inWin > 0 && price < l.base+w-1 {
		start := price - l.base + 1
		if start < 0 {
			start = 0
		}
		if off := l.nextSet(int(start)); off >= 0 {
			lv, p = l.slots[off], l.base+int64(off)
		}
	}
	if l.far.Len() > 0 && price < math.MaxInt64 {
		l.hit = false
		l.far.AscendGreaterOrEqual(farLevel{price: price + 1}, l.findFn)
		if l.hit && (lv == 0 || l.found.price < p) {
			lv, p = l.found.lv, l.found.price
		}
	}
	return lv, p
}

// rebase centres an empty window on price and moves the B-tree levels that
// fall inside the new window into it.
func (l *ladder) rebase(price int64) {
	half := int64(l.w / 2)
	base := int64(1)
	if price > half {
		base = price - half
	}
	if limit := math.MaxInt64 - int64(l.w) + 1; base > limit {
		base = limit
	}
	l.base = base
	for l.far.Len() > 0 {
		l.hit = false
		l.far.AscendGreaterOrEqual(farLevel{price: base}, l.findFn)
		if !l.hit || !l.inWindow(l.found.price) {
			return
		}
		l.far.Delete(l.found)
		l.setSlot(int(l.found.price-base), l.found.lv)
	}
}

func (l *ladder) setSlot(off int, lv int32) {
	l.slots[off] = lv
	l.inWin++
	w := off >> 6
	l.l0[w] |= 1 << uint(off&63)
	l.l1[w>>6] |= 1 << uint(w&63)
	l.l2 |= 1 << uint(w>>6)
}

func (l *ladder) clearSlot(off int) {
	l.slots[off] = 0
	l.inWin--
	w := off >> 6
	l.l0[w] &^= 1 << uint(off&63)
	if l.l0[w] != 0 {
		return
	}
	g := w >> 6
	l.l1[g] &^= 1 << uint(w&63)
	if l.l1[g] == 0 {
		l.l2 &^= 1 << uint(g)
	}
}

// prevSet returns the greatest occupied offset <= off, or -1.
func (l *ladder) prevSet(off int) int {
	w := off >> 6
	if m := l.l0[w] & (^uint64(0) >> uint(63-off&63)); m != 0 {
		return w<<6 | (63 - bits.LeadingZeros64(m))
	}
	g := w >> 6
	if m := l.l1[g] & (1<<uint(w&63) - 1); m != 0 {
		w = g<<6 | (63 - bits.LeadingZeros64(m))
		return w<<6 | (63 - bits.LeadingZeros64(l.l0[w]))
	}
	if m := l.l2 & (1<<uint(g) - 1); m != 0 {
		g = 63 - bits.LeadingZeros64(m)
		w = g<<6 | (63 - bits.LeadingZeros64(l.l1[g]))
		return w<<6 | (63 - bits.LeadingZeros64(l.l0[w]))
	}
	return -1
}

// nextSet returns the smallest occupied offset >= off, or -1.
func (l *ladder) nextSet(off int) int {
	w := off >> 6
	if m := l.l0[w] & (^uint64(0) << uint(off&63)); m != 0 {
		return w<<6 | bits.TrailingZeros64(m)
	}
	g := w >> 6
	if m := l.l1[g] & (^uint64(0) << uint(w&63) << 1); m != 0 {
		w = g<<6 | bits.TrailingZeros64(m)
		return w<<6 | bits.TrailingZeros64(l.l0[w])
	}
	if m := l.l2 & (^uint64(0) << uint(g) << 1); m != 0 {
		g = bits.TrailingZeros64(m)
		w = g<<6 | bits.TrailingZeros64(l.l1[g])
		return w<<6 | bits.TrailingZeros64(l.l0[w])
	}
	return -1
}
