package ratelimit

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestConstructorsRejectBadInput(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		name    string
		mk      func() error
		wantErr error
	}{
		{"token rate 0", func() error { _, err := NewTokenBucket(0, 1); return err }, ErrInvalidRate},
		{"token rate -1", func() error { _, err := NewTokenBucket(-1, 1); return err }, ErrInvalidRate},
		{"token rate NaN", func() error { _, err := NewTokenBucket(nan, 1); return err }, ErrInvalidRate},
		{"token rate Inf", func() error { _, err := NewTokenBucket(inf, 1); return err }, ErrInvalidRate},
		{"token rate over max", func() error { _, err := NewTokenBucket(2e9, 1); return err }, ErrInvalidRate},
		{"token burst 0", func() error { _, err := NewTokenBucket(1, 0); return err }, ErrInvalidLimit},
		{"token burst huge", func() error { _, err := NewTokenBucket(1, math.MaxInt); return err }, ErrInvalidLimit},
		{"leaky rate 0", func() error { _, err := NewLeakyBucket(0, 1); return err }, ErrInvalidRate},
		{"leaky capacity -1", func() error { _, err := NewLeakyBucket(1, -1); return err }, ErrInvalidLimit},
		{"leaky queue too long", func() error { _, err := NewLeakyBucket(1e-9, 1<<30); return err }, ErrInvalidRate},
		{"fixed limit 0", func() error { _, err := NewFixedWindow(0, time.Second); return err }, ErrInvalidLimit},
		{"fixed window 0", func() error { _, err := NewFixedWindow(1, 0); return err }, ErrInvalidWindow},
		{"log window -1", func() error { _, err := NewSlidingLog(1, -1); return err }, ErrInvalidWindow},
		{"sliding limit huge", func() error { _, err := NewSlidingWindow(math.MaxInt, time.Second); return err }, ErrInvalidLimit},
		{"nil clock", func() error { _, err := NewFixedWindow(1, time.Second, WithClock(nil)); return err }, ErrInvalidOption},
		{"negative MaxKeys", func() error { _, err := NewFixedWindow(1, time.Second, WithMaxKeys(-1)); return err }, ErrInvalidOption},
		{"zero shards", func() error { _, err := NewFixedWindow(1, time.Second, WithShards(0)); return err }, ErrInvalidOption},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.HasSuffix(tc.name, "huge") && math.MaxInt <= MaxLimit {
				t.Skip("every int is within MaxLimit on this platform")
			}
			require.ErrorIs(t, tc.mk(), tc.wantErr)
		})
	}
}

// allLimiters builds one of each limiter with limit 3 (per second for the
// buckets and per second-long window for the others).
func allLimiters(t testing.TB, opts ...Option) map[string]Limiter {
	t.Helper()
	tb, err := NewTokenBucket(3, 3, opts...)
	require.NoError(t, err)
	lb, err := NewLeakyBucket(3, 3, opts...)
	require.NoError(t, err)
	fw, err := NewFixedWindow(3, time.Second, opts...)
	require.NoError(t, err)
	sl, err := NewSlidingLog(3, time.Second, opts...)
	require.NoError(t, err)
	sw, err := NewSlidingWindow(3, time.Second, opts...)
	require.NoError(t, err)
	return map[string]Limiter{"token": tb, "leaky": lb, "fixed": fw, "log": sl, "sliding": sw}
}

// TestBadN: n <= 0, n > limit and huge n are refused with RetryAfter Never
// and leave the key's state as it was.
func TestBadN(t *testing.T) {
	at := time.Unix(1_000_000, 0)
	for name, l := range allLimiters(t) {
		t.Run(name, func(t *testing.T) {
			require.True(t, l.AllowN("k", 1, at).Allowed)
			for _, n := range []int{0, -1, math.MinInt, 4, math.MaxInt} {
				d := l.AllowN("k", n, at)
				require.False(t, d.Allowed, "n=%d", n)
				require.Equal(t, Never, d.RetryAfter, "n=%d", n)
				require.Equal(t, 2, d.Remaining, "n=%d", n)
			}
			require.True(t, l.AllowN("k", 2, at).Allowed)
			d := l.AllowN("k", 1, at)
			require.False(t, d.Allowed)
			require.Positive(t, d.RetryAfter)
			require.NotEqual(t, Never, d.RetryAfter)
		})
	}
}

// TestExtremeInstants: instants at the ends of time.Time's range neither
// panic nor wrap around.
func TestExtremeInstants(t *testing.T) {
	for name, l := range allLimiters(t) {
		t.Run(name, func(t *testing.T) {
			for _, at := range []time.Time{
				{}, time.Unix(math.MinInt64/2, 0), time.Unix(-1, 999999999), time.Unix(0, 0),
				time.Unix(1<<40, 0), time.Unix(math.MaxInt64/2, 0), time.Unix(0, 0),
			} {
				d := l.AllowN("k", 1, at)
				require.GreaterOrEqual(t, d.Remaining, 0)
				require.LessOrEqual(t, d.Remaining, d.Limit)
				require.GreaterOrEqual(t, d.RetryAfter, time.Duration(0))
				require.GreaterOrEqual(t, d.ResetAfter, time.Duration(0))
			}
		})
	}
}
