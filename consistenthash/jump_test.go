package consistenthash

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sysblocks/sysblocks/internal/testseed"
)

// referenceJump transcribes the C++ code published in Lamping & Veach (2014), figure 1:
//
//	int32_t JumpConsistentHash(uint64_t key, int32_t num_buckets) {
//	  int64_t b = -1, j = 0;
//	  while (j < num_buckets) {
//	    b = j;
//	    key = key * 2862933555777941757ULL + 1;
//	    j = (b + 1) * (double(1LL << 31) / double((key >> 33) + 1));
//	  }
//	  return b;
//	}
func referenceJump(key uint64, numBuckets int32) int32 {
	b, j := int64(-1), int64(0)
	for j < int64(numBuckets) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int32(b)
}

// TestJumpKnownValues checks fixed values: the rows github.com/dgryski/go-jump's tests say
// were generated from the reference C++ code (bucket counts 1, 2, ...), and its Guava
// compatibility values.
func TestJumpKnownValues(t *testing.T) {
	rows := []struct {
		key  uint64
		want []int // want[i] = Jump(key, i+1)
	}{
		{0, []int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{1, []int{0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 17, 17}},
		{0xdeadbeef, []int{0, 1, 2, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 16, 16, 16}},
		{0x0ddc0ffeebadf00d, []int{0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 15, 15, 15, 15}},
	}
	for _, row := range rows {
		for i, want := range row.want {
			require.Equal(t, want, Jump(row.key, i+1), "Jump(%#x, %d)", row.key, i+1)
			require.Equal(t, int32(want), referenceJump(row.key, int32(i+1)), "reference(%#x, %d)", row.key, i+1)
		}
	}
	guava100 := []int{0, 55, 62, 8, 45, 59, 86, 97, 82, 59, 73, 37, 17, 56, 86, 21, 90, 37, 38, 83}
	for k, want := range guava100 {
		require.Equal(t, want, Jump(uint64(k), 100), "Jump(%d, 100)", k)
	}
	for _, tt := range []struct {
		key     uint64
		buckets int
		want    int
	}{
		{10863919174838991, 11, 6},
		{2016238256797177309, 11, 3},
		{1673758223894951030, 11, 5},
		{2, 100001, 80343},
		{2201, 100001, 22152},
		{2202, 100001, 15018},
	} {
		require.Equal(t, tt.want, Jump(tt.key, tt.buckets), "Jump(%d, %d)", tt.key, tt.buckets)
	}
}

// TestJumpMatchesReference compares Jump with the transcription on a table of keys ×
// bucket counts, including the extremes of both.
func TestJumpMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.Seed(t), 1))
	keys := []uint64{0, 1, 2, math.MaxUint64, math.MaxUint64 - 1, 1 << 63, 0xdeadbeef}
	for range 200 {
		keys = append(keys, rng.Uint64())
	}
	buckets := []int32{1, 2, 3, 7, 10, 100, 1000, 65536, 1e6, math.MaxInt32 - 1, math.MaxInt32}
	for range 50 {
		buckets = append(buckets, 1+rng.Int32N(math.MaxInt32))
	}
	for _, k := range keys {
		for _, n := range buckets {
			require.Equal(t, int(referenceJump(k, n)), Jump(k, int(n)), "Jump(%#x, %d)", k, n)
		}
	}
}

func TestJumpInvalidBuckets(t *testing.T) {
	invalid := []int{0, -1, math.MinInt}
	if math.MaxInt > math.MaxInt32 { // where int has room for more buckets than Jump takes
		big := int64(math.MaxInt32) + 1
		invalid = append(invalid, int(big), math.MaxInt)
	}
	for _, n := range invalid {
		require.Equal(t, -1, Jump(42, n), "Jump(42, %d)", n)
	}
}

// TestJumpMonotone checks the defining property: growing n to n+1 either keeps a key's
// bucket or moves it to the new bucket n.
func TestJumpMonotone(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.Seed(t), 2))
	for range 2000 {
		k := rng.Uint64()
		prev := Jump(k, 1)
		require.Zero(t, prev)
		for n := 2; n <= 200; n++ {
			b := Jump(k, n)
			require.True(t, b == prev || b == n-1, "Jump(%#x, %d) = %d after %d", k, n, b, prev)
			prev = b
		}
	}
}
