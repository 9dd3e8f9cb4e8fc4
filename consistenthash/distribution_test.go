package consistenthash

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/require"
	"github.com/sysblocks/sysblocks/internal/testseed"
)

// movementKeys is the number of keys the movement and balance tests map: 1M as the issue
// asks with SYSBLOCKS_LONG=1, 100k otherwise so that the race-detector run stays short.
func movementKeys() int {
	if testseed.Long() {
		return 1_000_000
	}
	return 100_000
}

// testKey writes key number i into buf: its 8 little-endian bytes.
func testKey(buf *[8]byte, i int) []byte {
	binary.LittleEndian.PutUint64(buf[:], uint64(i))
	return buf[:]
}

// lookup is any key → node mapping under test.
type lookup func([]byte) (string, error)

func assign(t *testing.T, get lookup, keys int) []string {
	t.Helper()
	out := make([]string, keys)
	var buf [8]byte
	for i := range out {
		n, err := get(testKey(&buf, i))
		require.NoError(t, err)
		out[i] = n
	}
	return out
}

// checkAdd asserts that every key that moved went to added and returns the moved fraction.
func checkAdd(t *testing.T, before, after []string, added string) float64 {
	t.Helper()
	moved := 0
	for i := range before {
		if before[i] != after[i] {
			if after[i] != added {
				t.Fatalf("key %d moved from %s to old node %s", i, before[i], after[i])
			}
			moved++
		}
	}
	return float64(moved) / float64(len(before))
}

// checkRemove asserts that exactly the keys of removed moved.
func checkRemove(t *testing.T, before, after []string, removed string) {
	t.Helper()
	for i := range before {
		if (before[i] == removed) != (before[i] != after[i]) {
			t.Fatalf("key %d: %s before, %s after removing %s", i, before[i], after[i], removed)
		}
	}
}

// TestMovement: adding the (N+1)th node moves about 1/(N+1) of the keys, all to the new
// node; removing a node moves only its keys (and removing the new one restores the old
// mapping). Ring and Rendezvous are checked alike; Jump in TestJumpMovement.
func TestMovement(t *testing.T) {
	keys := movementKeys()
	for _, n := range []int{3, 10, 100} {
		r, err := New(Config{})
		require.NoError(t, err)
		rv := NewRendezvous(nil)
		for i := range n {
			require.NoError(t, r.Add(fmt.Sprintf("node-%d", i), 1))
			require.NoError(t, rv.Add(fmt.Sprintf("node-%d", i), 1))
		}
		for _, impl := range []struct {
			name   string
			get    lookup
			add    func(string, int) error
			remove func(string) error
			// tol is the relative tolerance on the moved fraction, about 4.5 standard
			// deviations: a ring node's share varies by 1/sqrt(160) = 8% plus key
			// sampling; a rendezvous share by key sampling only.
			tol float64
		}{
			{"ring", r.Get, r.Add, r.Remove, 0.35 + samplingTol(keys, n)},
			{"rendezvous", rv.Get, rv.Add, rv.Remove, samplingTol(keys, n)},
		} {
			t.Run(fmt.Sprintf("%s/N=%d", impl.name, n), func(t *testing.T) {
				before := assign(t, impl.get, keys)
				require.NoError(t, impl.add("node-new", 1))
				after := assign(t, impl.get, keys)
				frac := checkAdd(t, before, after, "node-new")
				want := 1 / float64(n+1)
				t.Logf("add node %d: moved %.4f of %d keys (ideal 1/(N+1) = %.4f)", n+1, frac, keys, want)
				require.InEpsilon(t, want, frac, impl.tol)

				require.NoError(t, impl.remove("node-new"))
				restored := assign(t, impl.get, keys)
				for i := range before {
					if before[i] != restored[i] {
						t.Fatalf("key %d: %s before adding and removing node-new, %s after", i, before[i], restored[i])
					}
				}

				require.NoError(t, impl.remove("node-1"))
				checkRemove(t, before, assign(t, impl.get, keys), "node-1")
				require.NoError(t, impl.add("node-1", 1))
			})
		}
	}
}

// samplingTol is 4.5 relative standard deviations of the count of keys, out of keys, that
// land on one node of n+1.
func samplingTol(keys, n int) float64 {
	return 4.5 / math.Sqrt(float64(keys)/float64(n+1))
}

func TestJumpMovement(t *testing.T) {
	keys := movementKeys()
	hashes := make([]uint64, keys)
	var buf [8]byte
	for i := range hashes {
		hashes[i] = xxhash.Sum64(testKey(&buf, i))
	}
	for _, n := range []int{3, 10, 100} {
		moved := 0
		for _, h := range hashes {
			if b := Jump(h, n+1); b != Jump(h, n) {
				require.Equal(t, n, b, "a key moved to an old bucket")
				moved++
			}
		}
		frac, want := float64(moved)/float64(keys), 1/float64(n+1)
		t.Logf("jump %d→%d buckets: moved %.4f (ideal %.4f)", n, n+1, frac, want)
		require.InEpsilon(t, want, frac, samplingTol(keys, n))
	}
}

// relStdDev returns the standard deviation of xs divided by their mean.
func relStdDev(xs []float64) float64 {
	var mean float64
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return math.Sqrt(ss/float64(len(xs))) / mean
}

// arcShares returns each node's share of the hash circle: the exact load a ring puts on it
// for uniformly hashed keys, without key-sampling noise.
func arcShares(r *Ring) []float64 {
	s := r.snapshot()
	shares := make([]float64, len(s.names))
	for i, h := range s.hashes {
		prev := s.hashes[(i+len(s.hashes)-1)%len(s.hashes)]
		shares[s.owners[i]] += float64(h-prev) / math.Exp2(64)
	}
	return shares
}

