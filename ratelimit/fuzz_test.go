package ratelimit

import (
	"encoding/binary"
	"errors"
	"math"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// FuzzTokenBucketVsXTimeRate replays a fuzzed trace through TokenBucket and
// x/time/rate: every 5 bytes of ops are a signed 32-bit step (times scale
// nanoseconds) and an n. Decisions must be identical, and every RetryAfter
// exact (allowed then, not a nanosecond earlier).
func FuzzTokenBucketVsXTimeRate(f *testing.F) {
	f.Add(4.0, uint16(1), uint32(1), []byte{0, 0, 0, 0, 1, 0xff, 0x77, 0xe6, 0x0e, 1})
	f.Add(0.3, uint16(3), uint32(1000), []byte{1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 1, 0x10, 0x27, 0, 0, 3})
	f.Add(1e9, uint16(100), uint32(1), []byte{5, 0, 0, 0, 50, 0, 0, 0, 0, 60})
	f.Add(1.0/3, uint16(2), uint32(1_000_000), []byte{0x4d, 0x01, 0, 0, 1, 0x4d, 0x01, 0, 0, 2})
	f.Fuzz(func(t *testing.T, r float64, burst uint16, scale uint32, ops []byte) {
		tb, err := NewTokenBucket(r, int(burst))
		if err != nil {
			if !errors.Is(err, ErrInvalidRate) && !errors.Is(err, ErrInvalidLimit) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		ref := rate.NewLimiter(rate.Limit(r), int(burst))
		now := int64(1_700_000_000) * int64(time.Second)
		for len(ops) >= 5 {
			step := int64(int32(binary.LittleEndian.Uint32(ops))) * int64(scale)
			n := int(int8(ops[4]))
			ops = ops[5:]
			now += step
			at := time.Unix(0, now)
			got := tb.AllowN("k", n, at)
			if n <= 0 {
				if got.Allowed || got.RetryAfter != Never {
					t.Fatalf("n=%d: %+v", n, got)
				}
				continue // x/time/rate gives n <= 0 other meanings; documented deviation
			}
			if want := ref.AllowN(at, n); got.Allowed != want {
				t.Fatalf("rate %v burst %d n %d at %d: got %v, x/time/rate %v", r, burst, n, now, got.Allowed, want)
			}
			checkDecision(t, got)
			if !got.Allowed && got.RetryAfter != Never {
				checkRetryAfter(t, tb, n, now, got.RetryAfter) // exact, from the memo or not
			}
		}
	})
}

func checkDecision(t *testing.T, d Decision) {
	t.Helper()
	if d.Remaining < 0 || d.Remaining > d.Limit || d.RetryAfter < 0 || d.ResetAfter < 0 || d.Window <= 0 {
		t.Fatalf("bad decision %+v", d)
	}
	if d.Allowed && d.RetryAfter != 0 {
		t.Fatalf("allowed with RetryAfter: %+v", d)
	}
	if !d.Allowed && d.RetryAfter == 0 {
		t.Fatalf("denied without RetryAfter: %+v", d)
	}
}

// FuzzAllowN throws arbitrary parameters, n and instants at every limiter:
// construction fails with a sentinel or succeeds, and no call panics or
// returns an inconsistent Decision.
func FuzzAllowN(f *testing.F) {
	f.Add(uint8(0), 10, 1.5, int64(time.Second), 1, int64(0), int64(1))
	f.Add(uint8(1), 1, 1e-9, int64(1), math.MaxInt, int64(math.MaxInt64), int64(math.MinInt64))
	f.Add(uint8(2), min(MaxLimit, math.MaxInt), 1e9, int64(math.MaxInt64), -1, int64(math.MinInt64), int64(-1))
	f.Add(uint8(3), 5, 0.0, int64(-5), 5, int64(1), int64(math.MaxInt64))
	f.Add(uint8(4), 7, 3.0, int64(7), 7, int64(-7), int64(6))
	f.Fuzz(func(t *testing.T, kind uint8, limit int, r float64, window int64, n int, t1, t2 int64) {
		var l Limiter
		var err error
		switch kind % 5 {
		case 0:
			l, err = NewTokenBucket(r, limit)
		case 1:
			l, err = NewLeakyBucket(r, limit)
		case 2:
			l, err = NewFixedWindow(limit, time.Duration(window))
		case 3:
			l, err = NewSlidingLog(limit, time.Duration(window))
		default:
			l, err = NewSlidingWindow(limit, time.Duration(window))
		}
		if err != nil {
			for _, e := range []error{ErrInvalidRate, ErrInvalidLimit, ErrInvalidWindow} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("unexpected error %v", err)
		}
		for _, at := range []int64{t1, t2, t1, t2} {
			d := l.AllowN("k", n, time.Unix(0, at))
			checkDecision(t, d)
			if (n <= 0 || n > limit) && (d.Allowed || d.RetryAfter != Never) {
				t.Fatalf("bad n %d: %+v", n, d)
			}
			checkDecision(t, l.AllowN("k", 1, time.Unix(0, at)))
		}
	})
}

// FuzzClientIP: any RemoteAddr and X-Forwarded-For give an "ip:" key, and
// the header never matters when the peer is not a trusted proxy.
func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.1:80", "198.51.100.7, 10.1.1.1")
	f.Add("198.51.100.7:1", "1.2.3.4")
	f.Add("[2001:db8::1]:443", "[::1]:5, ,,bogus")
	f.Add("", "")
	trusted := netip.MustParsePrefix("10.0.0.0/8")
	key := ClientIP(trusted)
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		got := key(r)
		if !strings.HasPrefix(got, "ip:") {
			t.Fatalf("key %q", got)
		}
		if a, ok := parseHop(remote); ok && !trusted.Contains(a) && got != "ip:"+a.String() {
			t.Fatalf("untrusted peer %q: key %q depends on the header", remote, got)
		}
	})
}
