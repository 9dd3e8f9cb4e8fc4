// Package redislimit is the Redis backend of package ratelimit: the token
// bucket, fixed window, sliding window and sliding log, with their state in
// Redis so that every instance of a service shares one limit per key.
//
// # What
//
// NewTokenBucket, NewFixedWindow, NewSlidingWindow and NewSlidingLog take a
// redis.Scripter (a *redis.Client, *redis.ClusterClient or *redis.Ring of
// github.com/redis/go-redis/v9) and the parameters of their ratelimit
// counterparts, and return limiters that implement ratelimit.Limiter, so
// ratelimit.Middleware and the key functions work unchanged. Each decision
// is one Lua script run atomically by Redis (EVALSHA, falling back to EVAL
// once per server), one round trip. Each limiter key is one Redis key,
// prefix+key (WithPrefix), so the limiters work on Redis Cluster without
// hash tags; a key or prefix may carry one to colocate keys.
//
// For the same policy, keys, n and instants a Redis limiter returns the very
// Decision its in-memory twin returns, field for field (Allowed, Limit,
// Remaining, RetryAfter, ResetAfter, Window): TestDifferential and
// FuzzAllowN check it against package ratelimit over random traces. The
// windows are aligned to the Unix epoch (window k covers [k·window,
// (k+1)·window)), so in-memory and Redis limiters, and every instance,
// agree on the boundaries.
//
// # Where it comes from
//
// The client gateway's rate limiting in the stock-exchange design
// (/work/shared/seeds/system-design-vol1-excerpts.md, "Client Gateway"),
// issue 7's "the Redis backend": a gateway runs as many instances, and a
// client's limit must hold across all of them.
//
// # Exactness in Lua
//
// Redis runs Lua 5.1, whose numbers are float64, exact for integers below
// 2^53; Unix nanoseconds reach 2^63. So instants travel as whole seconds and
// nanoseconds, window indexes as k>>26 and the low 26 bits, and the sliding
// window's products prev·rest and free·window (up to 2^103) are computed in
// 21-bit limbs. The token bucket keeps x/time/rate's float64 state and
// repeats its float64 operations in its order, IEEE arithmetic giving the
// same bits in Lua as in Go; its token count is stored with 17 significant
// digits, which read back bit for bit. Hence the token bucket also allows
// x/time/rate's sub-nanosecond edge exactly as ratelimit.TokenBucket does.
// The script only decides and stores; the Decision's other fields are
// derived in Go from the state it returns, with ratelimit's arithmetic.
//
// # Time
//
// The caller supplies now: AllowN's instant, or for Allow the limiter's
// clock (time.Now, WithClock). Decisions are then deterministic and
// testable, but instances must agree on the time: an instance whose clock
// runs ahead moves a key's window early (the windows treat a key's latest
// instant as the current one, so a lagging instance counts in the window
// already reached, and never allows more than limit per window), and for the
// token bucket an instant earlier than the last allowed one sees no refill.
// Keep the instances' clocks synchronised (NTP), or use WithServerClock,
// which has Allow read the Redis server's clock, learned with one TIME
// round trip per resync interval, to within half a round trip.
//
// # Memory in Redis
//
// Every write sets an expiry: the instant the key's state becomes
// equivalent to a fresh key's (the bucket is full, the window is over, the
// log is empty) plus WithExpiryMargin (default 1s), so idle keys vanish and
// Redis memory stays proportional to the active keys. Redis expires by its
// own clock, so the margin must cover how far the callers' clocks lag it. A
// token bucket, fixed window or sliding window key is one string of about
// 30 bytes; a sliding-log key is a hash with one field per distinct allowed
// instant in the window (at most limit).
//
// # Failures
//
// Allow and AllowN return a Decision, as ratelimit.Limiter requires, bounded
// by the client's timeouts (go-redis: ReadTimeout and WriteTimeout, 3s by
// default) or by WithTimeout's deadline (which go-redis applies to the
// socket only with Options.ContextTimeoutEnabled). When Redis cannot decide (down,
// timeout, a foreign value at the key: ErrCorruptState) the error goes to
// WithErrorHandler and the failure policy answers: WithFailOpen (the
// default) allows as if the key were fresh, WithFailClosed denies with a
// fixed RetryAfter. AllowNContext takes the caller's context and returns the
// error with the policy's Decision. A request that can never be granted
// (n <= 0 or n > limit) gets RetryAfter ratelimit.Never in every case.
//
// # Cost
//
// One round trip per decision, and in Redis a script of two or three
// commands (about 4µs of server time for the fixed window and 6µs for the
// token bucket, by INFO commandstats). BenchmarkAllow against a private
// redis-server on a Unix socket, on a shared 2-core machine (medians of 3,
// go test -run '^$' -bench . -count 3 ./ratelimit/redislimit/): 24–38µs
// per decision from one goroutine for the token bucket and the windows,
// 54–60µs for the sliding log, against 13µs for a bare PING; 16–27
// allocations, most of them go-redis' command and reply. Nothing is cached
// locally, so every limiter is safe for concurrent use by any number of
// goroutines and processes: Redis runs one script at a time.
//
// # Caveats
//
// Redis 6.0 or later (SET KEEPTTL). The leaky bucket is not offered: its
// Wait shapes one process's calls and has no shared meaning. Limiters that
// share a prefix share keys: two policies or algorithms need two prefixes
// (each algorithm marks its values, so a mix-up fails with ErrCorruptState
// rather than deciding from foreign state). Decisions match the in-memory
// limiters' while the key lives; once Redis has expired an idle key, an
// instant earlier than the forgotten latest one is no longer moved forward.
// Invalid n still reads (and for the windows moves) the key's state, as
// ratelimit does, so Remaining and ResetAfter are filled in.
package redislimit
