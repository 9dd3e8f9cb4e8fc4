package consistenthash

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt from the current code")

// goldenMapping maps fixed keys over a fixed node set with every algorithm, one line per
// answer. Any change to it remaps users' data, so TestGolden pins it.
func goldenMapping(t *testing.T) []byte {
	r, err := New(Config{})
	require.NoError(t, err)
	bounded, err := New(Config{LoadFactor: 1.25})
	require.NoError(t, err)
	rv := NewRendezvous(nil)
	rvw := NewRendezvous(nil)
	for i := range 10 {
		node := fmt.Sprintf("shard-%d", i)
		require.NoError(t, r.Add(node, 1+i%3))
		require.NoError(t, bounded.Add(node, 1))
		require.NoError(t, rv.Add(node, 1))
		require.NoError(t, rvw.Add(node, 1+i%3))
	}
	var b bytes.Buffer
	fmt.Fprintln(&b, "# nodes shard-0..shard-9, weight 1+i%3 (ring, ring-getn3, rendezvous-w) or 1; keys user:0..user:99")
	var dst []string
	for i := range 100 {
		key := []byte(fmt.Sprintf("user:%d", i))
		get := func(f func([]byte) (string, error)) string {
			n, err := f(key)
			require.NoError(t, err)
			return n
		}
		dst, err = r.GetN(key, 3, dst[:0])
		require.NoError(t, err)
		h := xxhash.Sum64(key)
		fmt.Fprintf(&b, "%s ring=%s ring-getn3=%s acquire=%s rendezvous=%s rendezvous-w=%s jump10=%d jump1000=%d\n",
			key, get(r.Get), strings.Join(dst, ","), get(bounded.Acquire), get(rv.Get), get(rvw.Get), Jump(h, 10), Jump(h, 1000))
	}
	return b.Bytes()
}

// TestGolden fails if the mapping of fixed keys changes: the same nodes and keys must map
// the same way in every process and on every platform. Regenerate with -update only for an
// intended, documented remapping.
func TestGolden(t *testing.T) {
	path := filepath.Join("testdata", "golden.txt")
	got := goldenMapping(t)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
}
