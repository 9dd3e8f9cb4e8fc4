package sequencer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sysblocks/sysblocks/internal/testseed"
)

var strategies = []WaitStrategy{Block, Yield, BusySpin}

func TestNewRingSize(t *testing.T) {
	tests := []struct {
		size    int
		wantErr bool
	}{
		{size: -1, wantErr: true},
		{size: 0, wantErr: true},
		{size: 1},
		{size: 2},
		{size: 3, wantErr: true},
		{size: 6, wantErr: true},
		{size: 1024},
		{size: 1000, wantErr: true},
		{size: int(min(MaxRingSize*2, math.MaxInt)), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.size), func(t *testing.T) {
			r, err := NewRing[int](tt.size)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrRingSize)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.size, r.Cap())
		})
	}
	_, err := NewRing[int](8, WithWait(WaitStrategy(9)))
	require.ErrorIs(t, err, ErrInvalidOption)
}

func TestRingClaimErrors(t *testing.T) {
	r, err := NewRing[int](4)
	require.NoError(t, err)
	_, err = r.Claim(0)
	require.ErrorIs(t, err, ErrClaim)
	_, err = r.Claim(5)
	require.ErrorIs(t, err, ErrClaim)
	_, err = r.TryClaim(-1)
	require.ErrorIs(t, err, ErrClaim)

	other, err := NewRing[int](4)
	require.NoError(t, err)
	oc, err := other.NewConsumer()
	require.NoError(t, err)
	_, err = r.NewConsumer(oc)
	require.ErrorIs(t, err, ErrForeign)
	_, err = r.NewConsumer(nil)
	require.ErrorIs(t, err, ErrForeign)

	c, err := r.NewConsumer()
	require.NoError(t, err)
	_, err = r.TryClaim(4)
	require.NoError(t, err)
	_, err = r.NewConsumer()
	require.ErrorIs(t, err, ErrStarted)
	_, err = r.TryClaim(1)
	require.ErrorIs(t, err, ErrFull, "4 claimed, none released")
	require.ErrorIs(t, c.Release(1), ErrRelease, "nothing handed out yet")

	r.Close()
	r.Close()
	_, err = r.Claim(1)
	require.ErrorIs(t, err, ErrClosed)
	_, err = r.TryClaim(1)
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, r.Put(1), ErrClosed)
}

// TestRingModel drives a single-producer ring and a two-stage pipeline from
// one goroutine with random claim, publish, read and release steps and checks
// every step against a plain slice queue.
func TestRingModel(t *testing.T) {
	seed := testseed.Seed(t)
	rounds := 20
	if testseed.Long() {
		rounds = 500
	}
	for round := range rounds {
		rng := rand.New(rand.NewPCG(seed, uint64(round)))
		for _, multi := range []bool{false, true} {
			size := 1 << rng.IntN(6)
			var opts []RingOption
			if multi {
				opts = append(opts, WithMultiProducer())
			}
			runRingModel(t, rng, size, opts, 2000)
		}
	}
}

