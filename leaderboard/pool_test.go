package leaderboard

import "testing"

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
