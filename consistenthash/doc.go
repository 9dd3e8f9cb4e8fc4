// Package consistenthash maps keys to nodes so that adding or removing a node moves as few
// keys as possible: a hash ring with virtual nodes, replicas and bounded loads, jump hashing
// and weighted rendezvous hashing.
//
// # What
//
// Ring places VirtualNodes × weight points per node on a 64-bit circle; a key belongs to the
// first point at or clockwise after its hash. Adding a node moves only the keys its points
// now cover (about weight/total of them), all to it; removing one moves only its keys.
// GetN walks on to the next distinct nodes for replicas. With Config.LoadFactor c > 1,
// Acquire/Release implement consistent hashing with bounded loads (Mirrokni, Thorup &
// Zadimoghaddam): a placement skips nodes already at ceil(c × average) load, so a hot key
// spills over to its clockwise neighbours instead of overloading one node.
//
// Jump is Lamping & Veach's jump consistent hash: no memory and perfect balance, but buckets
// are numbered and can only be added or removed at the end. Rendezvous (highest random
// weight) needs no virtual nodes and takes weights by the logarithmic method; its lookups
// cost O(nodes).
//
// # Where it comes from
//
// The design documents use consistent hashing to reshard databases with minimal data
// movement ("Database scaling"), to place users on the Redis pub/sub servers of the nearby
// friends service (a hash ring of servers), and to map message-queue keys to partitions.
//
// # Determinism
//
// A node's points are the hashes of "node#0", "node#1", ... and ties between equal point
// hashes go to the smaller node name, so the mapping depends only on the set of (node,
// weight) pairs, not on the order they were added in, the process or the platform. A golden
// file (testdata/golden.txt) pins the mapping of fixed keys for every algorithm.
//
// # Complexity
//
//	Ring.Get         O(1) expected: a table of 2^⌈log2 points⌉ buckets (at most 2^20)
//	                 narrows the search to the few points of one bucket
//	Ring.GetN        O(points walked until n distinct nodes)
//	Ring.Add/Remove  O(points) copy-on-write; AddAll adds many nodes in one copy
//	Ring.Acquire     O(1/(c−1)²) expected points walked
//	Jump             O(log buckets), no memory
//	Rendezvous.Get   O(nodes)
//
// # Concurrency
//
// Ring and Rendezvous are safe for concurrent use. Lookups load an immutable snapshot
// through an atomic pointer: no lock, no allocation, no shared write, so readers on many
// cores do not contend (a sync.RWMutex read lock writes its reader count on every call;
// BenchmarkGetParallel measures both). Add and Remove build a new snapshot and publish it;
// they serialise on a mutex, as do Acquire and Release, which also guard the load counts.
//
// # Caveats
//
//   - The bounded-load guarantee holds when a load is placed. Release and Remove lower the
//     average without moving loads already placed, so a node may sit above the new bound
//     until its loads are released; callers that need the bound at all times re-Acquire.
//   - Weighted Rendezvous compares floating-point scores. They are computed the same way
//     everywhere, but math.Log may differ in the last bit between architectures, which
//     could flip a key only when two nodes' scores are within one ulp (probability about
//     1e-15 per key). With equal weights the comparison is on integers.
//   - Keys must be hashed well: Jump takes a uint64 that should already be mixed (for
//     example xxhash of the key), and a custom Config.Hash must spread its output over all
//     64 bits, or the lookup table degrades towards a binary search.
package consistenthash
