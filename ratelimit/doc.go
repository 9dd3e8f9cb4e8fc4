// Package ratelimit limits requests per key with the five classic
// algorithms, bounded memory and an HTTP middleware.
//
// # What
//
// Five limiters implement Limiter (Allow, AllowN) over a sharded per-key
// store:
//
//   - TokenBucket: refills at rate tokens per second up to burst; decides
//     exactly as golang.org/x/time/rate's Limiter.AllowN.
//   - LeakyBucket: a queue of capacity draining at rate (GCRA in integer
//     nanoseconds); AllowN meters, Take/TakeN/Wait shape calls evenly.
//   - FixedWindow: limit per epoch-aligned window.
//   - SlidingLog: limit in every interval of length window, exactly.
//   - SlidingWindow: Cloudflare's weighted two-window counter, O(1) memory.
//
// Middleware answers 429 with Retry-After and writes the
// draft-ietf-httpapi-ratelimit-headers-09 fields (RateLimit-Policy,
// RateLimit) and X-RateLimit-*; ClientIP, APIKey and User make keys.
//
// # Where it comes from
//
// The client gateway's rate limiting in the stock-exchange design
// (/work/shared/seeds/system-design-vol1-excerpts.md, "Client Gateway" and
// "Key Considerations for Client Gateway Design"): the gateway limits each
// client before anything else sees its orders. Windows are aligned to the
// Unix epoch (window k covers [k·window, (k+1)·window)), so every instance
// agrees on the boundaries.
//
// # Exactness
//
// TokenBucket keeps x/time/rate's own state (last instant, float64 tokens)
// and repeats its float64 operations in the same order, so it allows exactly
// when x/time/rate would, including x/time/rate's sub-nanosecond edge: a
// request short by less than one nanosecond of refill is allowed, because
// the wait is truncated to whole nanoseconds. Integer arithmetic cannot do
// this: x/time/rate's rounding decides at that edge. At 4 tokens/s, a bucket
// emptied at t0 is short by exactly 1ns of refill at t0+249999999ns; exact
// arithmetic says wait 1ns, x/time/rate computes 0.99999999…ns, truncates it
// to 0 and allows. TestTokenBucketMatchesXTimeRate and
// FuzzTokenBucketVsXTimeRate check agreement on every step of random traces,
// many of them aimed at that edge. (Go may fuse a*b+c into one FMA on arm64,
// ppc64 and s390x; the expressions mirror x/time/rate's so that both compile
// alike, but bit-identity is only tested on amd64.)
//
// Everything else is integer nanoseconds: LeakyBucket's interval is 1/rate
// rounded up to a whole nanosecond; the window limiters count integers; the
// sliding-window comparison prev·(window−elapsed) + (cur+n)·window <=
// limit·window is done in 128-bit integers. Time arithmetic saturates
// instead of wrapping, and instants outside the years 1678–2262 are clamped.
//
// FixedWindow and SlidingLog never allow more than limit in a window they
// define (checked against brute-force models over long traces with an
// injected clock). SlidingWindow estimates: in TestSlidingWindowError
// (Poisson clients offering 0.05–2x a limit of 100/min for 100 windows,
// SYSBLOCKS_LONG=1 RATELIMIT_SEED=1), judged against the exact sliding
// window over the same history, clients at or under the limit saw 2.10% of
// requests wrongly allowed and 0.51% wrongly denied, and clients over it
// 8.09% and 22.2%. Cloudflare's 0.003% was measured on real traffic, most of
// it far below its limits; this synthetic traffic sits at the limit, where
// the counter's assumption (the previous window's requests were spread
// evenly) matters most. Use SlidingLog when exactness matters.
//
// # Complexity and memory
//
// Allow and AllowN are O(1) for a known key and allocate nothing; a new key
// costs one copy of the key string (and SlidingLog's log grows by doubling
// up to limit records). Keys live in 256 shards (WithShards), each an
// open-addressing table (linear probing, at most 3/4 full) whose entries
// hold the key inline (up to 19 bytes, enough for "ip:" and any IPv4
// address; longer keys are copied aside), a 32-bit fingerprint of its hash
// (seeded at random per limiter, so colliding keys cannot be prepared in
// advance), a lock, and the key's state: an entry of any limiter but the
// sliding log is one 64-byte cache line, so a lookup of a key that is not in
// cache costs one miss besides reading the key itself. The peer
// benchmark's flood of distinct keys with MaxKeys 100k ends with 16.2 MiB of
// live heap, keys of the benchmark included, after 1M keys and after 10M
// alike (SYSBLOCKS_LONG=1; throttled's bounded memstore: 24.9 MiB); the
// limiter allocates nothing per new key of up to 19 bytes. Without MaxKeys,
// keys idle (equivalent to a fresh key) and unused for 10s are swept as new
// keys arrive; with WithMaxKeys the count never exceeds the bound: a new key
// evicts an idle key, or else the least recently used of a sample of 8.
//
// A denial costs about what an allowed call does. The token bucket's exact
// RetryAfter is searched with the decision's own float64 arithmetic (in the
// usual case two probes: allowed at x/time/rate's truncated wait, not one
// nanosecond before); for n = 1 the key's entry keeps the answer as an
// instant until its state next changes, so a client refused again before
// its wait is over, the flood case, gets it by one subtraction.
//
// # Concurrency
//
// Every limiter is safe for concurrent use; there is no global lock. A call
// on a known key of up to 19 bytes finds its entry without locking anything
// (atomic loads of the key words, validated by a per-shard sequence number
// that only changes when keys are added or removed) and locks only that
// entry, whose lock shares the key's cache line with its state: two cores
// calling on one hot key pass one cache line between them per call, and
// hold the lock for the O(1) decision alone (the decision's other fields
// are derived after the unlock). Adding, sweeping and evicting keys, and
// looking up longer keys, take the shard's mutex. LeakyBucket.Wait blocks
// only on its timer, holding no lock.
//
// # Bad input
//
// Constructors return errors wrapping ErrInvalidRate, ErrInvalidLimit,
// ErrInvalidWindow or ErrInvalidOption (rate must be in (0, MaxRate], limits
// in [1, MaxLimit]). AllowN with n <= 0 or n > the key's limit returns
// Allowed false and RetryAfter Never and changes nothing (x/time/rate would
// allow n <= 0, and add tokens for n < 0). Huge n, extreme instants and
// waits beyond the year 2262 saturate (RetryAfter Never), never overflow.
//
// # Caveats
//
// Per-instance state: the per-key state is a small value type touched by
// one function per algorithm under its entry's lock (store.go), the seam
// that ratelimit/redislimit fills with a Redis hash per key and one script
// per decision, deciding identically. Allow's default clock reads
// only the monotonic clock (time.Since a wall-clock base re-read once a
// second), about half the cost of time.Now, which reads two clocks; a step
// of the wall clock therefore reaches Allow within a second. The token bucket and the windows
// follow different rules for instants that go backwards: the token bucket
// does what x/time/rate does (no refill; an allowed event moves its clock
// back), the windows treat the instant as the latest one the key has seen.
package ratelimit
