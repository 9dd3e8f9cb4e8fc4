// Package leaderboard is a sorted set with Redis ZSET semantics embedded
// in-process: top N, a member's exact rank, the members around it, and
// score updates, each in O(log n).
//
// # Where it comes from
//
// The real-time gaming leaderboard of the design documents (Volume 2,
// chapter 10): 25M monthly players, "ZADD / ZINCRBY / ZREVRANGE 0 9 /
// ZREVRANK leaderboards:feb:2024", sized at 25M x 26 bytes = 650 MB, and
// two ways to scale x100 — hash partitioning (Sharded) and fixed score-range
// partitioning (ScoreSharded) — plus one board per month (Registry).
//
// # Semantics
//
// Ordering is exactly Redis's: by score, ties by member bytes; the
// descending calls (Top, Range, Around, RangeByScore, Rank) reverse both, so
// among equal scores the greater member ranks higher. -0 equals 0 and is
// stored as 0. NaN is rejected (ErrNaN), ±Inf are ordinary scores, and an
// Incr whose result would be NaN (+Inf plus -Inf) fails and changes nothing.
// Add follows ZADD: NX with XX, or GT/LT with NX or each other, is
// ErrInvalidFlags; GT and LT never prevent a new member being added; the
// reply counts additions, and with CH also score changes. Range takes Redis
// indices (negative from the end); RangeByScore is ZREVRANGEBYSCORE with
// LIMIT (a negative count means all); Entry.Rank is always the board rank.
// Options.TieBreak = ByArrival instead ranks the member that reached a
// score first higher, using a monotonically increasing sequence as the
// secondary key.
//
// # Structure and complexity
//
// An order-statistic B+tree (64 keys per leaf, 64 children per inner node,
// each inner node counting the keys below each child) plus a member index:
//
//   - Add, Incr, Remove, Rank: O(log n) — one hash lookup and one or two
//     tree descents of about log64(n) nodes (4 levels at 25M).
//   - Score, Len: O(1).
//   - Top(k), Range, Around, RangeByScore: O(log n + k) — one counted
//     descent to the first rank, then a walk along linked leaves.
//   - Count: O(log n), two descents.
//   - AddBatch, IncrBatch: O(k log n) for k updates, the same work as k
//     Add or Incr calls, but with their cache misses overlapped (below).
//
// A skip list with spans (Redis's zskiplist, and the bytedance/gopkg peer)
// was the alternative. The B+tree was chosen because at 1M–25M members
// every skip-list hop is a cache miss on a separately allocated node, while
// a B+tree keeps scores in contiguous arrays (struct-of-arrays leaves,
// searched without branches) so a descent costs a handful of misses, and
// its keys need no per-node pointers. The peer benchmark in
// bench/leaderboard measures the difference: at 1M members the skip list
// takes 2.4–7.4x the CPU time per operation (1.3–9.4x at 1k) and twice
// the memory. A score change that keeps the member inside its leaf (small
// increments, the common game update) is rewritten in place with one
// descent; any other change is one pass that walks the old and the new
// key's paths together, level by level, so their cache misses can overlap
// (move in tree.go).
//
// On a big board an operation's cost is its cache misses (see below), not
// its instructions, so nodes are not binary searched: a search compares
// the last key of every cache line of keys at once, then counts within the
// one line left (searchGE in tree.go), so a node's lines arrive together
// instead of one halving step at a time.
//
// # Cost on a big board
//
// At 25M members an operation's cost is a chain of dependent cache misses:
// index slot, entry, the lowest inner node and the leaf (for a move, the
// old and the new path, overlapped). On the 2-core AMD EPYC VM these
// figures come from, a dependent DRAM miss takes about 200 ns, so that
// chain alone is about 1 µs. Measured there (BenchmarkHot, CPU time per
// operation, machine shared with other jobs): an increment of 1–10 points
// 1.9 µs, a uniformly random new score 2.6–2.7 µs, Rank 1.9–2.0 µs —
// 0.37–0.53M updates per second on one core, not the 1M the issue aims
// for; at 1M members, 1.4–1.8 µs.
//
// One update's misses depend on each other, but different members' do
// not, and the memory system serves many independent misses at once. So
// AddBatch and IncrBatch (batch.go, warm.go) take updates in groups of 16
// and first walk the whole group, stage by stage, through what applying
// them will read — every member's index slot, then every entry and
// member's bytes, then the lowest inner node, the child entry and the leaf
// of every current and new key — issuing prefetches (PREFETCHT0 on amd64)
// for only the lines the update will use, so each stage's misses overlap
// without stalling; then they apply the group's updates one by one
// through the very code Add and Incr run, now hitting cache, so the
// results are those of the single calls by construction. Measured the
// same way at 25M members, per update in batches of 256: a random new
// score 1.1–1.4 µs, an increment of 1–10 points 0.86–1.16 µs (process to
// process the same run varies by ±20% on this VM) — 0.7–1.1M updates per
// second on one core; at 1M members 0.63–0.70 and 0.40 µs (1.7x and 2.2x
// faster than warming with loads, the previous design); at 5M 0.85 and
// 0.69 µs (1.5x and 1.2x). The goal of 1M updates per second at 25M is
// thus met for increments in good runs and not for random scores: the
// same batches over a hot set of 4096 members, where nothing misses,
// already cost 0.75–1.0 µs a random score and 0.5–0.65 µs an increment
// at 25M (BenchmarkHot/hot), the instructions of warming and applying
// (searches of four levels of 64-key nodes, the take and put shifts of a
// move); the misses add 0.3–0.4 µs on top. On a board of under 65536
// members (warmMin) everything is in cache and batches skip the warming:
// they then just save the per-call locking (1k members: 100 ns an
// increment, 210 ns a new score). Measured and dropped: overlapping the
// stages of the next groups with applying this one (a software pipeline;
// 1.05–1.3x slower at 5M, the apply's own misses then compete with the
// prefetches), group sizes of 8 or 32 (no better than 16), prefetching
// the cached upper levels too (no better), and searching nodes by binary
// search while warming (1.4x slower).
//
// # Memory
//
// Nothing in the hot structures holds a Go pointer, so the garbage
// collector never scans them: nodes live in chunked arenas addressed by
// uint32 (with free lists), member bytes in append-only chunks (compacted
// when half is garbage), and the index is open addressing over uint64 slots
// (32-bit hash tag + entry id, backward-shift deletion). On a big board
// (an arena past 32 MiB, an index of 8 MiB or more) that memory is
// allocated in slabs which the kernel is asked (madvise MADV_HUGEPAGE,
// Linux only; THP "madvise" or "always" mode) to back with 2 MiB
// transparent huge pages, so random accesses miss the TLB less. The slabs
// are ordinary Go memory, freed by the garbage collector with the board:
// a Board needs no Close. Per member: a 24-byte entry (score, tie key,
// member location), 20 bytes of leaf key at 50–100% fill, 8-byte index
// slots at 37–75% load, and the member bytes.
// Measured with the benchmarks' B/member metric (heap growth / members,
// members "player:<i>" with random scores): 86 B at 1M and 80 B at 25M
// (2.9 GB peak RSS for the whole 25M benchmark process, names included),
// against the design's 26 B of payload and 170 B for the bytedance peer at
// 1M.
//
// # Concurrency
//
// Board is safe for concurrent use: one sync.RWMutex per board; Add, Incr
// and Remove hold it exclusively, every read holds it shared, so reads run
// in parallel. AddBatch and IncrBatch hold it exclusively for the whole
// batch, so a batch is atomic (readers see all of it or none) and readers
// wait for all of it: a batch of 256 updates holds the lock for about
// 0.3 ms at 25M members. Sharded has one lock per shard; ScoreSharded adds 256 striped
// mutexes that serialise writers of the same member across shards. Their
// multi-shard reads are not atomic snapshots. Registry has its own mutex.
//
// # Sharding trade-offs (design chapter 10, "Scale x100")
//
// Sharded (hash partitioning by xxhash of the member): even shard sizes and
// one-shard writes, but Top and Range scatter to every shard and merge
// (O(shards * (log n + k))), and Rank asks every shard how many members
// rank above (O(shards * log n)) — exact, but each read touches all shards.
// ScoreSharded (fixed score ranges): Top reads just the highest shard and
// Rank is one shard's rank plus the sizes of the shards above, but shards
// are as uneven as the score distribution, members move between shards
// when a score crosses a bound, and a member -> shard index (a Go map per
// stripe) costs memory. Both are measured in BenchmarkSharded*.
//
// # Snapshots
//
// Board.WriteTo writes a versioned, CRC-32C checksummed snapshot (format in
// snapshot.go); Load verifies it (checksum, order, scores, duplicates) and
// rebuilds the board, densely packed.
//
// # Caveats
//
// Members are at most MaxMemberLen (1 MiB) bytes. Strings returned in
// Entry.Member share the board's member arena: keeping one alive keeps its
// arena chunk (up to 1 MiB, or its 32 MiB slab on a big board) alive after
// the member is removed. Member
// lookups hash with xxhash, which is not keyed: a board fed member names by
// an adversary can be made to probe long runs.
package leaderboard
