package consistenthash

// Jump returns the bucket in [0, buckets) for key by jump consistent hashing (Lamping &
// Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm", 2014). Growing buckets from n
// to n+1 moves exactly the keys that land in the new bucket n, about 1/(n+1) of them; it
// needs no memory but buckets can only be added or removed at the end.
//
// key should already be well mixed (hash strings first, e.g. with xxhash). buckets must be
// in [1, 1<<31−1], the range of the reference code; Jump returns -1 otherwise. Cost:
// O(log buckets), no allocation; safe for concurrent use.
func Jump(key uint64, buckets int) int {
	if buckets < 1 || buckets > 1<<31-1 {
		return -1
	}
	b, j := int64(-1), int64(0)
	for j < int64(buckets) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int(b)
}
