package consistenthash_test

import (
	"fmt"

	"github.com/cespare/xxhash/v2"
	"github.com/sysblocks/sysblocks/consistenthash"
)

// Shard user keys over three database nodes, then reshard onto a fourth: only the keys the
// new node takes move, about a quarter of them.
func Example() {
	ring, err := consistenthash.New(consistenthash.Config{}) // 160 virtual nodes, xxhash
	if err != nil || ring.AddAll(map[string]int{"db-a": 1, "db-b": 1, "db-c": 1}) != nil {
		panic("setup")
	}
	replicas, _ := ring.GetN([]byte("user:42"), 2, nil) // owner first, then its successor
	fmt.Println("user:42 on", replicas)

	before := map[string]string{}
	for i := range 10000 {
		key := fmt.Sprintf("user:%d", i)
		before[key], _ = ring.GetString(key)
	}
	_ = ring.Add("db-d", 1) // reshard
	moved, elsewhere := 0, 0
	for key, old := range before {
		if now, _ := ring.GetString(key); now != old {
			moved++
			if now != "db-d" {
				elsewhere++
			}
		}
	}
	fmt.Printf("moved %.1f%% of keys, %d not to db-d\n", 100*float64(moved)/10000, elsewhere)
	// Output:
	// user:42 on [db-c db-a]
	// moved 26.0% of keys, 0 not to db-d
}

// Bounded loads: a hot key cannot pile more than ceil(1.25 × average) = 32 of 100 sessions
// on one node; the overflow walks clockwise to the next nodes with room.
func ExampleRing_Acquire() {
	ring, _ := consistenthash.New(consistenthash.Config{LoadFactor: 1.25})
	for _, node := range []string{"ws-1", "ws-2", "ws-3", "ws-4"} {
		_ = ring.Add(node, 1)
	}
	for range 100 {
		_, _ = ring.Acquire([]byte("room:lobby"))
	}
	for _, node := range ring.Nodes() {
		fmt.Println(node, ring.Load(node))
	}
	// Output:
	// ws-1 31
	// ws-2 6
	// ws-3 32
	// ws-4 31
}

// Jump hashing maps a key to one of n numbered buckets with no memory at all; growing n
// moves only the keys the new bucket takes.
func ExampleJump() {
	h := xxhash.Sum64String("user:42")
	fmt.Println(consistenthash.Jump(h, 10), consistenthash.Jump(h, 11))
	// Output:
	// 5 5
}

// Rendezvous hashing with weights: db-big gets about three times the keys of db-small.
func ExampleRendezvous() {
	var rv consistenthash.Rendezvous
	_ = rv.Add("db-small", 1)
	_ = rv.Add("db-big", 3)
	counts := map[string]int{}
	for i := range 10000 {
		n, _ := rv.Get([]byte(fmt.Sprintf("key-%d", i)))
		counts[n]++
	}
	fmt.Printf("db-big %.1f × db-small\n", float64(counts["db-big"])/float64(counts["db-small"]))
	// Output:
	// db-big 2.9 × db-small
}
