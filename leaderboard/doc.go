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
//   - Add, Incr, Remove, Rank: O(log n) — one hash lookup and one tree
//     descent of about log48(n) nodes (4 levels at 25M; for a score
//     change, along the old and the new key's paths together).
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
// takes 2.6–7.2x the CPU time per operation (1.2–6.3x at 1k) and twice
// the memory. A score change is one descent along the old and the new
// key's paths together (relocate in tree.go): a node they share is
// searched once, and two comparisons with its separators tell whether the
// new key stays in the same child (a small increment mostly stays in its
// leaf); then the key moves within its leaf, or from one leaf to another,
// and the counts are fixed from the leaves up to where the paths meet.
// Only when the old leaf is at minimum fill or the new one full (under 1%
// of random moves) does it take the top-down pass that splits and merges
// on the way down (move).
//
// On a big board an operation's cost is the cache lines it fetches (see
// below), not its instructions, so nodes are laid out in whole cache lines
// and not binary searched: the first line of a node holds its size and its
// fences, the last score of every block of 8 scores (one line), so a
// search reads that line and then one block (searchFenced in tree.go),
// 2–3 lines instead of a node's 8 lines of scores. A single call, whose
// nodes nothing has warmed, prefetches each node's lines as it reaches it
// (prefetchNode), so they arrive together rather than the fences, then a
// block, then a child entry, each after the one before.
//
// # Cost on a big board
//
// At 25M members an operation's cost is a chain of dependent cache misses:
// index slot, entry, the lowest inner node and the leaf (for a move, the
// old and the new path, overlapped). On the 2-core AMD EPYC VM these
// figures come from, a dependent DRAM miss takes about 200 ns, so that
// chain alone is about 1 µs. Measured there (BenchmarkHot, CPU time per
// operation, medians of three runs alternating with the previous design,
// machine shared with other jobs): an increment of 1–10 points 1.86 µs, a
// uniformly random new score 2.12 µs (1.19x cheaper than before), Rank
// 1.82 µs (1.11x) — about 0.5M updates per second on one core, not the 1M
// the issue aims for; at 1M members, 1.2–1.5 µs.
//
// One update's misses depend on each other, but different members' do
// not, and the memory system serves many independent misses at once. So
// AddBatch and IncrBatch (batch.go, warm.go) take updates in groups of 32
// and first walk the whole group, stage by stage, through what applying
// them will read — every member's index slot, then every entry and
// member's bytes, then the lowest inner node's fences, its block of
// separators and child entries, and the leaf's fences and the lines of
// keys the update reads or shifts, for every current and new key —
// issuing prefetches (PREFETCHT0 on amd64) for only those lines, so each
// stage's misses overlap without stalling; then they apply the group's
// updates one by one through the very code Add and Incr run, given the
// nodes and children the stages found, which it confirms with two
// comparisons each instead of searching again, so the results are those
// of the single calls by construction. Measured the same way at 25M
// members, per update in batches of 256: an increment of 1–10 points
// 0.64–0.68 µs (1.24x cheaper than before), about 1.5M updates per second
// on one core, so the goal is met for increments; a random new score
// 0.94–1.01 µs (no cheaper than before; single runs on a fresh board
// 0.74–0.95 µs), about 1M per second, so for random scores it is not met
// with any margin: each such update reads seven unrelated places (slot,
// entry, member, and an inner node and a leaf on each of two paths), and
// fetching a third fewer lines of them than before did not make it
// cheaper, so what bounds it here looks like the number of places (about
// 135 ns each), not of lines. Fewer lines did pay where the places are
// few or near: a hot set of
// 4096 members, where nothing goes to DRAM, costs 0.56 µs a random score
// and 0.36 µs an increment at 25M (BenchmarkHot/hot; 1.19x and 1.09x
// cheaper). At 1M members: 0.43 µs an increment, 0.70–0.75 µs a random
// score. On a board of under 65536 members (warmMin) everything is in
// cache and batches skip the warming: they then just save the per-call
// locking (1k members: 90 ns an increment, 175 ns a new score). Measured
// and dropped: overlapping the warming of the next group with applying
// this one (a software pipeline; no better), fences on the levels above
// the lowest inner one (no better: they are in cache, and a search of
// all their scores reads its lines at once), leaves of 32 or 128 keys
// (no better at 25M; 32 needs more inner nodes, 128 shifts twice as far),
// and groups of 16 (1.1–1.2x dearer) or 64 (alike).
//
// # Memory
//
// Nothing in the hot structures holds a Go pointer, so the garbage
// collector never scans them: nodes live in chunked arenas addressed by
// uint32 (with free lists), member bytes in append-only chunks (compacted
// when half is garbage), and the index is open addressing over uint64 slots
// (32-bit hash tag + entry id, backward-shift deletion). On a big board
// (an arena past 32 MiB, the inner nodes past 2 MiB, an index of 8 MiB or
// more) that memory is allocated in slabs which the kernel is asked
// (madvise MADV_HUGEPAGE, Linux only; THP "madvise" or "always" mode) to
// back with 2 MiB transparent huge pages, so random accesses miss the TLB
// less; the inner nodes, read twice by every random move, come in 8 MiB
// slabs, as at 25M members they are only about 20 MiB. The slabs are
// ordinary Go memory, freed by the garbage collector with the board: a
// Board needs no Close. Per member: a 24-byte entry (score, tie key,
// member location), 20 bytes of leaf key at 50–100% fill (a leaf is 1408
// bytes: 64 keys, a line of size and fences, padding to whole lines),
// 8-byte index slots at 37–75% load, and the member bytes. Measured with
// the benchmarks' B/member metric (heap growth / members, members
// "player:<i>" with random scores): 88 B at 1M and 83 B at 25M (3 B more
// than without the fences and padding), against the design's 26 B of
// payload and 170 B for the bytedance peer at 1M.
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