func runRingModel(t *testing.T, rng *rand.Rand, size int, opts []RingOption, steps int) {
	r, err := NewRing[uint64](size, opts...)
	require.NoError(t, err)
	first, err := r.NewConsumer()
	require.NoError(t, err)
	second, err := r.NewConsumer(first)
	require.NoError(t, err)

	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	var (
		nextVal   uint64 // model: value v is written at sequence v
		published uint64 // everything below is published
		pos1      uint64 // first stage's position
		pos2      uint64 // second stage's position
	)
	// take polls c at position pos, which must find [pos, want) readable,
	// and picks how far to read.
	take := func(c *Consumer[uint64], pos, want uint64) (to uint64, ok bool) {
		up, err := c.Wait(canceled)
		if want == pos {
			require.ErrorIs(t, err, context.Canceled)
			return 0, false
		}
		require.NoError(t, err)
		require.Equal(t, want, up)
		return pos + 1 + uint64(rng.IntN(int(up-pos))), true
	}
	for range steps {
		switch rng.IntN(3) {
		case 0: // produce a batch
			n := 1 + rng.IntN(size)
			seq, err := r.TryClaim(n)
			if int(published-pos2)+n > size {
				require.ErrorIs(t, err, ErrFull)
				continue
			}
			require.NoError(t, err)
			require.Equal(t, published, seq)
			for i := range n {
				*r.Slot(seq + uint64(i)) = nextVal
				nextVal++
			}
			r.Publish(seq, n)
			published += uint64(n)
		case 1: // first stage reads and doubles some values in place
			to, ok := take(first, pos1, published)
			if !ok {
				continue
			}
			for s := pos1; s < to; s++ {
				require.Equal(t, s, *r.Slot(s))
				*r.Slot(s) = 2 * s
			}
			require.ErrorIs(t, first.Release(published+1), ErrRelease)
			require.NoError(t, first.Release(to))
			pos1 = to
		case 2: // second stage sees the first stage's output only
			to, ok := take(second, pos2, pos1)
			if !ok {
				continue
			}
			for s := pos2; s < to; s++ {
				require.Equal(t, 2*s, *r.Slot(s))
			}
			require.NoError(t, second.Release(to))
			pos2 = to
		}
		require.Equal(t, pos1, first.Position())
		require.Equal(t, pos2, second.Position())
	}
}

type item struct {
	producer int
	n        int
	stage    int // set by the first pipeline stage
}

// TestRingConcurrent runs producers and a pipeline concurrently under every
// wait strategy and producer mode: each producer's items arrive exactly once,
// in its order, after passing both stages.
func TestRingConcurrent(t *testing.T) {
	perProducer := 20000
	if testseed.Long() {
		perProducer = 500000
	}
	for _, ws := range strategies {
		for _, producers := range []int{1, 4} {
			t.Run(fmt.Sprintf("%v/producers=%d", ws, producers), func(t *testing.T) {
				n := perProducer
				if ws == BusySpin {
					// Six spinners share two cores here: keep it short.
					n /= 20
				}
				opts := []RingOption{WithWait(ws)}
				if producers > 1 {
					opts = append(opts, WithMultiProducer())
				}
				r, err := NewRing[item](64, opts...)
				require.NoError(t, err)
				stage1, err := r.NewConsumer()
				require.NoError(t, err)
				stage2, err := r.NewConsumer(stage1)
				require.NoError(t, err)

				errs := make(chan error, 2)
				go func() {
					errs <- stage1.Consume(context.Background(), func(_ uint64, batch []item) error {
						for i := range batch {
							batch[i].stage = 1
						}
						return nil
					})
				}()
				next := make([]int, producers)
				go func() {
					errs <- stage2.Consume(context.Background(), func(first uint64, batch []item) error {
						for _, it := range batch {
							if it.stage != 1 {
								return fmt.Errorf("seq %d skipped stage 1", first)
							}
							if it.n != next[it.producer] {
								return fmt.Errorf("producer %d: got %d, want %d", it.producer, it.n, next[it.producer])
							}
							next[it.producer]++
						}
						return nil
					})
				}()

				var wg sync.WaitGroup
				for p := range producers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := 0; i < n; {
							k := min(1+i%7, n-i)
							seq, err := r.Claim(k)
							if err != nil {
								errs <- err
								return
							}
							for j := range k {
								*r.Slot(seq + uint64(j)) = item{producer: p, n: i + j}
							}
							r.Publish(seq, k)
							i += k
						}
					}()
				}
				wg.Wait()
				r.Close()
				for range 2 {
					require.ErrorIs(t, <-errs, ErrClosed)
				}
				for p := range producers {
					require.Equal(t, n, next[p])
				}
				require.Equal(t, uint64(producers*n), stage2.Position())
			})
		}
	}
}

