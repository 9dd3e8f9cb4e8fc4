package ledger

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// referenceRecord is the record format of record.go written the obvious way (one
// binary.AppendUvarint per value), the oracle for the in-place encoder.
func referenceRecord(base int64, batch []Transfer) []byte {
	b := []byte{recordVersion, kindTransfers}
	b = binary.AppendUvarint(b, uint64(base))
	b = binary.AppendUvarint(b, uint64(len(batch)))
	for _, t := range batch {
		f := []uint64{t.ID, t.DebitAccountID, t.CreditAccountID, t.Amount, t.PendingID,
			uint64(t.Timeout), uint64(t.Ledger), uint64(t.Code), uint64(t.Flags), t.UserData,
			uint64(t.Timestamp)}
		var present uint64
		for i, v := range f {
			if v != 0 {
				present |= 1 << i
			}
		}
		b = binary.AppendUvarint(b, present)
		for _, v := range f {
			if v != 0 {
				b = binary.AppendUvarint(b, v)
			}
		}
	}
	return b
}

// TestEncodeMatchesReference compares the encoder with referenceRecord on random transfers whose
// fields are zero, small, or as large as their type allows (10-byte varints), appended after
// existing bytes, and checks that the record decodes back to the batch.
func TestEncodeMatchesReference(t *testing.T) {
	r := newRand(t)
	field := func(max uint64) uint64 {
		switch r.IntN(4) {
		case 0:
			return 0
		case 1:
			return r.Uint64N(200)
		case 2:
			return max
		}
		return r.Uint64() & max
	}
	for range 200 {
		batch := make([]Transfer, 1+r.IntN(300))
		for i := range batch {
			batch[i] = Transfer{ID: field(math.MaxUint64), DebitAccountID: field(math.MaxUint64),
				CreditAccountID: field(math.MaxUint64), Amount: field(math.MaxUint64),
				PendingID: field(math.MaxUint64), Timeout: time.Duration(field(math.MaxInt64)),
				Ledger: uint32(field(math.MaxUint32)), Code: uint16(field(math.MaxUint16)),
				Flags: TransferFlags(field(math.MaxUint16)), UserData: field(math.MaxUint64),
				Timestamp: int64(field(math.MaxUint64))}
		}
		base := int64(r.Uint64N(math.MaxInt64 - MaxBatch))
		prefix := []byte("earlier records")
		got := appendTransfersRecord(append([]byte(nil), prefix...), base, batch)
		require.Equal(t, prefix, got[:len(prefix)])
		require.Equal(t, referenceRecord(base, batch), got[len(prefix):])
		var rec record
		require.NoError(t, decodeRecord(got[len(prefix):], &rec))
		require.Equal(t, batch, rec.transfers)
		require.Equal(t, base, rec.base)
	}
}

// BenchmarkEncodeTransfers measures journal encoding of a transfer batch into a reused buffer.
func BenchmarkEncodeTransfers(b *testing.B) {
	for _, n := range batchSizes {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			batch := benchBatch(n)
			var next uint64
			setIDs(batch, &next)
			var buf []byte
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				buf = appendTransfersRecord(buf[:0], 1_700_000_000_000_000_000, batch)
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "transfers/s")
		})
	}
}
