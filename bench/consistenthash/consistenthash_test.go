// Package consistenthashbench compares sysblocks/consistenthash with the Go rings and jump
// hash people reach for, on the same keys and node sets: lookup cost (sequential and with
// parallel readers) and how evenly the keys spread.
//
//	go test -run '^$' -bench . -count 6 .                  # ns/op and load-rsd per peer
//	go test -run TestPeerTable -v . -args -peertable -test.benchtime 200ms   # table with ratios
package consistenthashbench

import (
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	burak "github.com/buraksezer/consistent"
	"github.com/cespare/xxhash/v2"
	jump "github.com/dgryski/go-jump"
	groupcache "github.com/golang/groupcache/consistenthash"
	stathat "github.com/stathat/consistent"

	"github.com/sysblocks/sysblocks/consistenthash"
)

// vnodes is the virtual-node count for every ring that lets one choose it (sysblocks'
// default); buraksezer/consistent places partitions instead and keeps its defaults.
const vnodes = 160

var sizes = []int{10, 100, 1000}

// key is one lookup key in both forms, so that no peer pays for a conversion.
type key struct {
	b []byte
	s string
}

func makeKeys(n int, format string) []key {
	keys := make([]key, n)
	for i := range keys {
		s := fmt.Sprintf(format, i)
		keys[i] = key{[]byte(s), s}
	}
	return keys
}

// lookupKeys are the timed keys; distKeys the keys whose spread gives load-rsd.
var lookupKeys = makeKeys(4096, "user:%06d")

func distKeys() []key {
	if testing.Short() {
		return makeKeys(100_000, "k%d")
	}
	return makeKeys(1_000_000, "k%d")
}

// impl builds one algorithm over a node set and returns its lookup.
type impl struct {
	name  string
	build func(nodes []string) func(key) string
}

type hasher struct{}

func (hasher) Sum64(b []byte) uint64 { return xxhash.Sum64(b) }

type member string

func (m member) String() string { return string(m) }

// nextPrime returns the smallest prime >= n.
func nextPrime(n int) int {
	for ; ; n++ {
		prime := n > 1
		for d := 2; d*d <= n && prime; d++ {
			prime = n%d != 0
		}
		if prime {
			return n
		}
	}
}

var rings = []impl{
	{"sysblocks", func(nodes []string) func(key) string {
		r, err := consistenthash.New(consistenthash.Config{VirtualNodes: vnodes})
		if err != nil {
			panic(err)
		}
		weights := make(map[string]int, len(nodes))
		for _, n := range nodes {
			weights[n] = 1
		}
		if err := r.AddAll(weights); err != nil {
			panic(err)
		}
		return func(k key) string { n, _ := r.Get(k.b); return n }
	}},
	{"buraksezer", func(nodes []string) func(key) string {
		ms := make([]burak.Member, len(nodes))
		for i, n := range nodes {
			ms[i] = member(n)
		}
		// About 100 partitions per member (271 is its default, for few members); its
		// defaults otherwise: 20 replicas, load factor 1.25.
		c := burak.New(ms, burak.Config{Hasher: hasher{}, PartitionCount: nextPrime(100 * len(nodes)),
			ReplicationFactor: 20, Load: 1.25})
		return func(k key) string { return c.LocateKey(k.b).String() }
	}},
	{"stathat", func(nodes []string) func(key) string {
		c := stathat.New()
		c.NumberOfReplicas = vnodes
		c.Set(nodes)
		return func(k key) string { n, _ := c.Get(k.s); return n }
	}},
	{"groupcache", func(nodes []string) func(key) string {
		m := groupcache.New(vnodes, nil)
		m.Add(nodes...)
		return func(k key) string { return m.Get(k.s) }
	}},
}

var jumps = []impl{
	{"sysblocks-jump", func(nodes []string) func(key) string {
		return func(k key) string { return nodes[consistenthash.Jump(xxhash.Sum64(k.b), len(nodes))] }
	}},
	{"dgryski-jump", func(nodes []string) func(key) string {
		return func(k key) string { return nodes[jump.Hash(xxhash.Sum64(k.b), len(nodes))] }
	}},
}

func nodeNames(n int) []string {
	nodes := make([]string, n)
	for i := range nodes {
		nodes[i] = fmt.Sprintf("node-%d", i)
	}
	return nodes
}

// loadRSD is the standard deviation of keys per node over their mean.
func loadRSD(nodes []string, get func(key) string, keys []key) float64 {
	counts := make(map[string]float64, len(nodes))
	for _, n := range nodes {
		counts[n] = 0
	}
	for _, k := range keys {
		counts[get(k)]++
	}
	mean := float64(len(keys)) / float64(len(nodes))
	var ss float64
	for _, c := range counts {
		ss += (c - mean) * (c - mean)
	}
	return math.Sqrt(ss/float64(len(nodes))) / mean
}

