package ledger

import "time"

// TransferFlags select a transfer's mode. Combine them with |.
type TransferFlags uint16

const (
	// Linked links this transfer to the next one in the batch: the chain is applied all
	// together or not at all. The last transfer of a chain does not carry the flag.
	Linked TransferFlags = 1 << iota
	// Pending reserves the amount in DebitsPending/CreditsPending until a PostPending or
	// VoidPending transfer resolves it, or its Timeout expires.
	Pending
	// PostPending posts the pending transfer PendingID: all of it when Amount is zero, or Amount
	// of it (the rest is released).
	PostPending
	// VoidPending releases the pending transfer PendingID.
	VoidPending
	// BalancingDebit transfers at most Amount (no limit when Amount is zero), clamped so that
	// the debit account's DebitsPending+DebitsPosted do not exceed its CreditsPosted.
	BalancingDebit
	// BalancingCredit transfers at most Amount (no limit when Amount is zero), clamped so that
	// the credit account's CreditsPending+CreditsPosted do not exceed its DebitsPosted.
	BalancingCredit

	transferFlagsKnown = Linked | Pending | PostPending | VoidPending | BalancingDebit | BalancingCredit
)

// Transfer moves Amount from DebitAccountID to CreditAccountID within one ledger.
//
// ID is the idempotency key: creating a transfer whose ID exists with identical fields returns
// Exists and changes nothing. Timestamp is assigned by the ledger (it must be zero on creation);
// Transfer returns the stored transfer, whose zero-valued optional fields of a post or void have
// been filled in from the pending transfer, and whose Amount of a balancing transfer is the
// amount actually moved.
//
// Transfer is a plain value: copies are independent.
type Transfer struct {
	ID              uint64 // non-zero, unique among transfers
	DebitAccountID  uint64
	CreditAccountID uint64
	Amount          uint64        // minor units
	PendingID       uint64        // the pending transfer a PostPending or VoidPending resolves
	Timeout         time.Duration // Pending only: expires this long after Timestamp (0 = never)
	Ledger          uint32
	Code            uint16 // transfer kind, user-defined, non-zero
	Flags           TransferFlags
	UserData        uint64 // opaque to the ledger
	Timestamp       int64  // unix nanoseconds assigned on creation; unique across the ledger
}

// transferState is the resolution of a pending transfer.
type transferState uint8

const (
	stateNone    transferState = iota // not a pending transfer
	statePending                      // pending, funds reserved
	statePosted
	stateVoided
	stateExpired
)
