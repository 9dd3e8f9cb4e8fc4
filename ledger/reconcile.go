package ledger

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

var (
	// ErrMalformed reports a settlement line that cannot be read; the error names the line.
	ErrMalformed = errors.New("ledger: malformed settlement line")
	// ErrDuplicateTransfer reports a transfer ID given twice to Reconcile.
	ErrDuplicateTransfer = errors.New("ledger: duplicate transfer")
)

// Status is the state of a transfer as a settlement file states it. The zero value is not a
// status.
type Status uint8

const (
	// StatusPosted: money moved (a single-phase transfer or a post of a pending one).
	StatusPosted Status = iota + 1
	// StatusPending: money reserved (a pending transfer).
	StatusPending
	// StatusVoided: a reservation released (a void of a pending transfer).
	StatusVoided
)

func (s Status) String() string {
	switch s {
	case StatusPosted:
		return "posted"
	case StatusPending:
		return "pending"
	case StatusVoided:
		return "voided"
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// StatusOf returns the status a transfer stands for, from its flags.
func StatusOf(t *Transfer) Status {
	switch {
	case t.Flags&Pending != 0:
		return StatusPending
	case t.Flags&VoidPending != 0:
		return StatusVoided
	}
	return StatusPosted
}

// SettlementRecord is one line of a settlement file; a plain value.
type SettlementRecord struct {
	Line   int // 1-based line number in the file
	ID     uint64
	Amount uint64 // minor units
	Ledger uint32
	Status Status
}

// Differences says which fields of a matched pair disagree.
type Differences uint8

const (
	// AmountDiffers: the settlement's amount differs from the transfer's.
	AmountDiffers Differences = 1 << iota
	// LedgerDiffers: the settlement's currency/ledger differs from the transfer's.
	LedgerDiffers
	// StatusDiffers: the settlement's status differs from StatusOf(transfer).
	StatusDiffers
)

// Mismatch is a transfer present on both sides whose fields disagree; a plain value.
type Mismatch struct {
	Transfer    Transfer
	Settlement  SettlementRecord
	Differences Differences
}

// Report is the outcome of Reconcile: a plain value, owned by the caller.
type Report struct {
	Matched             []uint64           // IDs that agree on both sides, in file order
	MissingInLedger     []SettlementRecord // in the file but not in the ledger's transfers
	MissingInSettlement []Transfer         // in the ledger's transfers but not in the file
	Mismatches          []Mismatch         // on both sides, disagreeing, in file order
}

// Balanced reports whether both sides agree entirely.
func (r *Report) Balanced() bool {
	return len(r.MissingInLedger) == 0 && len(r.MissingInSettlement) == 0 && len(r.Mismatches) == 0
}

// Reconcile compares the ledger's transfers with an external settlement file (the nightly job
// of a payment system) and reports what matches, what is missing on either side and what
// disagrees in amount, ledger or status.
//
// The file is CSV with four fields per line: id (decimal uint64), amount (decimal minor units),
// ledger (decimal uint32: the currency or asset), status ("posted", "pending" or "voided", any
// case). A first line whose id field is "id" is a header and skipped; lines starting with '#'
// are comments; spaces before a field are ignored. A line that breaks these rules, or repeats
// an ID, fails the whole run with an error wrapping ErrMalformed that names the line: a
// reconciliation over a partly understood file would report false differences.
//
// Cost: O(n + m) time and O(n) memory for n transfers and m lines; the file is streamed.
func Reconcile(ledgerTransfers []Transfer, settlement io.Reader) (Report, error) {
	var rep Report
	byID := make(map[uint64]int, len(ledgerTransfers))
	for i := range ledgerTransfers {
		id := ledgerTransfers[i].ID
		if _, dup := byID[id]; dup {
			return Report{}, fmt.Errorf("%w: %d", ErrDuplicateTransfer, id)
		}
		byID[id] = i
	}
	seen := make(map[uint64]int, len(ledgerTransfers)) // ID → line
	cr := csv.NewReader(settlement)
	cr.FieldsPerRecord = 4
	cr.TrimLeadingSpace = true
	cr.Comment = '#'
	cr.ReuseRecord = true
	for first := true; ; first = false {
		fields, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return Report{}, fmt.Errorf("%w: line %d: %w", ErrMalformed, pe.StartLine, pe.Err)
			}
			return Report{}, fmt.Errorf("ledger: reading settlement: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if first && strings.EqualFold(fields[0], "id") {
			continue
		}
		rec, err := parseSettlement(fields, line)
		if err != nil {
			return Report{}, err
		}
		if prev, dup := seen[rec.ID]; dup {
			return Report{}, fmt.Errorf("%w: line %d: id %d already on line %d", ErrMalformed, line, rec.ID, prev)
		}
		seen[rec.ID] = line
		i, ok := byID[rec.ID]
		if !ok {
			rep.MissingInLedger = append(rep.MissingInLedger, rec)
			continue
		}
		t := &ledgerTransfers[i]
		var d Differences
		if t.Amount != rec.Amount {
			d |= AmountDiffers
		}
		if t.Ledger != rec.Ledger {
			d |= LedgerDiffers
		}
		if StatusOf(t) != rec.Status {
			d |= StatusDiffers
		}
		if d == 0 {
			rep.Matched = append(rep.Matched, rec.ID)
		} else {
			rep.Mismatches = append(rep.Mismatches, Mismatch{Transfer: *t, Settlement: rec, Differences: d})
		}
	}
	for i := range ledgerTransfers {
		if _, ok := seen[ledgerTransfers[i].ID]; !ok {
			rep.MissingInSettlement = append(rep.MissingInSettlement, ledgerTransfers[i])
		}
	}
	return rep, nil
}

func parseSettlement(f []string, line int) (SettlementRecord, error) {
	rec := SettlementRecord{Line: line}
	bad := func(field string, err error) (SettlementRecord, error) {
		return SettlementRecord{}, fmt.Errorf("%w: line %d: %s: %w", ErrMalformed, line, field, err)
	}
	var err error
	if rec.ID, err = strconv.ParseUint(f[0], 10, 64); err != nil {
		return bad("id", err)
	}
	if rec.ID == 0 {
		return bad("id", errors.New("zero"))
	}
	if rec.Amount, err = strconv.ParseUint(f[1], 10, 64); err != nil {
		return bad("amount", err)
	}
	l, err := strconv.ParseUint(f[2], 10, 32)
	if err != nil {
		return bad("ledger", err)
	}
	rec.Ledger = uint32(l)
	switch strings.ToLower(f[3]) {
	case "posted":
		rec.Status = StatusPosted
	case "pending":
		rec.Status = StatusPending
	case "voided":
		rec.Status = StatusVoided
	default:
		return bad("status", fmt.Errorf("%q is not posted, pending or voided", f[3]))
	}
	return rec, nil
}
