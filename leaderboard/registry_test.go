package leaderboard

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeClock is an injectable clock moved by the test.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestRegistry(t *testing.T) {
	for _, tc := range []struct {
		period    Period
		start     time.Time
		step      time.Duration
		wantNames []string // current name after 0, 1, 2 steps
	}{
		{Monthly, time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC), 2 * time.Hour,
			[]string{"leaderboards:2026-11", "leaderboards:2026-12", "leaderboards:2026-12"}},
		{Monthly, time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC), 24 * time.Hour,
			[]string{"leaderboards:2026-12", "leaderboards:2027-01", "leaderboards:2027-01"}},
		{Daily, time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), 24 * time.Hour,
			[]string{"leaderboards:2026-11-23", "leaderboards:2026-11-24", "leaderboards:2026-11-25"}},
		{Weekly, time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), 7 * 24 * time.Hour,
			[]string{"leaderboards:2026-W48", "leaderboards:2026-W49", "leaderboards:2026-W50"}},
		{Daily, time.Date(1969, 12, 31, 12, 0, 0, 0, time.UTC), 24 * time.Hour,
			[]string{"leaderboards:1969-12-31", "leaderboards:1970-01-01", "leaderboards:1970-01-02"}},
	} {
		t.Run(tc.wantNames[0], func(t *testing.T) {
			clk := &fakeClock{tc.start}
			r, err := NewRegistry(RegistryOptions{Period: tc.period, Now: clk.now})
			require.NoError(t, err)
			var names []string
			for i := 0; i < 3; i++ {
				name, b := r.Current()
				b.Add("p", float64(i))
				names = append(names, name)
				clk.t = clk.t.Add(tc.step)
			}
			require.Equal(t, tc.wantNames, names)
		})
	}
}

func TestRegistryExpiry(t *testing.T) {
	clk := &fakeClock{time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)}
	r, err := NewRegistry(RegistryOptions{Now: clk.now, Keep: 2})
	require.NoError(t, err)
	name, nov := r.Current()
	require.Equal(t, "leaderboards:2026-11", name)
	nov.Add("ada", 10)

	clk.t = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	_, dec := r.Current()
	require.NotSame(t, nov, dec)
	require.Equal(t, []string{"leaderboards:2026-11", "leaderboards:2026-12"}, r.Names())
	got, ok := r.Get("leaderboards:2026-11")
	require.True(t, ok)
	require.Same(t, nov, got)
	_, b, ok := r.At(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	require.True(t, ok)
	require.Same(t, nov, b)

	clk.t = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) // November falls out
	require.Equal(t, []string{"leaderboards:2026-11"}, r.Expire())
	require.Equal(t, []string{"leaderboards:2026-12"}, r.Names())
	_, ok = r.Get("leaderboards:2026-11")
	require.False(t, ok)

	_, err = NewRegistry(RegistryOptions{Keep: -1})
	require.ErrorIs(t, err, ErrInvalidOptions)
	_, err = NewRegistry(RegistryOptions{Period: 9})
	require.ErrorIs(t, err, ErrInvalidOptions)
}
