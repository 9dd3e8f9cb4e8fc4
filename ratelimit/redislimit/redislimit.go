package redislimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sysblocks/sysblocks/ratelimit"
)

// ErrCorruptState: a key under the limiter's prefix holds a value the
// limiter did not write (another program, or another algorithm sharing the
// prefix). The decision fails and the failure policy applies; the value is
// left alone.
var ErrCorruptState = errors.New("redislimit: corrupt state")

// DefaultExpiryMargin is how long a key outlives the instant its state
// becomes equivalent to a fresh key's, when WithExpiryMargin is not given.
const DefaultExpiryMargin = time.Second

// maxTTL caps a key's time to live (about 31,700 years): a policy whose
// state takes longer to become idle, a token bucket with a tiny rate, keeps
// its keys that long.
const maxTTL = 1e15 // ms

// Option configures a limiter at construction.
type Option func(*config)

type config struct {
	prefix     string
	hasPrefix  bool
	now        func() time.Time
	customNow  bool // WithClock was given
	timeout    time.Duration
	margin     time.Duration
	failClosed bool
	failRetry  time.Duration
	onError    func(key string, err error)
	overrides  map[string]ratelimit.Policy
	server     *serverClock
	serverSync time.Duration
	marginMs   int64 // the margin in whole milliseconds, rounded up
	marginArg  any   // marginMs, boxed once
}

// WithPrefix sets the prefix of every Redis key the limiter writes (the
// Redis key of a limiter key k is prefix+k). The defaults are
// "ratelimit:tb:", "ratelimit:fw:", "ratelimit:sw:" and "ratelimit:sl:" for
// the token bucket, fixed window, sliding window and sliding log. Limiters that share a prefix share their
// keys' state, so two policies or algorithms need two prefixes. In a Redis
// Cluster every limiter key maps to one Redis key, so no hash tag is needed;
// a prefix or key may carry one ("{tenant}:") to colocate keys.
func WithPrefix(p string) Option {
	return func(c *config) { c.prefix, c.hasPrefix = p, true }
}

// WithClock replaces time.Now as the source of now for Allow; AllowN and
// AllowNContext always use the instant they are given.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now, c.customNow = now, true }
}

// WithServerClock makes Allow take now from the Redis server's clock instead
// of the local one, so that instances whose clocks disagree still agree on
// the windows: the limiter learns the offset between the local clock and the
// server's TIME with one extra round trip, repeated every resync (default 1
// minute when resync <= 0), and Allow adds it to the local clock. The
// offset's error is at most half a round trip plus the drift over resync.
// Until the first synchronisation succeeds the offset is zero; a failed
// synchronisation keeps the last offset and is reported to WithErrorHandler.
func WithServerClock(resync time.Duration) Option {
	return func(c *config) {
		if resync <= 0 {
			resync = time.Minute
		}
		c.serverSync = resync
	}
}

// WithTimeout gives each decision of Allow and AllowN a context with this
// deadline; a decision that takes longer fails and the failure policy
// applies. AllowNContext uses its caller's context instead. By default (or
// with d = 0) Allow and AllowN use context.Background(), which saves a
// timer per call, and the client's own timeouts bound them: go-redis applies
// a context's deadline to the connection's reads and writes only when its
// Options.ContextTimeoutEnabled is set (otherwise ReadTimeout and
// WriteTimeout, 3s by default, do), so set that too, or just lower
// ReadTimeout and WriteTimeout, to fail fast.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithExpiryMargin sets how long a key lives in Redis past the instant its
// state becomes equivalent to a fresh key's (default DefaultExpiryMargin).
// Redis expires keys by its own clock while the state is computed at the
// callers' instants, so the margin must cover how far the callers' clocks
// may lag the server's: a key that expired too early would forget usage.
func WithExpiryMargin(d time.Duration) Option {
	return func(c *config) { c.margin = d }
}

// WithFailOpen makes Allow and AllowN allow a request when Redis cannot
// decide (the default): the Decision is that of a fresh key, Allowed with
// Remaining limit−n. Use it when the limiter protects against abuse and an
// outage of Redis must not become an outage of the service.
func WithFailOpen() Option {
	return func(c *config) { c.failClosed, c.failRetry = false, 0 }
}

// WithFailClosed makes Allow and AllowN deny a request when Redis cannot
// decide, with RetryAfter retry (which must be positive) and Remaining 0.
// Use it when the limit protects something that must not be overrun.
func WithFailClosed(retry time.Duration) Option {
	return func(c *config) { c.failClosed, c.failRetry = true, retry }
}

// WithErrorHandler has Allow and AllowN call f with the key and the error
// whenever Redis cannot decide, before the failure policy answers (and the
// server clock report its failed synchronisations, with key ""). f must be
// safe for concurrent use and should not block.
func WithErrorHandler(f func(key string, err error)) Option {
	return func(c *config) { c.onError = f }
}

// WithOverride gives key its own policy instead of the limiter's default,
// validated by the constructor like the default one. TokenBucket reads
// Rate and Limit (the burst); the window limiters read Limit and Window.
func WithOverride(key string, p ratelimit.Policy) Option {
	return func(c *config) {
		if c.overrides == nil {
			c.overrides = make(map[string]ratelimit.Policy)
		}
		c.overrides[key] = p
	}
}

