package redislimit_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/sysblocks/sysblocks/ratelimit"
	"github.com/sysblocks/sysblocks/ratelimit/internal/exact"
	"github.com/sysblocks/sysblocks/ratelimit/redislimit"
)

var fuzzRun atomic.Int64 // a fresh key prefix per input

// FuzzAllowN feeds untrusted policies, keys, n and instants to the four
// Redis limiters and requires the in-memory limiters' Decisions. steps is
// read 10 bytes at a time: a little-endian int64 added to the instant
// (saturating), an int8 n and a byte choosing one of three keys.
func FuzzAllowN(f *testing.F) {
	srv := startRedis(f)
	c := srv.client(f)
	f.Add(uint8(0), 3.0, 5, int64(time.Second), "k", int64(1_700_000_000_000_000_000), []byte{})
	f.Add(uint8(0), 4.0, 1, int64(time.Second), "k", int64(0),
		[]byte{0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0x7f, 0xb2, 0xe6, 0x0e, 0, 0, 0, 0, 1, 0}) // +249999999ns: the sub-ns edge
	f.Add(uint8(1), 0.0, 2, int64(7), "", int64(-1), []byte{1, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2})
	f.Add(uint8(2), 0.0, 3, int64(math.MaxInt64), "{tag}", int64(math.MaxInt64), []byte{0, 0, 0, 0, 0, 0, 0, 0x80, 3, 0})
	f.Add(uint8(2), 0.0, min(ratelimit.MaxLimit, math.MaxInt), int64(3)<<61, "x y", int64(math.MinInt64), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0})
	f.Add(uint8(3), 0.0, 3, int64(time.Second), "log", int64(math.MinInt64),
		[]byte{0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, alg uint8, rate float64, limit int, window int64, key string, start int64, steps []byte) {
		prefix := redislimit.WithPrefix(fmt.Sprintf("fuzz:%d:", fuzzRun.Add(1)))
		var got, want ratelimit.Limiter
		var err1, err2 error
		switch alg % 4 {
		case 0:
			got, err1 = redislimit.NewTokenBucket(c, rate, limit, prefix, testMargin)
			want, err2 = ratelimit.NewTokenBucket(rate, limit)
		case 1:
			got, err1 = redislimit.NewFixedWindow(c, limit, time.Duration(window), prefix, testMargin)
			want, err2 = ratelimit.NewFixedWindow(limit, time.Duration(window))
		case 2:
			got, err1 = redislimit.NewSlidingWindow(c, limit, time.Duration(window), prefix, testMargin)
			want, err2 = ratelimit.NewSlidingWindow(limit, time.Duration(window))
		default:
			got, err1 = redislimit.NewSlidingLog(c, limit, time.Duration(window), prefix, testMargin)
			want, err2 = ratelimit.NewSlidingLog(limit, time.Duration(window))
		}
		require.Equal(t, err2 == nil, err1 == nil, "redis %v, in-memory %v", err1, err2)
		if err1 != nil {
			require.ErrorIs(t, err1, unwrapSentinel(err2))
			return
		}
		keys := []string{key, key + "'", ""}
		now := start
		for i := 0; i+10 <= len(steps) && i < 10*64; i += 10 {
			now = exact.AddSat(now, int64(binary.LittleEndian.Uint64(steps[i:])))
			n, k := int(int8(steps[i+8])), keys[int(steps[i+9])%len(keys)]
			at := time.Unix(0, now)
			require.Equal(t, want.AllowN(k, n, at), got.AllowN(k, n, at), "step %d key %q n %d at %d", i/10, k, n, now)
		}
	})
}

// unwrapSentinel returns the ratelimit sentinel err wraps.
func unwrapSentinel(err error) error {
	for _, s := range []error{ratelimit.ErrInvalidRate, ratelimit.ErrInvalidLimit, ratelimit.ErrInvalidWindow} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}
