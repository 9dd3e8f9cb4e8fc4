package ratelimit

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns a key function giving "ip:<address>" for the client of a
// request. It trusts X-Forwarded-For only as far as trusted proxies vouch for
// it: starting from the connection's peer (RemoteAddr), while the current hop
// is in a trusted prefix it steps one entry left in X-Forwarded-For (all its
// field lines, in order); the first untrusted hop is the client. An entry
// that is not an IP address stops the walk at the last trusted hop, and a
// header is never read when the peer itself is untrusted, so a client cannot
// choose its key by sending the header. IPv4-mapped IPv6 addresses are
// unmapped. The function is safe for concurrent use.
func ClientIP(trusted ...netip.Prefix) func(*http.Request) string {
	prefixes := append([]netip.Prefix(nil), trusted...)
	isTrusted := func(a netip.Addr) bool {
		for _, p := range prefixes {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		hop, ok := parseHop(r.RemoteAddr)
		if !ok {
			return "ip:" + r.RemoteAddr
		}
		if isTrusted(hop) {
			hop = walkForwarded(r.Header.Values("X-Forwarded-For"), hop, isTrusted)
		}
		return "ip:" + hop.String()
	}
}

// walkForwarded walks X-Forwarded-For right to left from the trusted peer
// hop and returns the first untrusted address, or the last trusted one.
func walkForwarded(lines []string, hop netip.Addr, isTrusted func(netip.Addr) bool) netip.Addr {
	for l := len(lines) - 1; l >= 0; l-- {
		rest := lines[l]
		for rest != "" {
			var item string
			if i := strings.LastIndexByte(rest, ','); i >= 0 {
				item, rest = rest[i+1:], rest[:i]
			} else {
				item, rest = rest, ""
			}
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			a, ok := parseHop(item)
			if !ok {
				return hop
			}
			hop = a
			if !isTrusted(a) {
				return a
			}
		}
	}
	return hop
}

// parseHop parses "ip", "ip:port" or "[ipv6]:port".
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// APIKey returns a key function giving "key:<value>" from the request header
// named header, or fallback(r) when the header is absent or empty (fallback
// may be nil: then all such requests share the key "key:").
func APIKey(header string, fallback func(*http.Request) string) func(*http.Request) string {
	return func(r *http.Request) string {
		if v := r.Header.Get(header); v != "" {
			return "key:" + v
		}
		if fallback != nil {
			return fallback(r)
		}
		return "key:"
	}
}

// User returns a key function giving "user:<name>" for the authenticated
// user that user(r) reports (for example from the request's context), or
// fallback(r) for anonymous requests (fallback may be nil: then they share
// the key "user:").
func User(user func(*http.Request) (string, bool), fallback func(*http.Request) string) func(*http.Request) string {
	return func(r *http.Request) string {
		if name, ok := user(r); ok {
			return "user:" + name
		}
		if fallback != nil {
			return fallback(r)
		}
		return "user:"
	}
}
