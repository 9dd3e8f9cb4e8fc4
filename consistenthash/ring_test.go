package consistenthash

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr error
	}{
		{name: "zero", cfg: Config{}},
		{name: "bounded", cfg: Config{LoadFactor: 1.25}},
		{name: "one vnode", cfg: Config{VirtualNodes: 1}},
		{name: "max vnodes", cfg: Config{VirtualNodes: MaxPoints}},
		{name: "negative vnodes", cfg: Config{VirtualNodes: -1}, wantErr: ErrInvalidConfig},
		{name: "too many vnodes", cfg: Config{VirtualNodes: MaxPoints + 1}, wantErr: ErrInvalidConfig},
		{name: "load factor 1", cfg: Config{LoadFactor: 1}, wantErr: ErrInvalidConfig},
		{name: "load factor below 1", cfg: Config{LoadFactor: 0.5}, wantErr: ErrInvalidConfig},
		{name: "negative load factor", cfg: Config{LoadFactor: -2}, wantErr: ErrInvalidConfig},
		{name: "NaN load factor", cfg: Config{LoadFactor: math.NaN()}, wantErr: ErrInvalidConfig},
		{name: "infinite load factor", cfg: Config{LoadFactor: math.Inf(1)}, wantErr: ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.cfg)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				require.Nil(t, r)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, r)
		})
	}
}

func TestRingErrors(t *testing.T) {
	r, err := New(Config{VirtualNodes: 10})
	require.NoError(t, err)

	_, err = r.Get([]byte("k"))
	require.ErrorIs(t, err, ErrEmpty)
	dst, err := r.GetN([]byte("k"), 2, nil)
	require.ErrorIs(t, err, ErrEmpty)
	require.Empty(t, dst)
	_, err = r.Acquire([]byte("k"))
	require.ErrorIs(t, err, ErrEmpty)
	require.Empty(t, r.Nodes())

	require.ErrorIs(t, r.Remove("a"), ErrUnknownNode)
	require.ErrorIs(t, r.Add("", 1), ErrInvalidNode)
	require.ErrorIs(t, r.Add("a", 0), ErrInvalidWeight)
	require.ErrorIs(t, r.Add("a", -3), ErrInvalidWeight)
	require.ErrorIs(t, r.Add("a", MaxPoints/10+1), ErrInvalidWeight)
	require.ErrorIs(t, r.Add("a", math.MaxInt), ErrInvalidWeight)
	require.Empty(t, r.Nodes(), "failed Adds must not change the ring")

	require.ErrorIs(t, r.AddAll(map[string]int{"a": 1, "b": 0}), ErrInvalidWeight)
	require.ErrorIs(t, r.AddAll(map[string]int{"a": 1, "": 1}), ErrInvalidNode)
	require.NoError(t, r.AddAll(nil))
	require.Empty(t, r.Nodes(), "failed AddAlls must not change the ring")

	require.NoError(t, r.Add("a", 1))
	require.ErrorIs(t, r.Add("a", 2), ErrDuplicateNode)
	require.ErrorIs(t, r.AddAll(map[string]int{"c": 1, "a": 1}), ErrDuplicateNode)
	require.Equal(t, []string{"a"}, r.Nodes())
	require.Equal(t, 1, r.Weight("a"))
	require.Equal(t, 0, r.Weight("b"))
	_, err = r.GetN([]byte("k"), -1, nil)
	require.ErrorIs(t, err, ErrInvalidCount)

	// One node owns everything; GetN is capped at the number of nodes; 0 appends nothing.
	for _, k := range []string{"", "x", "a much longer key than the others"} {
		got, err := r.Get([]byte(k))
		require.NoError(t, err)
		require.Equal(t, "a", got)
	}
	dst, err = r.GetN([]byte("k"), 5, []string{"keep"})
	require.NoError(t, err)
	require.Equal(t, []string{"keep", "a"}, dst)
	dst, err = r.GetN([]byte("k"), 0, nil)
	require.NoError(t, err)
	require.Empty(t, dst)

	require.NoError(t, r.Remove("a"))
	_, err = r.Get([]byte("k"))
	require.ErrorIs(t, err, ErrEmpty)
}

func TestRingPointLimit(t *testing.T) {
	r, err := New(Config{VirtualNodes: MaxPoints})
	require.NoError(t, err)
	require.ErrorIs(t, r.Add("a", 2), ErrInvalidWeight)
	require.Empty(t, r.Nodes())
}

