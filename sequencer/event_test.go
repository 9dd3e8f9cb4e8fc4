package sequencer

import (
	"bytes"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEventRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
	}{
		{name: "zero", ev: Event{Payload: []byte{}}},
		{name: "small", ev: Event{Seq: 1, Source: 2, SourceSeq: 3, Time: 4, Payload: []byte("x")}},
		{name: "max", ev: Event{Seq: math.MaxUint64, Source: math.MaxUint64, SourceSeq: math.MaxUint64, Time: math.MaxInt64, Payload: bytes.Repeat([]byte{0xff}, 300)}},
		{name: "negative time", ev: Event{Seq: 128, Source: 1 << 35, SourceSeq: 16383, Time: math.MinInt64, Payload: []byte{0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := AppendEvent(nil, tt.ev)
			require.LessOrEqual(t, len(enc)-len(tt.ev.Payload), MaxEventHeader)
			got, err := DecodeEvent(enc)
			require.NoError(t, err)
			require.Equal(t, tt.ev, got)
		})
	}
}

// TestEventGolden pins format version 1: a change to the encoding must be a
// new version, not a silent change.
func TestEventGolden(t *testing.T) {
	enc := AppendEvent(nil, Event{Seq: 300, Source: 7, SourceSeq: 1, Time: 0x0102030405060708, Payload: []byte("hi")})
	want := []byte{1, 0xac, 0x02, 7, 1, 8, 7, 6, 5, 4, 3, 2, 1, 'h', 'i'}
	require.Equal(t, want, enc)
}

func TestDecodeEventErrors(t *testing.T) {
	valid := AppendEvent(nil, Event{Seq: 1, Source: 1, SourceSeq: 1})
	tests := []struct {
		name string
		data []byte
	}{
		{name: "empty", data: nil},
		{name: "version 0", data: []byte{0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}},
		{name: "version 2", data: []byte{2, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}},
		{name: "short time", data: valid[:len(valid)-1]},
		{name: "no fields", data: []byte{1}},
		{name: "padded varint", data: []byte{1, 0x81, 0x00, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}},
		{name: "varint overflow", data: append([]byte{1}, bytes.Repeat([]byte{0xff}, 11)...)},
		{name: "truncated varint", data: []byte{1, 1, 0x80}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeEvent(tt.data)
			require.ErrorIs(t, err, ErrCorrupt)
		})
	}
}

func TestDecodeEventNoAlloc(t *testing.T) {
	enc := AppendEvent(nil, Event{Seq: 1, Source: 2, SourceSeq: 3, Payload: []byte("payload")})
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		e, _ := DecodeEvent(enc)
		buf = AppendEvent(buf[:0], e)
	})
	require.Zero(t, allocs)
}

// FuzzDecodeEvent: DecodeEvent never panics, and what it accepts has exactly
// one encoding: re-encoding gives the input back.
func FuzzDecodeEvent(f *testing.F) {
	f.Add(AppendEvent(nil, Event{Seq: 1, Source: 2, SourceSeq: 3, Time: 4, Payload: []byte("x")}))
	f.Add(AppendEvent(nil, Event{Seq: math.MaxUint64, Time: -1}))
	f.Add([]byte{1, 0x81, 0x00, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{})
	f.Add([]byte{2})
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := DecodeEvent(data)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		require.Equal(t, data, AppendEvent(nil, e))
	})
}
