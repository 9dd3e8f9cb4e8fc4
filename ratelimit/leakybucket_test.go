package ratelimit

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLeakyBucketTakeSpacesEvenly(t *testing.T) {
	lb, err := NewLeakyBucket(10, 5) // one per 100ms, five queued at most
	require.NoError(t, err)
	t0 := time.Unix(1_000_000, 0)
	for i := 0; i < 5; i++ {
		d, err := lb.TakeN("k", 1, t0)
		require.NoError(t, err)
		require.Equal(t, time.Duration(i)*100*time.Millisecond, d)
	}
	_, err = lb.TakeN("k", 1, t0)
	require.ErrorIs(t, err, ErrQueueFull)
	// One slot drains in 100ms; the next caller then waits for the 5th slot.
	d, err := lb.TakeN("k", 1, t0.Add(100*time.Millisecond))
	require.NoError(t, err)
	require.Equal(t, 400*time.Millisecond, d)

	_, err = lb.TakeN("k", 0, t0)
	require.ErrorIs(t, err, ErrInvalidN)
	_, err = lb.TakeN("k", 6, t0)
	require.ErrorIs(t, err, ErrInvalidN)
}

// TestLeakyBucketProperties checks over random arrivals that Take's start
// instants are at least one interval apart, that no admitted request waits
// longer than the queue, and that AllowN's meter agrees with Take.
func TestLeakyBucketProperties(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 5))
	traces, steps := traceCounts()
	for tr := 0; tr < traces; tr++ {
		rate := randRate(rng)
		capacity := 1 + rng.IntN(20)
		shaper, err := NewLeakyBucket(rate, capacity)
		require.NoError(t, err)
		meter, err := NewLeakyBucket(rate, capacity)
		require.NoError(t, err)
		iv := shaper.def.interval
		now := rng.Int64N(1 << 60)
		lastStart := int64(-1 << 62)
		for s := 0; s < steps; s++ {
			now += rng.Int64N(2*iv + 1)
			at := time.Unix(0, now)
			d, err := shaper.TakeN("k", 1, at)
			m := meter.AllowN("k", 1, at)
			if (err == nil) != m.Allowed {
				t.Fatalf("seed %d trace %d step %d: Take %v, AllowN %+v", seed, tr, s, err, m)
			}
			if err != nil {
				if !errors.Is(err, ErrQueueFull) || m.RetryAfter <= 0 {
					t.Fatalf("seed %d trace %d step %d: %v, %+v", seed, tr, s, err, m)
				}
				// On a copy of the state: room at RetryAfter, none 1ns before.
				e, p := meter.lookup("k", now)
				st := e.st
				e.mu.Unlock()
				early, due := st, st
				if ok, _, _ := p.admit(&early, 1, now+int64(m.RetryAfter)-1); ok {
					t.Fatalf("seed %d trace %d step %d: room before RetryAfter %v", seed, tr, s, m.RetryAfter)
				}
				if ok, _, _ := p.admit(&due, 1, now+int64(m.RetryAfter)); !ok {
					t.Fatalf("seed %d trace %d step %d: no room at RetryAfter %v", seed, tr, s, m.RetryAfter)
				}
				continue
			}
			start := now + int64(d)
			if start-lastStart < iv || int64(d) > int64(capacity-1)*iv {
				t.Fatalf("seed %d trace %d step %d: start %d after %d, delay %v", seed, tr, s, start, lastStart, d)
			}
			lastStart = start
		}
	}
}

func TestLeakyBucketWait(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_000_000, 0)}
	lb, err := NewLeakyBucket(1e6, 2, WithClock(clk.now)) // 1µs apart
	require.NoError(t, err)
	require.NoError(t, lb.Wait(context.Background(), "k"))
	require.NoError(t, lb.Wait(context.Background(), "k")) // waits 1µs on a real timer
	require.ErrorIs(t, lb.Wait(context.Background(), "k"), ErrQueueFull)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, lb.Wait(ctx, "k"), context.Canceled)
	// A long wait ends with the context.
	slow, err := NewLeakyBucket(0.001, 2, WithClock(clk.now))
	require.NoError(t, err)
	require.NoError(t, slow.Wait(context.Background(), "k"))
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- slow.Wait(ctx, "k") }()
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}