// slowBuild marks impl-size pairs whose setup takes too long for every run: stathat's Set
// re-sorts the whole circle after each node, so 1,000 nodes × 160 replicas take about a
// minute to build. They run with SYSBLOCKS_LONG=1.
func slowBuild(name string, size int) bool { return name == "stathat" && size >= 1000 }

// built caches each impl over each node set, with its load-rsd, across benchmarks.
type built struct {
	get func(key) string
	rsd float64
}

var (
	cache     = map[string]*built{}
	distCache []key
)

// lookupFor builds im over size nodes (once), or reports false when the pair is skipped:
// 1,000 nodes under -short, and slow builds without SYSBLOCKS_LONG=1.
func lookupFor(im impl, size int) (*built, bool) {
	if (size >= 1000 && testing.Short()) || (slowBuild(im.name, size) && os.Getenv("SYSBLOCKS_LONG") != "1") {
		return nil, false
	}
	id := fmt.Sprintf("%s/%d", im.name, size)
	if c, ok := cache[id]; ok {
		return c, true
	}
	if distCache == nil {
		distCache = distKeys()
	}
	nodes := nodeNames(size)
	get := im.build(nodes)
	c := &built{get: get, rsd: loadRSD(nodes, get, distCache)}
	cache[id] = c
	return c, true
}

func runLookups(b *testing.B, get func(key) string) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if get(lookupKeys[i&4095]) == "" {
			b.Fatal("no node")
		}
		i++
	}
}

func runParallel(b *testing.B, get func(key) string) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if get(lookupKeys[i&4095]) == "" {
				b.Error("no node")
				return
			}
			i++
		}
	})
}

// benchAll runs run for every impl and size, reporting load-rsd next to ns/op.
func benchAll(b *testing.B, impls []impl, run func(*testing.B, func(key) string), withRSD bool) {
	for _, size := range sizes {
		for _, im := range impls {
			c, ok := lookupFor(im, size)
			if !ok {
				continue
			}
			b.Run(fmt.Sprintf("nodes=%d/%s", size, im.name), func(b *testing.B) {
				run(b, c.get)
				if withRSD {
					b.ReportMetric(c.rsd, "load-rsd")
				}
			})
		}
	}
}

// BenchmarkGet: one lookup per op; load-rsd is the relative standard deviation of keys per
// node over the distribution keys (1M, 100k under -short).
func BenchmarkGet(b *testing.B) { benchAll(b, rings, runLookups, true) }

// BenchmarkGetParallel: lookups from GOMAXPROCS goroutines (peers take a read lock).
func BenchmarkGetParallel(b *testing.B) { benchAll(b, rings, runParallel, false) }

// BenchmarkJump: xxhash of the key, then the jump hash.
func BenchmarkJump(b *testing.B) { benchAll(b, jumps, runLookups, true) }

var peerTable = flag.Bool("peertable", false, "print the side-by-side table of ns/op ratios and load-rsd")

// TestPeerTable prints, for each size, every implementation's ns/op (sequential and
// parallel, median of 5 runs of -test.benchtime each), its ratio to sysblocks' and its
// load-rsd. Run with -peertable.
func TestPeerTable(t *testing.T) {
	if !*peerTable {
		t.Skip("run with -peertable to print the comparison table")
	}
	median := func(f func(*testing.B)) float64 {
		var ns []float64
		for range 5 {
			r := testing.Benchmark(f)
			ns = append(ns, float64(r.T.Nanoseconds())/float64(r.N))
		}
		slices.Sort(ns)
		return ns[len(ns)/2]
	}
	var out strings.Builder
	fmt.Fprintf(&out, "| nodes | impl | ns/op | × sysblocks | parallel ns/op | × sysblocks | load-rsd |\n|---|---|---|---|---|---|---|\n")
	for _, size := range sizes {
		for _, group := range [][]impl{rings, jumps} {
			var base, pbase float64
			for _, im := range group {
				c, ok := lookupFor(im, size)
				if !ok {
					fmt.Fprintf(&out, "| %d | %s | skipped (slow setup; SYSBLOCKS_LONG=1) | | | | |\n", size, im.name)
					continue
				}
				ns := median(func(b *testing.B) { runLookups(b, c.get) })
				pns := median(func(b *testing.B) { runParallel(b, c.get) })
				if base == 0 {
					base, pbase = ns, pns
				}
				fmt.Fprintf(&out, "| %d | %s | %.1f | %.2f | %.1f | %.2f | %.4f |\n",
					size, im.name, ns, ns/base, pns, pns/pbase, c.rsd)
			}
		}
	}
	t.Logf("load-rsd over %d keys\n%s", len(distCache), out.String())
}
