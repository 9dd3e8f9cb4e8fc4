package ratelimit

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/sysblocks/sysblocks/ratelimit/internal/exact"
)

// TestMonoClock checks the default clock against time.Now, including after
// a base older than rebaseEvery, which must be replaced by a fresh one.
func TestMonoClock(t *testing.T) {
	c := newMonoClock()
	near := func() {
		t.Helper()
		before := time.Now().UnixNano()
		got := c.unixNano()
		after := time.Now().UnixNano()
		// The monotonic and wall clocks may drift apart by a little
		// within the rebase interval; 10ms is far beyond NTP slewing.
		require.GreaterOrEqual(t, got, before-int64(10*time.Millisecond))
		require.LessOrEqual(t, got, after+int64(10*time.Millisecond))
	}
	for i := 0; i < 1000; i++ {
		near()
	}
	old := &clockBase{at: time.Now().Add(-2 * rebaseEvery)}
	old.unix = exact.UnixNano(old.at) - int64(time.Hour) // a wall step the rebase must pick up
	c.base.Store(old)
	near()
	require.NotSame(t, old, c.base.Load(), "a stale base is replaced")

	tb, err := NewTokenBucket(1, 1)
	require.NoError(t, err)
	require.NotNil(t, tb.cfg.mono, "the default clock is the monotonic one")
	tb, err = NewTokenBucket(1, 1, WithClock(time.Now))
	require.NoError(t, err)
	require.Nil(t, tb.cfg.mono, "WithClock replaces it")
	_, err = NewTokenBucket(1, 1, WithClock(nil))
	require.ErrorIs(t, err, ErrInvalidOption)
}
