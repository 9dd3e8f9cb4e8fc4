package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// ErrCorrupt reports a journal record that cannot be decoded.
var ErrCorrupt = errors.New("ledger: corrupt journal record")

// Journal record format (one wal record per batch), version 1:
//
//	record   = version:u8 kind:u8 base:uvarint count:uvarint item*count
//	version  = 1
//	kind     = 1 (accounts) | 2 (transfers)
//	base     = the batch's first timestamp (item i is stamped base+i), as uint64
//	item     = present:uvarint field*   one uvarint per bit set in present, in field order
//
// Account fields, bit 0 upwards: ID, Ledger, Code, Flags, DebitsPending, DebitsPosted,
// CreditsPending, CreditsPosted, UserData, Timestamp. Transfer fields: ID, DebitAccountID,
// CreditAccountID, Amount, PendingID, Timeout, Ledger, Code, Flags, UserData, Timestamp. Signed
// fields are stored as their uint64 bit pattern. Zero fields are absent, so a typical transfer
// costs about 10 bytes. Items are journaled as submitted, invalid ones included: replaying the
// batch with its timestamps re-derives every result, failures (and used-up IDs) included.
const (
	recordVersion   = 1
	kindAccounts    = 1
	kindTransfers   = 2
	accountFields   = 10
	transferFields  = 11
	maxFieldsPerRec = 11
)

// maxItemBytes bounds one encoded item: its presence mask (at most 2 bytes for 11 fields) and
// at most maxFieldsPerRec uvarints of at most binary.MaxVarintLen64 bytes.
const maxItemBytes = 2 + maxFieldsPerRec*binary.MaxVarintLen64

// appendFields appends one item: the presence mask of f[:n], then its non-zero fields as
// uvarints. It writes in place into capacity reserved once (no per-byte append), which makes
// journal encoding a single pass over the batch.
func appendFields(b []byte, f *[maxFieldsPerRec]uint64, n int) []byte {
	var present uint64
	for i := range n {
		if f[i] != 0 {
			present |= 1 << i
		}
	}
	b = slices.Grow(b, maxItemBytes)
	o := len(b)
	b = b[:o+maxItemBytes]
	o = putUvarint(b, o, present)
	for i := range n {
		if f[i] != 0 {
			o = putUvarint(b, o, f[i])
		}
	}
	return b[:o]
}

// putUvarint writes v as a uvarint at b[o:], which must have room for it, and returns the
// offset after it. It is binary.PutUvarint without the sub-slice.
func putUvarint(b []byte, o int, v uint64) int {
	for v >= 0x80 {
		b[o] = byte(v) | 0x80
		v >>= 7
		o++
	}
	b[o] = byte(v)
	return o + 1
}

func appendHeader(b []byte, kind byte, base int64, n int) []byte {
	b = append(b, recordVersion, kind)
	b = binary.AppendUvarint(b, uint64(base))
	return binary.AppendUvarint(b, uint64(n))
}

func appendAccountsRecord(b []byte, base int64, batch []Account) []byte {
	b = appendHeader(b, kindAccounts, base, len(batch))
	for i := range batch {
		a := &batch[i]
		f := [maxFieldsPerRec]uint64{a.ID, uint64(a.Ledger), uint64(a.Code), uint64(a.Flags),
			a.DebitsPending, a.DebitsPosted, a.CreditsPending, a.CreditsPosted, a.UserData,
			uint64(a.Timestamp)}
		b = appendFields(b, &f, accountFields)
	}
	return b
}

// appendTransfersRecord appends the record of a transfer batch. It reserves room for the
// typical item up front so that a large batch grows b at most a few times.
func appendTransfersRecord(b []byte, base int64, batch []Transfer) []byte {
	b = appendHeader(b, kindTransfers, base, len(batch))
	b = slices.Grow(b, len(batch)*typicalTransferBytes)
	for i := range batch {
		t := &batch[i]
		f := [maxFieldsPerRec]uint64{t.ID, t.DebitAccountID, t.CreditAccountID, t.Amount,
			t.PendingID, uint64(t.Timeout), uint64(t.Ledger), uint64(t.Code), uint64(t.Flags),
			t.UserData, uint64(t.Timestamp)}
		b = appendFields(b, &f, transferFields)
	}
	return b
}

