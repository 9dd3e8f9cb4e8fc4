package orderbook

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIDMap checks the id table against a Go map under random churn,
// including keys that collide on their home cell.
func TestIDMap(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	m := newIDMap()
	want := map[uint64]int32{}
	var keys []uint64
	for i := 0; i < 200_000; i++ {
		switch {
		case len(keys) == 0 || r.IntN(100) < 55:
			k := 1 + r.Uint64N(5000)
			if r.IntN(4) == 0 {
				k = uint64(r.IntN(64)) << 58 // same home in small tables
			}
			if _, ok := want[k]; ok || k == 0 {
				continue
			}
			v := int32(r.IntN(1 << 30))
			m.put(k, v)
			want[k] = v
			keys = append(keys, k)
		default:
			j := r.IntN(len(keys))
			k := keys[j]
			keys[j] = keys[len(keys)-1]
			keys = keys[:len(keys)-1]
			m.del(k)
			delete(want, k)
		}
		if i%1000 == 0 {
			for k, v := range want {
				require.Equal(t, v, m.get(k))
			}
			require.Zero(t, m.get(1<<63+1))
		}
		require.Equal(t, len(want), m.n)
	}
}
