package ratelimit

import (
	"net/http"
	"strconv"
	"strings"
)

// MiddlewareOption configures Middleware.
type MiddlewareOption func(*mwConfig)

type mwConfig struct {
	name   string
	legacy bool
	denied http.Handler
}

// WithPolicyName sets the policy name quoted in the RateLimit-Policy and
// RateLimit fields (default "default"). Characters a structured-field string
// cannot hold are replaced by '_'.
func WithPolicyName(name string) MiddlewareOption {
	return func(c *mwConfig) { c.name = name }
}

// WithoutLegacyHeaders turns off the de-facto X-RateLimit-Limit,
// X-RateLimit-Remaining and X-RateLimit-Reset fields.
func WithoutLegacyHeaders() MiddlewareOption {
	return func(c *mwConfig) { c.legacy = false }
}

// WithDeniedHandler replaces the plain-text 429 response; the handler runs
// after the rate-limit fields are set and must write the status itself.
func WithDeniedHandler(h http.Handler) MiddlewareOption {
	return func(c *mwConfig) { c.denied = h }
}

// Middleware limits requests by key(r) with l.Allow. Every response carries
// the fields of draft-ietf-httpapi-ratelimit-headers-09,
//
//	RateLimit-Policy: "<name>";q=<limit>;w=<window seconds>
//	RateLimit: "<name>";r=<remaining>;t=<seconds until full>
//
// and, unless WithoutLegacyHeaders, X-RateLimit-Limit, X-RateLimit-Remaining
// and X-RateLimit-Reset (delta-seconds until full, not an epoch time). A
// denied request gets 429 Too Many Requests with Retry-After in delta-seconds
// rounded up, so never earlier than the limiter's real wait (no Retry-After
// when no wait can help). All seconds are rounded up. It writes no HTTP
// dates. The returned middleware is safe for concurrent use if l is.
func Middleware(l Limiter, key func(*http.Request) string, opts ...MiddlewareOption) func(http.Handler) http.Handler {
	c := mwConfig{name: "default", legacy: true}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	name := sfString(c.name)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			d := l.Allow(key(r))
			h := w.Header()
			reset := strconv.FormatInt(ceilSeconds(d.ResetAfter), 10)
			h.Set("RateLimit-Policy", name+";q="+strconv.Itoa(d.Limit)+";w="+strconv.FormatInt(ceilSeconds(d.Window), 10))
			h.Set("RateLimit", name+";r="+strconv.Itoa(d.Remaining)+";t="+reset)
			if c.legacy {
				h.Set("X-RateLimit-Limit", strconv.Itoa(d.Limit))
				h.Set("X-RateLimit-Remaining", strconv.Itoa(d.Remaining))
				h.Set("X-RateLimit-Reset", reset)
			}
			if d.Allowed {
				next.ServeHTTP(w, r)
				return
			}
			if d.RetryAfter != Never {
				h.Set("Retry-After", strconv.FormatInt(max(1, ceilSeconds(d.RetryAfter)), 10))
			}
			if c.denied != nil {
				c.denied.ServeHTTP(w, r)
				return
			}
			http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
		})
	}
}

// sfString renders s as an RFC 8941 structured-field string.
func sfString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '"' || ch == '\\':
			b.WriteByte('\\')
			b.WriteByte(ch)
		case ch < 0x20 || ch > 0x7e:
			b.WriteByte('_')
		default:
			b.WriteByte(ch)
		}
	}
	b.WriteByte('"')
	return b.String()
}