// typicalTransferBytes is the encoded size of a plain transfer with 4-byte IDs and amount.
const typicalTransferBytes = 16

// record is a decoded journal record; its slices are reused across decodes.
type record struct {
	kind      byte
	base      int64
	accounts  []Account
	transfers []Transfer
}

type decoder struct {
	b   []byte
	off int
}

func (d *decoder) uvarint() (uint64, error) {
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		return 0, fmt.Errorf("%w: bad varint at byte %d", ErrCorrupt, d.off)
	}
	d.off += n
	return v, nil
}

func (d *decoder) fields(f *[maxFieldsPerRec]uint64, n int) error {
	present, err := d.uvarint()
	if err != nil {
		return err
	}
	if present>>n != 0 {
		return fmt.Errorf("%w: unknown field bits %#x", ErrCorrupt, present)
	}
	for i := range n {
		f[i] = 0
		if present&(1<<i) == 0 {
			continue
		}
		if f[i], err = d.uvarint(); err != nil {
			return err
		}
		if f[i] == 0 {
			return fmt.Errorf("%w: zero field %d encoded", ErrCorrupt, i)
		}
	}
	return nil
}

// decodeRecord parses b into r. It never panics and rejects anything appendXRecord cannot
// produce (so a record decodes to exactly one batch).
func decodeRecord(b []byte, r *record) error {
	if len(b) < 2 {
		return fmt.Errorf("%w: %d bytes", ErrCorrupt, len(b))
	}
	if b[0] != recordVersion {
		return fmt.Errorf("%w: version %d", ErrCorrupt, b[0])
	}
	r.kind = b[1]
	d := decoder{b: b, off: 2}
	base, err := d.uvarint()
	if err != nil {
		return err
	}
	if base > math.MaxInt64 {
		return fmt.Errorf("%w: timestamp %d", ErrCorrupt, base)
	}
	r.base = int64(base)
	n, err := d.uvarint()
	if err != nil {
		return err
	}
	// Every item takes at least one byte: a count beyond the bytes left is corrupt, which also
	// bounds the allocation below.
	if n == 0 || n > MaxBatch || n > uint64(len(b)-d.off) || r.base > math.MaxInt64-int64(n) {
		return fmt.Errorf("%w: count %d", ErrCorrupt, n)
	}
	var f [maxFieldsPerRec]uint64
	switch r.kind {
	case kindAccounts:
		r.accounts = r.accounts[:0]
		for range n {
			if err := d.fields(&f, accountFields); err != nil {
				return err
			}
			if f[1] > math.MaxUint32 || f[2] > math.MaxUint16 || f[3] > math.MaxUint16 {
				return fmt.Errorf("%w: account field out of range", ErrCorrupt)
			}
			r.accounts = append(r.accounts, Account{ID: f[0], Ledger: uint32(f[1]),
				Code: uint16(f[2]), Flags: AccountFlags(f[3]), DebitsPending: f[4],
				DebitsPosted: f[5], CreditsPending: f[6], CreditsPosted: f[7], UserData: f[8],
				Timestamp: int64(f[9])})
		}
	case kindTransfers:
		r.transfers = r.transfers[:0]
		for range n {
			if err := d.fields(&f, transferFields); err != nil {
				return err
			}
			if f[6] > math.MaxUint32 || f[7] > math.MaxUint16 || f[8] > math.MaxUint16 {
				return fmt.Errorf("%w: transfer field out of range", ErrCorrupt)
			}
			r.transfers = append(r.transfers, Transfer{ID: f[0], DebitAccountID: f[1],
				CreditAccountID: f[2], Amount: f[3], PendingID: f[4], Timeout: time.Duration(f[5]),
				Ledger: uint32(f[6]), Code: uint16(f[7]), Flags: TransferFlags(f[8]),
				UserData: f[9], Timestamp: int64(f[10])})
		}
	default:
		return fmt.Errorf("%w: kind %d", ErrCorrupt, r.kind)
	}
	if d.off != len(b) {
		return fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(b)-d.off)
	}
	return nil
}