func TestGetNDistinctAndLarge(t *testing.T) {
	r, err := New(Config{VirtualNodes: 20})
	require.NoError(t, err)
	for i := range 40 {
		require.NoError(t, r.Add(fmt.Sprintf("node-%02d", i), 1+i%3))
	}
	for _, n := range []int{1, 3, 8, 9, 40, 100} {
		got, err := r.GetN([]byte("some key"), n, nil)
		require.NoError(t, err)
		require.Len(t, got, min(n, 40))
		seen := map[string]bool{}
		for _, g := range got {
			require.False(t, seen[g], "duplicate %s in GetN(%d)", g, n)
			seen[g] = true
		}
		first, err := r.Get([]byte("some key"))
		require.NoError(t, err)
		require.Equal(t, first, got[0])
	}
}

func TestLookupsDoNotAllocate(t *testing.T) {
	r, err := New(Config{})
	require.NoError(t, err)
	rv := NewRendezvous(nil)
	for i := range 10 {
		require.NoError(t, r.Add(fmt.Sprintf("node-%d", i), 1))
		require.NoError(t, rv.Add(fmt.Sprintf("node-%d", i), 1+i%2))
	}
	key := []byte("user:12345")
	skey := "user:12345"
	dst := make([]string, 0, 8)
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = r.Get(key)
		_, _ = r.GetString(skey)
		dst, _ = r.GetN(key, 3, dst[:0])
		_, _ = rv.Get(key)
		dst, _ = rv.GetN(key, 3, dst[:0])
		_ = Jump(12345, 100)
	})
	require.Zero(t, allocs)
}

// TestConcurrentReadersAndWriters is for the race detector: lookups run while nodes come
// and go and loads are acquired, and every answer is a node that existed at some point.
func TestConcurrentReadersAndWriters(t *testing.T) {
	r, err := New(Config{VirtualNodes: 20, LoadFactor: 1.25})
	require.NoError(t, err)
	rv := NewRendezvous(nil)
	names := map[string]bool{}
	for i := range 8 {
		names[fmt.Sprintf("n%d", i)] = true
	}
	require.NoError(t, r.Add("n0", 1))
	require.NoError(t, rv.Add("n0", 1))
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dst := make([]string, 0, 3)
			for i := range 2000 {
				key := []byte(fmt.Sprint(g, i))
				for _, get := range []func([]byte) (string, error){r.Get, rv.Get, r.Acquire} {
					got, err := get(key)
					if err == nil && !names[got] {
						errs <- fmt.Errorf("unknown node %q", got)
						return
					}
				}
				dst, _ = r.GetN(key, 3, dst[:0])
				dst, _ = rv.GetN(key, 3, dst[:0])
				if i%3 == 0 {
					r.Release("n1")
				}
			}
		}()
	}
	for i := range 200 {
		n := fmt.Sprintf("n%d", 1+i%7)
		if i%14 < 7 {
			require.NoError(t, r.Add(n, 1+i%2))
			require.NoError(t, rv.Add(n, 1+i%2))
		} else {
			require.NoError(t, r.Remove(n))
			require.NoError(t, rv.Remove(n))
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestRendezvousErrorsAndZeroValue(t *testing.T) {
	var rv Rendezvous
	_, err := rv.Get([]byte("k"))
	require.ErrorIs(t, err, ErrEmpty)
	_, err = rv.GetN([]byte("k"), 1, nil)
	require.ErrorIs(t, err, ErrEmpty)
	require.Empty(t, rv.Nodes())
	require.ErrorIs(t, rv.Remove("a"), ErrUnknownNode)
	require.ErrorIs(t, rv.Add("", 1), ErrInvalidNode)
	require.ErrorIs(t, rv.Add("a", 0), ErrInvalidWeight)
	require.NoError(t, rv.Add("a", 1))
	require.NoError(t, rv.Add("b", 1))
	require.ErrorIs(t, rv.Add("a", 1), ErrDuplicateNode)
	require.Equal(t, []string{"a", "b"}, rv.Nodes())
	_, err = rv.GetN([]byte("k"), -1, nil)
	require.ErrorIs(t, err, ErrInvalidCount)
	got, err := rv.GetN([]byte("k"), 9, nil)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"a", "b"}, got)
}

// TestZeroRing: the zero Ring behaves as New(Config{}).
func TestZeroRing(t *testing.T) {
	var zero Ring
	_, err := zero.Get([]byte("k"))
	require.ErrorIs(t, err, ErrEmpty)
	_, err = zero.Acquire([]byte("k"))
	require.ErrorIs(t, err, ErrEmpty)
	zero.Release("a")
	require.Zero(t, zero.Load("a"))
	require.ErrorIs(t, zero.Remove("a"), ErrUnknownNode)
	r, err := New(Config{})
	require.NoError(t, err)
	for _, n := range []string{"a", "b", "c"} {
		require.NoError(t, zero.Add(n, 2))
		require.NoError(t, r.Add(n, 2))
	}
	for i := range 1000 {
		k := []byte(fmt.Sprint(i))
		want, err := r.Get(k)
		require.NoError(t, err)
		got, err := zero.Get(k)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
}
