package ledger

// chunkBits sizes the chunks of transferStore: 4096 transfers (about 350 KiB) per chunk.
const chunkBits = 12

// transferStore is an append-only array of stored transfers kept in fixed-size chunks, so that
// growing never copies what is already stored (a slice's doubling would move gigabytes at
// scale) and positions stay valid. Truncation (rolling back a chain) keeps the chunks for reuse.
type transferStore struct {
	chunks [][]stored
	n      int
}

func (s *transferStore) len() int { return s.n }

// at returns the transfer at position i < len().
func (s *transferStore) at(i uint32) *stored {
	return &s.chunks[i>>chunkBits][i&(1<<chunkBits-1)]
}

// add appends st and returns its position.
func (s *transferStore) add(st *stored) uint32 {
	i := s.n
	if i>>chunkBits == len(s.chunks) {
		s.chunks = append(s.chunks, make([]stored, 1<<chunkBits))
	}
	s.chunks[i>>chunkBits][i&(1<<chunkBits-1)] = *st
	s.n++
	return uint32(i)
}

// truncate drops the transfers at positions n and above.
func (s *transferStore) truncate(n int) { s.n = n }