func TestRingCloseWakesWaiters(t *testing.T) {
	for _, ws := range strategies {
		t.Run(ws.String(), func(t *testing.T) {
			r, err := NewRing[int](2, WithWait(ws))
			require.NoError(t, err)
			c, err := r.NewConsumer()
			require.NoError(t, err)
			require.NoError(t, r.Put(1))
			require.NoError(t, r.Put(2))

			claimErr := make(chan error, 1)
			go func() {
				_, err := r.Claim(1) // the ring is full: waits
				claimErr <- err
			}()
			r.Close()
			require.ErrorIs(t, <-claimErr, ErrClosed)

			// The consumer still drains what was published before Close.
			var got []int
			err = c.Consume(context.Background(), func(_ uint64, batch []int) error {
				got = append(got, batch...)
				return nil
			})
			require.ErrorIs(t, err, ErrClosed)
			require.Equal(t, []int{1, 2}, got)
		})
	}
}

func TestRingContextCancel(t *testing.T) {
	for _, ws := range strategies {
		t.Run(ws.String(), func(t *testing.T) {
			r, err := NewRing[int](2, WithWait(ws))
			require.NoError(t, err)
			c, err := r.NewConsumer()
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := c.Wait(ctx)
				done <- err
			}()
			cancel()
			require.ErrorIs(t, <-done, context.Canceled)
		})
	}
}

func TestRingConsumeError(t *testing.T) {
	r, err := NewRing[int](8)
	require.NoError(t, err)
	c, err := r.NewConsumer()
	require.NoError(t, err)
	for i := range 3 {
		require.NoError(t, r.Put(i))
	}
	boom := errors.New("boom")
	err = c.Consume(context.Background(), func(uint64, []int) error { return boom })
	require.ErrorIs(t, err, boom)
	require.Zero(t, c.Position(), "a failed batch is not released")
}

// TestRingWrapBatches checks that Consume splits a batch at the end of the
// buffer and hands every element exactly once.
func TestRingWrapBatches(t *testing.T) {
	r, err := NewRing[int](4)
	require.NoError(t, err)
	c, err := r.NewConsumer()
	require.NoError(t, err)
	for i := range 3 {
		require.NoError(t, r.Put(i))
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	var batches [][]int
	collect := func(first uint64, batch []int) error {
		batches = append(batches, append([]int{int(first)}, batch...))
		return nil
	}
	require.ErrorIs(t, c.Consume(canceled, collect), context.Canceled)
	for i := 3; i < 7; i++ {
		require.NoError(t, r.Put(i))
	}
	require.ErrorIs(t, c.Consume(canceled, collect), context.Canceled)
	// Each entry: the first sequence, then the batch.
	require.Equal(t, [][]int{{0, 0, 1, 2}, {3, 3}, {4, 4, 5, 6}}, batches)
}

func TestRingNoConsumers(t *testing.T) {
	r, err := NewRing[int](2)
	require.NoError(t, err)
	for i := range 10 {
		require.NoError(t, r.Put(i), "without consumers nothing gates the producer")
	}
}

func TestRingZeroAlloc(t *testing.T) {
	for _, multi := range []bool{false, true} {
		opts := []RingOption{}
		if multi {
			opts = append(opts, WithMultiProducer())
		}
		r, err := NewRing[int](16, opts...)
		require.NoError(t, err)
		c, err := r.NewConsumer()
		require.NoError(t, err)
		ctx := context.Background()
		allocs := testing.AllocsPerRun(1000, func() {
			seq, _ := r.Claim(4)
			for i := range 4 {
				*r.Slot(seq + uint64(i)) = i
			}
			r.Publish(seq, 4)
			_ = r.Put(5)
			up, _ := c.Wait(ctx)
			_ = c.Release(up)
		})
		require.Zero(t, allocs, "multi=%v", multi)
	}
}