func buildConfig(client redis.Scripter, prefix string, opts []Option) (config, error) {
	c := config{margin: DefaultExpiryMargin}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if !c.hasPrefix {
		c.prefix = prefix
	}
	if !c.customNow {
		c.now = time.Now
	}
	switch {
	case c.now == nil:
		return c, fmt.Errorf("redislimit: %w: nil clock", ratelimit.ErrInvalidOption)
	case client == nil:
		return c, fmt.Errorf("redislimit: %w: nil client", ratelimit.ErrInvalidOption)
	case c.timeout < 0:
		return c, fmt.Errorf("redislimit: %w: timeout %v < 0", ratelimit.ErrInvalidOption, c.timeout)
	case c.margin < 0:
		return c, fmt.Errorf("redislimit: %w: expiry margin %v < 0", ratelimit.ErrInvalidOption, c.margin)
	case c.failClosed && c.failRetry <= 0:
		return c, fmt.Errorf("redislimit: %w: fail-closed retry %v <= 0", ratelimit.ErrInvalidOption, c.failRetry)
	}
	c.marginMs = ceilMs(int64(c.margin))
	c.marginArg = c.marginMs
	if c.serverSync > 0 {
		c.server = newServerClock(client, c.now, c.serverSync, c.timeout, c.onError)
	}
	return c, nil
}

// clock returns now for Allow.
func (c *config) clock() time.Time {
	if c.server != nil {
		return c.server.now()
	}
	return c.now()
}

// report passes an error of Allow or AllowN to the error handler.
func (c *config) report(key string, err error) {
	if c.onError != nil {
		c.onError(key, err)
	}
}

// failDecision is the Decision for a request of n that Redis could not
// decide: the failure policy's for a valid n, Never for an impossible one.
func (c *config) failDecision(valid bool, n, limit int, window time.Duration) ratelimit.Decision {
	d := ratelimit.Decision{Limit: limit, Window: window}
	switch {
	case !valid:
		d.RetryAfter = ratelimit.Never
		return d
	case c.failClosed:
		d.RetryAfter = c.failRetry
		return d
	}
	d.Allowed, d.Remaining = true, limit-n
	return d
}

// core is what the four limiters share: the client, the script, the
// configuration and the policies.
type core[P any] struct {
	client redis.Scripter
	script *redis.Script
	cfg    config
	def    *P
	over   map[string]*P
}

func newCore[P any](client redis.Scripter, script *redis.Script, prefix string, def ratelimit.Policy,
	mk func(ratelimit.Policy) (P, error), opts []Option) (core[P], error) {
	cfg, err := buildConfig(client, prefix, opts)
	if err != nil {
		return core[P]{}, err
	}
	d, err := mk(def)
	if err != nil {
		return core[P]{}, err
	}
	over := make(map[string]*P, len(cfg.overrides))
	for k, p := range cfg.overrides {
		v, err := mk(p)
		if err != nil {
			return core[P]{}, fmt.Errorf("override for key %q: %w", k, err)
		}
		over[k] = &v
	}
	return core[P]{client: client, script: script, cfg: cfg, def: &d, over: over}, nil
}

func (c *core[P]) policy(key string) *P {
	if len(c.over) > 0 {
		if p, ok := c.over[key]; ok {
			return p
		}
	}
	return c.def
}

// run evaluates the script for key and returns its array reply.
func (c *core[P]) run(ctx context.Context, key string, args ...any) ([]any, error) {
	res, err := c.script.Run(ctx, c.client, []string{c.cfg.prefix + key}, args...).Slice()
	if err != nil {
		return nil, fmt.Errorf("redislimit: key %q: %w", key, err)
	}
	return res, nil
}

// allowN is AllowN for every limiter: decide with the limiter's own
// AllowNContext under the configured timeout, and report a failure.
func (c *core[P]) allowN(key string, n int, now time.Time,
	decide func(context.Context, string, int, time.Time) (ratelimit.Decision, error)) ratelimit.Decision {
	ctx := context.Background()
	if c.cfg.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.timeout)
		defer cancel()
	}
	d, err := decide(ctx, key, n, now)
	if err != nil {
		c.cfg.report(key, err)
	}
	return d
}

func checkLimit(what string, n int) error {
	if n < 1 || int64(n) > ratelimit.MaxLimit {
		return fmt.Errorf("redislimit: %w: %s %d not in [1, %d]", ratelimit.ErrInvalidLimit, what, n, int64(ratelimit.MaxLimit))
	}
	return nil
}

func checkRate(r float64) error {
	if !(r > 0 && r <= ratelimit.MaxRate) { // also rejects NaN
		return fmt.Errorf("redislimit: %w: %v not in (0, %v]", ratelimit.ErrInvalidRate, r, float64(ratelimit.MaxRate))
	}
	return nil
}

func checkWindow(w time.Duration) error {
	if w <= 0 {
		return fmt.Errorf("redislimit: %w: %v", ratelimit.ErrInvalidWindow, w)
	}
	return nil
}

// corrupt wraps ErrCorruptState for a reply that is not what the script returns.
func corrupt(key string, what string) error {
	return fmt.Errorf("%w: key %q: %s", ErrCorruptState, key, what)
}
