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
