package ledger

import (
	"errors"
	"fmt"
	"io"

	"github.com/sysblocks/sysblocks/wal"
)

// ErrNoJournal is returned by Open without a journal.
var ErrNoJournal = errors.New("ledger: nil journal")

// Open returns a ledger that journals every batch to journal, after rebuilding its state by
// replaying the journal from its first record. The replayed ledger has the same accounts,
// transfers, used-up IDs and Hash as the one that wrote the journal, up to its last durable
// batch.
//
// Each CreateAccounts/CreateTransfers batch becomes one wal record (format in record.go),
// appended before the call returns; with wal.SyncAlways, "returns" means "fsynced".
// Concurrent callers share one AppendBatch (group commit). The ledger has no snapshots: the
// journal must keep every record since the ledger began (no TruncateFront, no retention).
// The journal stays the caller's: Close the ledger, then the journal.
//
// Cost: O(records) to replay. Errors: a record that does not decode (ErrCorrupt) or a journal
// read error, with its offset.
func Open(journal *wal.Log, opts Options) (*Ledger, error) {
	if journal == nil {
		return nil, ErrNoJournal
	}
	l := New(opts)
	r := journal.NewReader(journal.FirstOffset())
	var rec record
	var res []Result
	for {
		raw, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("ledger: replaying journal at offset %d: %w", r.Offset(), err)
		}
		if err := decodeRecord(raw.Data, &rec); err != nil {
			return nil, fmt.Errorf("%w (journal offset %d)", err, raw.Offset)
		}
		res = l.apply(&rec, res[:0])
	}
	l.j = newJournal(journal)
	return l, nil
}

var _ appender = (*wal.Log)(nil)
