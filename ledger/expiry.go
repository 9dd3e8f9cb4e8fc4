package ledger

// expiryEntry is a pending transfer's deadline. Entries are checked against the transfer when
// popped (same timestamp, still pending), so resolved or rolled-back transfers need no removal.
type expiryEntry struct {
	at  int64  // Timestamp + Timeout
	ts  int64  // the pending transfer's Timestamp: unique, breaks ties deterministically
	idx uint32 // position in Ledger.transfers
}

func (e expiryEntry) less(o expiryEntry) bool {
	return e.at < o.at || (e.at == o.at && e.ts < o.ts)
}

// expiryHeap is a binary min-heap by (at, ts). Hand-written rather than container/heap to avoid
// boxing each entry in an interface.
type expiryHeap []expiryEntry

func (h *expiryHeap) push(e expiryEntry) {
	*h = append(*h, e)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].less(s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *expiryHeap) pop() expiryEntry {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && s[c+1].less(s[c]) {
			c++
		}
		if !s[c].less(s[i]) {
			break
		}
		s[i], s[c] = s[c], s[i]
		i = c
	}
	*h = s
	return top
}
