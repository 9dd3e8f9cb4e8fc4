package sequencer

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrCorrupt: a journal record that does not decode as an event, or whose
// sequence does not match its place in the journal.
var ErrCorrupt = errors.New("sequencer: corrupt event record")

// Event is one sequenced command: what Run and Replay hand to the handler
// and what the journal holds, one record per event.
type Event struct {
	Seq       uint64 // global, gap-free, starting at 1
	Source    uint64 // producer (e.g. gateway session)
	SourceSeq uint64 // the producer's own counter, for exactly-once
	Time      int64  // unix nanoseconds, stamped by the sequencer (injectable clock)
	Payload   []byte
}

// Encoding of an event in a journal record, format version 1:
//
//	+---------+-----------+--------------+-----------------+------------+---------+
//	| version | Seq       | Source       | SourceSeq       | Time       | Payload |
//	| 1 byte  | uvarint   | uvarint      | uvarint         | 8 bytes LE | rest    |
//	+---------+-----------+--------------+-----------------+------------+---------+
//
// Varints are minimal (the decoder rejects padded ones), so every event has
// exactly one encoding; the payload's length is the record's remainder. The
// journal frames and checksums each record, so the event carries no checksum
// of its own. A later version changes the first byte; decoders refuse
// versions they do not know.
const (
	formatV1 = 1
	// MaxEventHeader is the largest encoded size of an event without its
	// payload.
	MaxEventHeader = 1 + 3*binary.MaxVarintLen64 + 8
)

// AppendEvent appends the encoding of e to dst and returns the extended
// slice. Cost: O(len(e.Payload)); no allocation when dst has room.
func AppendEvent(dst []byte, e Event) []byte {
	return appendEvent(dst, e.Seq, e.Source, e.SourceSeq, e.Time, e.Payload)
}

// appendEvent is AppendEvent on the fields, so that the journal writer
// passes no Event by value.
func appendEvent(dst []byte, seq, source, sourceSeq uint64, t int64, payload []byte) []byte {
	dst = append(dst, formatV1)
	dst = binary.AppendUvarint(dst, seq)
	dst = binary.AppendUvarint(dst, source)
	dst = binary.AppendUvarint(dst, sourceSeq)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(t))
	return append(dst, payload...)
}

// DecodeEvent decodes a record written by AppendEvent. The returned
// Payload aliases data. Errors wrap ErrCorrupt. Cost: O(1), no allocation.
func DecodeEvent(data []byte) (Event, error) {
	if len(data) == 0 {
		return Event{}, fmt.Errorf("%w: empty record", ErrCorrupt)
	}
	if data[0] != formatV1 {
		return Event{}, fmt.Errorf("%w: unknown format version %d", ErrCorrupt, data[0])
	}
	var e Event
	rest, ok := data[1:], true
	if e.Seq, rest, ok = readUvarint(rest); !ok {
		return Event{}, fmt.Errorf("%w: bad Seq varint", ErrCorrupt)
	}
	if e.Source, rest, ok = readUvarint(rest); !ok {
		return Event{}, fmt.Errorf("%w: bad Source varint", ErrCorrupt)
	}
	if e.SourceSeq, rest, ok = readUvarint(rest); !ok {
		return Event{}, fmt.Errorf("%w: bad SourceSeq varint", ErrCorrupt)
	}
	if len(rest) < 8 {
		return Event{}, fmt.Errorf("%w: short header", ErrCorrupt)
	}
	e.Time = int64(binary.LittleEndian.Uint64(rest))
	e.Payload = rest[8:]
	return e, nil
}

// readUvarint decodes a minimal uvarint from the front of b.
func readUvarint(b []byte) (v uint64, rest []byte, ok bool) {
	v, n := binary.Uvarint(b)
	if n <= 0 || n != uvarintLen(v) {
		return 0, b, false
	}
	return v, b[n:], true
}

// uvarintLen returns the length of v's minimal uvarint encoding.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
