package exchange

import (
	"math/bits"
	"time"
)

// Histogram records durations in log-linear buckets (16 per power of two,
// so a percentile is within about 6% of the true value), like HdrHistogram
// with 1.2 significant digits. The zero value is ready; it is not safe for
// concurrent use: give each goroutine its own and Merge them.
type Histogram struct {
	counts [32 + 60*16]uint64
	n      uint64
	max    int64
}

func bucket(v int64) int {
	if v < 32 {
		return int(max(v, 0))
	}
	e := bits.Len64(uint64(v)) - 5
	return 32 + (e-1)*16 + int(uint64(v)>>e) - 16
}

// bucketValue is the midpoint of bucket i.
func bucketValue(i int) int64 {
	if i < 32 {
		return int64(i)
	}
	e := (i-32)/16 + 1
	m := int64((i-32)%16 + 16)
	return m<<e + (int64(1)<<e)/2
}

// Record adds one duration. O(1).
func (h *Histogram) Record(d time.Duration) {
	h.counts[bucket(int64(d))]++
	h.n++
	h.max = max(h.max, int64(d))
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// Count returns the number of durations recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Max returns the largest duration recorded.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Quantile returns the duration below which a fraction q of the records
// lie (to bucket precision). O(buckets).
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n-1)) + 1
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return time.Duration(min(bucketValue(i), h.max))
		}
	}
	return time.Duration(h.max)
}
