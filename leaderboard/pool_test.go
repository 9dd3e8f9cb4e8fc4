package leaderboard

import (
	"testing"
	"unsafe"
)

func TestPoolLocate(t *testing.T) {
	var p pool[uint32]
	seen := map[*uint32]bool{}
	for i := uint32(0); i < 20000; i++ {
		if got := p.alloc(); got != i {
			t.Fatalf("alloc = %d, want %d", got, i)
		}
		v := p.at(i)
		if seen[v] {
			t.Fatalf("index %d shares a slot", i)
		}
		seen[v] = true
		*v = i
	}
	for i := uint32(0); i < 20000; i++ {
		if *p.at(i) != i {
			t.Fatalf("slot %d holds %d", i, *p.at(i))
		}
	}
}

func TestSearchGE(t *testing.T) {
	for n := 0; n <= 70; n++ {
		xs := make([]uint64, n)
		for i := range xs {
			xs[i] = uint64(2 * (i / 3)) // runs of equal values
		}
		for v := uint64(0); v <= uint64(2*n/3+3); v++ {
			want := 0
			for want < n && xs[want] < v {
				want++
			}
			if got := searchGE(xs, v); got != want {
				t.Fatalf("n=%d v=%d: got %d, want %d", n, v, got, want)
			}
			if n > leafCap {
				continue
			}
			f := fencesOf(xs)
			if got := searchFenced(&f, xs, v); got != want {
				t.Fatalf("fenced n=%d v=%d: got %d, want %d", n, v, got, want)
			}
		}
	}
}

// TestNodeLayout guards the cache-line layout the searches and warming
// count on: whole lines per node, n and the fences in the first line, and
// blocks of keys starting lines.
func TestNodeLayout(t *testing.T) {
	var lf leafNode
	var in innerNode
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"leaf size", unsafe.Sizeof(lf) % 64, 0},
		{"leaf s", unsafe.Offsetof(lf.s), 8 + unsafe.Sizeof(lf.f)},
		{"leaf s line", unsafe.Offsetof(lf.s) % 64, 0},
		{"leaf t", unsafe.Offsetof(lf.t) % 64, 0},
		{"leaf id", unsafe.Offsetof(lf.id) % 64, 0},
		{"inner size", unsafe.Sizeof(in) % 64, 0},
		{"inner s", unsafe.Offsetof(in.s), 8 + unsafe.Sizeof(in.f)},
		{"inner s line", unsafe.Offsetof(in.s) % 64, 0},
		{"inner child", unsafe.Offsetof(in.child) % 64, 0},
		{"inner cnt", unsafe.Offsetof(in.cnt) % 64, 0},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
}

// TestPoolSlabs grows a pool past slabBytes, where its chunks come from
// huge-page slabs, and checks that every value keeps its own slot.
func TestPoolSlabs(t *testing.T) {
	type big [4096]byte
	var p pool[big]
	n := uint32(slabBytes/4096 + 3000) // well into the second slab
	for i := uint32(0); i < n; i++ {
		if got := p.alloc(); got != i {
			t.Fatalf("alloc = %d, want %d", got, i)
		}
		v := p.at(i)
		v[0], v[4095] = byte(i), byte(i>>8)
	}
	for i := uint32(0); i < n; i++ {
		if v := p.at(i); v[0] != byte(i) || v[4095] != byte(i>>8) {
			t.Fatalf("slot %d overwritten", i)
		}
	}
	if p.slab == nil {
		t.Fatal("no slab allocated")
	}
}

// TestPoolSmallSlabs grows a pool of inner nodes, whose slabs start at
// smallSlabFrom, past that size, and checks every node keeps its own slot.
func TestPoolSmallSlabs(t *testing.T) {
	p := pool[innerNode]{small: true}
	n := uint32(2 * smallSlabFrom / int(unsafe.Sizeof(innerNode{})))
	for i := uint32(0); i < n; i++ {
		if got := p.alloc(); got != i {
			t.Fatalf("alloc = %d, want %d", got, i)
		}
		p.at(i).n = int(i)
	}
	for i := uint32(0); i < n; i++ {
		if p.at(i).n != int(i) {
			t.Fatalf("node %d overwritten", i)
		}
	}
	if p.slab == nil {
		t.Fatal("no slab allocated")
	}
}

// TestMemberSlabs stores more than slabBytes of members, so later member
// chunks are carved from slabs, then removes half of them to force a
// compaction, checking every member and rank on the way.
func TestMemberSlabs(t *testing.T) {
	b := New()
	n := slabBytes/MaxMemberLen + 8
	pattern := make([]byte, 2*MaxMemberLen)
	for j := range pattern {
		pattern[j] = byte(j % 251)
	}
	member := func(i int) string { return string(pattern[i : i+MaxMemberLen-i]) }
	for i := 0; i < n; i++ {
		if _, err := b.Add(member(i), float64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if b.ms.slab == nil {
		t.Fatal("no member slab allocated")
	}
	for i := 0; i < n; i += 2 {
		b.Remove(member(i))
	}
	if b.ms.stored > (n/2+1)*MaxMemberLen { // compaction keeps only the live bytes
		t.Fatalf("no compaction: %d bytes stored", b.ms.stored)
	}
	for i := 1; i < n; i += 2 {
		if r, ok := b.Rank(member(i)); !ok || r != (n-1-i)/2 {
			t.Fatalf("Rank(member %d) = %d, %v; want %d", i, r, ok, (n-1-i)/2)
		}
	}
	if err := b.check(); err != nil {
		t.Fatal(err)
	}
}
