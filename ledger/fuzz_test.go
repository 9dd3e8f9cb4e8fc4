package ledger

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fuzzTransfers turns fuzz bytes into a batch: 9 bytes per transfer pick fields from small
// ranges (so that IDs collide and references resolve) or, with the top bit of the selector,
// take raw 8-byte values (so that overflows and odd values appear).
func fuzzTransfers(data []byte) []Transfer {
	var b []Transfer
	for len(data) >= 9 && len(b) < 200 {
		sel, v := data[0], binary.LittleEndian.Uint64(data[1:9])
		data = data[9:]
		t := Transfer{
			ID:              1 + v%23,
			DebitAccountID:  1 + (v>>8)%5,
			CreditAccountID: 1 + (v>>16)%5,
			Amount:          (v >> 24) % 200,
			Ledger:          euro,
			Code:            1 + uint16(v>>32)%2,
			Flags:           TransferFlags(v>>40) & (transferFlagsKnown | 1<<7),
			PendingID:       (v >> 48) % 25,
		}
		if t.Flags&Pending != 0 {
			t.Timeout = time.Duration((v >> 56) % 8)
		}
		if sel&0x80 != 0 {
			switch sel % 5 {
			case 0:
				t.Amount = v
			case 1:
				t.Timeout = time.Duration(v)
			case 2:
				t.Ledger = uint32(v)
			case 3:
				t.Timestamp = int64(v)
			case 4:
				t.UserData = v
			}
		}
		b = append(b, t)
	}
	return b
}

// FuzzCreateTransfers applies fuzzed batches to a ledger and to the model: results, state and
// invariants must agree, and the journal record of each batch must replay to the same Hash.
func FuzzCreateTransfers(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08"), uint8(3))
	f.Add(bytes.Repeat([]byte("\x81\xff\xff\xff\xff\xff\xff\xff\x7f\x00\x05\x01\x02\x30\x00\x02\x00\x00"), 4), uint8(9))
	f.Add(bytes.Repeat([]byte("\x10\x03\x02\x01\x50\x00\x01\x04\x09"), 20), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, split uint8) {
		now := time.Unix(0, 1000)
		l := New(Options{Clock: func() time.Time { return now }})
		m := newModel()
		accounts := []Account{
			{ID: 1, Ledger: euro, Code: 1},
			{ID: 2, Ledger: euro, Code: 1, Flags: DebitsMustNotExceedCredits | History},
			{ID: 3, Ledger: euro, Code: 1, Flags: CreditsMustNotExceedDebits},
			{ID: 4, Ledger: euro, Code: 1, Flags: History},
		}
		_, err := l.CreateAccounts(accounts)
		require.NoError(t, err)
		m.createAccounts(accounts, l.last-int64(len(accounts))+1)
		re := New(Options{})
		var rec record
		require.NoError(t, decodeRecord(appendAccountsRecord(nil, l.last-int64(len(accounts))+1, accounts), &rec))
		re.apply(&rec, nil)

		all := fuzzTransfers(data)
		step := int(split%16) + 1
		for len(all) > 0 {
			batch := all[:min(step, len(all))]
			all = all[len(batch):]
			now = now.Add(3)
			res, err := l.CreateTransfers(batch)
			require.NoError(t, err)
			base := l.last - int64(len(batch)) + 1
			want := m.createTransfers(batch, base)
			for i, r := range res {
				require.Equal(t, want[i], r.Code, "item %d %+v", i, batch[i])
			}
			compareState(t, l, m, true)
			require.NoError(t, decodeRecord(appendTransfersRecord(nil, base, batch), &rec))
			re.apply(&rec, nil)
		}
		require.Equal(t, l.Hash(), re.Hash())
	})
}

// FuzzDecodeRecord feeds arbitrary journal records: decoding never panics, and whatever decodes
// re-encodes to a record that decodes to the same batch.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(appendTransfersRecord(nil, 12345, []Transfer{tr(1, 2, 3, 4, Pending), {ID: 9, PendingID: 1, Flags: PostPending}}))
	f.Add(appendAccountsRecord(nil, 1, wallets()))
	f.Add([]byte{1, 2, 0, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var r record
		if decodeRecord(data, &r) != nil {
			return
		}
		var again []byte
		if r.kind == kindAccounts {
			again = appendAccountsRecord(nil, r.base, r.accounts)
		} else {
			again = appendTransfersRecord(nil, r.base, r.transfers)
		}
		var r2 record
		require.NoError(t, decodeRecord(again, &r2))
		require.Equal(t, r.kind, r2.kind)
		require.Equal(t, r.base, r2.base)
		if r.kind == kindAccounts {
			require.Equal(t, r.accounts, r2.accounts)
		} else {
			require.Equal(t, r.transfers, r2.transfers)
		}
		// And it applies without panicking.
		New(Options{}).apply(&r, nil)
	})
}

// FuzzReconcile feeds arbitrary settlement files: no panic; on success every line and every
// transfer lands in exactly one bucket; on failure the error names a line.
func FuzzReconcile(f *testing.F) {
	f.Add("id,amount,ledger,status\n1,100,10,posted\n2,5,10,pending\n")
	f.Add("1,100,10,posted\n1,100,10,posted\n")
	f.Add("# comment\n3, 7, 10, VOIDED\n9,1,1,posted\n")
	f.Add("1,2,3\n")
	f.Add("\"1\",\"100\",\"10\",\"posted\"\n")
	transfers := []Transfer{tr(1, bank, bob, 100, 0), tr(2, bank, bob, 5, Pending), tr(3, bank, bob, 7, VoidPending)}
	f.Fuzz(func(t *testing.T, file string) {
		rep, err := Reconcile(transfers, strings.NewReader(file))
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			require.Contains(t, err.Error(), "line ")
			return
		}
		inFile := len(rep.Matched) + len(rep.Mismatches) + len(rep.MissingInLedger)
		inLedger := len(rep.Matched) + len(rep.Mismatches) + len(rep.MissingInSettlement)
		require.Equal(t, len(transfers), inLedger)
		require.LessOrEqual(t, inFile, strings.Count(file, "\n")+1)
		for _, mm := range rep.Mismatches {
			require.NotZero(t, mm.Differences)
		}
	})
}

// FuzzAmount checks that formatting and parsing minor units round-trip at every scale, and
// that any text that parses is canonicalised by formatting to a value that parses the same.
func FuzzAmount(f *testing.F) {
	f.Add(uint64(12345), uint8(2), "123.45")
	f.Add(uint64(math.MaxUint64), uint8(19), "1844674407.3709551615")
	f.Add(uint64(0), uint8(0), "0")
	f.Add(uint64(5), uint8(30), "0.5")
	f.Add(uint64(1), uint8(1), "-1")
	f.Fuzz(func(t *testing.T, v uint64, scale uint8, s string) {
		scale %= 40
		text := FormatAmount(v, scale)
		got, err := ParseAmount(text, scale)
		require.NoError(t, err, "%q", text)
		require.Equal(t, v, got)

		p, err := ParseAmount(s, scale)
		if err != nil {
			require.ErrorIs(t, err, ErrAmount)
			return
		}
		back, err := ParseAmount(FormatAmount(p, scale), scale)
		require.NoError(t, err)
		require.Equal(t, p, back)
		// The formatted text is exactly the minor units' digits with a point inserted.
		digits := strings.TrimLeft(strings.Replace(FormatAmount(p, scale), ".", "", 1), "0")
		if digits == "" {
			digits = "0"
		}
		require.Equal(t, strconv.FormatUint(p, 10), digits)
	})
}
