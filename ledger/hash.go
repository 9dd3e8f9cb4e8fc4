package ledger

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

// Hash returns a 64-bit digest of the whole state: every account and transfer with its fields
// and the state of pending transfers, the IDs used up by failures, and the last timestamp. Two
// ledgers that applied the same batches with the same timestamps (a ledger and its replay) have
// the same Hash. Cost: O(accounts + transfers); it holds the read lock throughout.
func (l *Ledger) Hash() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	d := xxhash.New()
	var b []byte
	u := func(v uint64) { b = binary.LittleEndian.AppendUint64(b, v) }
	flush := func() {
		_, _ = d.Write(b) // a hash.Hash never fails
		b = b[:0]
	}
	u(uint64(l.last))
	u(uint64(len(l.accounts)))
	for i := range l.accounts {
		a := &l.accounts[i]
		u(a.ID)
		u(uint64(a.Ledger)<<32 | uint64(a.Code)<<16 | uint64(a.Flags))
		u(a.DebitsPending)
		u(a.DebitsPosted)
		u(a.CreditsPending)
		u(a.CreditsPosted)
		u(a.UserData)
		u(uint64(a.Timestamp))
		flush()
	}
	u(uint64(l.transfers.len()))
	for i := range l.transfers.len() {
		t := l.transfers.at(uint32(i))
		u(t.ID)
		u(t.DebitAccountID)
		u(t.CreditAccountID)
		u(t.Amount)
		u(t.PendingID)
		u(uint64(t.Timeout))
		u(uint64(t.Ledger)<<32 | uint64(t.Code)<<16 | uint64(t.Flags))
		u(t.UserData)
		u(uint64(t.Timestamp))
		u(uint64(t.state))
		flush()
	}
	u(uint64(len(l.failedIDs)))
	for _, id := range l.failedIDs {
		u(id)
	}
	flush()
	return d.Sum64()
}