// keyShares counts keys per node over the package's test keys.
func keyShares(t *testing.T, nodes []string, get lookup, keys int) []float64 {
	idx := map[string]int{}
	for i, n := range nodes {
		idx[n] = i
	}
	counts := make([]float64, len(nodes))
	for _, n := range assign(t, get, keys) {
		counts[idx[n]]++
	}
	return counts
}

// TestBalance reports the spread of load over 100 nodes for 10, 100 and 1,000 virtual
// nodes and bounds it. Lamping & Veach give the ring's standard error as 0.3152, 0.0997 and
// 0.0316, about 1/sqrt(v); the test allows 1.25/sqrt(v).
func TestBalance(t *testing.T) {
	const nodes = 100
	keys := movementKeys()
	paper := map[int]float64{10: 0.3152, 100: 0.0997, 1000: 0.0316}
	for _, v := range []int{10, 100, 1000} {
		r, err := New(Config{VirtualNodes: v})
		require.NoError(t, err)
		for i := range nodes {
			require.NoError(t, r.Add(fmt.Sprintf("node-%d", i), 1))
		}
		arc := relStdDev(arcShares(r))
		key := relStdDev(keyShares(t, r.Nodes(), r.Get, keys))
		t.Logf("vnodes=%4d: circle share rel. std-dev %.4f, keys-per-node rel. std-dev %.4f over %d keys (paper %.4f)",
			v, arc, key, keys, paper[v])
		require.Less(t, arc, 1.25/math.Sqrt(float64(v)))
		// Key counts add sampling noise sqrt(nodes/keys) in quadrature.
		require.Less(t, key, math.Hypot(1.25/math.Sqrt(float64(v)), 3*math.Sqrt(nodes/float64(keys))))
	}
}

// TestWeightsAreProportional: a node of weight w gets w/W of the keys, on the ring (up to
// virtual-node noise) and with rendezvous (up to key-sampling noise only, which checks the
// logarithmic method).
func TestWeightsAreProportional(t *testing.T) {
	keys := movementKeys()
	r, err := New(Config{})
	require.NoError(t, err)
	rv := NewRendezvous(nil)
	names := []string{"w1", "w2", "w3", "w4"}
	for i, n := range names {
		require.NoError(t, r.Add(n, i+1))
		require.NoError(t, rv.Add(n, i+1))
	}
	ring := arcShares(r)
	counts := keyShares(t, names, rv.Get, keys)
	for i := range names {
		want := float64(i+1) / 10
		t.Logf("weight %d: ring share %.4f, rendezvous share %.4f (ideal %.2f)", i+1, ring[i], counts[i]/float64(keys), want)
		require.InEpsilon(t, want, ring[i], 0.2)
		require.InDelta(t, want, counts[i]/float64(keys), 0.005)
	}
}

// TestBoundedLoadInvariant drives Acquire/Release with random streams. With c > 1 every
// Acquire lands on a node whose load stays within ceil(c × average), and while loads only
// grow no node is ever above it.
func TestBoundedLoadInvariant(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.Seed(t), 3))
	ops := 20_000
	if testseed.Long() {
		ops = 500_000
	}
	for _, c := range []float64{1.05, 1.25, 2} {
		t.Run(fmt.Sprintf("c=%v", c), func(t *testing.T) {
			const nodes = 10
			r, err := New(Config{VirtualNodes: 50, LoadFactor: c})
			require.NoError(t, err)
			for i := range nodes {
				require.NoError(t, r.Add(fmt.Sprintf("node-%d", i), 1))
			}
			loads := map[string]int64{}
			var held []string
			var total int64
			for i := range ops {
				// The first half only acquires; then releases are mixed in. A fifth of the
				// keys are one hot key, the case bounded loads exist for.
				if i >= ops/2 && len(held) > 0 && rng.IntN(10) < 4 {
					j := rng.IntN(len(held))
					n := held[j]
					held[j] = held[len(held)-1]
					held = held[:len(held)-1]
					r.Release(n)
					loads[n]--
					total--
					continue
				}
				key := fmt.Sprint(rng.IntN(1000))
				if rng.IntN(5) == 0 {
					key = "hot"
				}
				n, err := r.Acquire([]byte(key))
				require.NoError(t, err)
				loads[n]++
				total++
				held = append(held, n)
				bound := int64(math.Ceil(c * float64(total) / nodes))
				require.LessOrEqual(t, loads[n], bound, "op %d: %s over ceil(c × average)", i, n)
				require.Equal(t, loads[n], r.Load(n))
				if i < ops/2 {
					highest := int64(0)
					for node, l := range loads {
						require.LessOrEqual(t, l, bound, "op %d: %s over ceil(c × average)", i, node)
						highest = max(highest, l)
					}
					if i == ops/2-1 {
						t.Logf("after %d acquires: highest load %d = %.3f × average (bound %d)",
							total, highest, float64(highest)*nodes/float64(total), bound)
					}
				}
			}
		})
	}
}

// TestAcquireWithoutBound: with LoadFactor 0 Acquire counts but follows Get.
func TestAcquireWithoutBound(t *testing.T) {
	r, err := New(Config{})
	require.NoError(t, err)
	require.NoError(t, r.Add("a", 1))
	require.NoError(t, r.Add("b", 1))
	want, err := r.Get([]byte("hot"))
	require.NoError(t, err)
	for range 100 {
		got, err := r.Acquire([]byte("hot"))
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	require.Equal(t, int64(100), r.Load(want))
	r.Release(want)
	r.Release("nobody")
	require.Equal(t, int64(99), r.Load(want))
	require.NoError(t, r.Remove(want))
	require.Zero(t, r.Load(want))
}
