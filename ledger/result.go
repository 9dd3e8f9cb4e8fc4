package ledger

import "strconv"

// Result is the outcome of one item of a batch: Index is the item's position in the batch. A
// plain value.
type Result struct {
	Index int
	Code  ResultCode
}

// ResultCode says what happened to one account or transfer of a batch. Ok and Exists mean the
// item is in the ledger; every other code means it was not created and changed nothing.
//
// When several codes apply, the one listed first below wins (the order of the constants is the
// order of precedence), so a retry sees the same code as long as the state it depends on has not
// changed. Codes marked "transient" depend on the ledger's state rather than on the item alone;
// a transfer that fails with one of them uses up its ID (see IDAlreadyFailed), so that a retry
// cannot succeed later with a different effect than the caller was told.
type ResultCode uint8

const (
	// Ok: created.
	Ok ResultCode = iota
	// LinkedEventFailed: another item of the item's linked chain failed, so none was created.
	LinkedEventFailed
	// LinkedEventChainOpen: the last item of the batch carries the Linked flag; its chain fails.
	LinkedEventChainOpen
	// TimestampMustBeZero: Timestamp is assigned by the ledger and must be zero.
	TimestampMustBeZero
	// ReservedFlag: Flags has a bit that is not defined.
	ReservedFlag
	// IDMustNotBeZero: ID is zero.
	IDMustNotBeZero
	// FlagsAreMutuallyExclusive: Pending, PostPending and VoidPending exclude each other and a
	// balancing flag may not be combined with PostPending or VoidPending; an account may not
	// carry both DebitsMustNotExceedCredits and CreditsMustNotExceedDebits.
	FlagsAreMutuallyExclusive
	// DebitsPendingMustBeZero: a new account's DebitsPending must be zero.
	DebitsPendingMustBeZero
	// DebitsPostedMustBeZero: a new account's DebitsPosted must be zero.
	DebitsPostedMustBeZero
	// CreditsPendingMustBeZero: a new account's CreditsPending must be zero.
	CreditsPendingMustBeZero
	// CreditsPostedMustBeZero: a new account's CreditsPosted must be zero.
	CreditsPostedMustBeZero
	// DebitAccountIDMustNotBeZero: a transfer that is not a post or void needs a debit account.
	DebitAccountIDMustNotBeZero
	// CreditAccountIDMustNotBeZero: a transfer that is not a post or void needs a credit account.
	CreditAccountIDMustNotBeZero
	// AccountsMustBeDifferent: debit and credit account are the same.
	AccountsMustBeDifferent
	// PendingIDMustBeZero: only a post or void may reference a pending transfer.
	PendingIDMustBeZero
	// PendingIDMustNotBeZero: a post or void must reference a pending transfer.
	PendingIDMustNotBeZero
	// PendingIDMustBeDifferent: a post or void references itself.
	PendingIDMustBeDifferent
	// TimeoutReservedForPendingTransfer: only a pending transfer may have a Timeout.
	TimeoutReservedForPendingTransfer
	// TimeoutMustNotBeNegative: Timeout is negative.
	TimeoutMustNotBeNegative
	// AmountMustNotBeZero: Amount is zero on a transfer whose flags give zero no meaning (zero is
	// allowed on a post — all of it —, a void and a balancing transfer — no limit).
	AmountMustNotBeZero
	// LedgerMustNotBeZero: Ledger is zero (allowed on a post or void: it is inherited).
	LedgerMustNotBeZero
	// CodeMustNotBeZero: Code is zero (allowed on a post or void: it is inherited).
	CodeMustNotBeZero
	// ExistsWithDifferentFlags: the ID exists with other Flags.
	ExistsWithDifferentFlags
	// ExistsWithDifferentDebitAccountID: the ID exists with another DebitAccountID.
	ExistsWithDifferentDebitAccountID
	// ExistsWithDifferentCreditAccountID: the ID exists with another CreditAccountID.
	ExistsWithDifferentCreditAccountID
	// ExistsWithDifferentAmount: the ID exists with another Amount (for a balancing transfer:
	// it moved more than this request's Amount allows).
	ExistsWithDifferentAmount
	// ExistsWithDifferentPendingID: the ID exists with another PendingID.
	ExistsWithDifferentPendingID
	// ExistsWithDifferentTimeout: the ID exists with another Timeout.
	ExistsWithDifferentTimeout
	// ExistsWithDifferentLedger: the ID exists with another Ledger.
	ExistsWithDifferentLedger
	// ExistsWithDifferentCode: the ID exists with another Code.
	ExistsWithDifferentCode
	// ExistsWithDifferentUserData: the ID exists with other UserData.
	ExistsWithDifferentUserData
	// Exists: the ID exists with the same fields: an idempotent retry; treat it as Ok. For a post
	// or void, zero optional fields match whatever was inherited from the pending transfer.
	Exists
	// IDAlreadyFailed: a transfer with this ID failed earlier with a transient code; the ID
	// cannot be used again.
	IDAlreadyFailed
	// DebitAccountNotFound (transient): no account has DebitAccountID.
	DebitAccountNotFound
	// CreditAccountNotFound (transient): no account has CreditAccountID.
	CreditAccountNotFound
	// AccountsMustHaveTheSameLedger: the two accounts are in different ledgers.
	AccountsMustHaveTheSameLedger
	// TransferMustHaveTheSameLedgerAsAccounts: the accounts' ledger differs from Ledger.
	TransferMustHaveTheSameLedgerAsAccounts
	// PendingTransferNotFound (transient): no transfer has PendingID.
	PendingTransferNotFound
	// PendingTransferNotPending: the transfer PendingID is not a pending transfer.
	PendingTransferNotPending
	// PendingTransferHasDifferentDebitAccountID: a non-zero DebitAccountID differs from the
	// pending transfer's.
	PendingTransferHasDifferentDebitAccountID
	// PendingTransferHasDifferentCreditAccountID: a non-zero CreditAccountID differs from the
	// pending transfer's.
	PendingTransferHasDifferentCreditAccountID
	// PendingTransferHasDifferentLedger: a non-zero Ledger differs from the pending transfer's.
	PendingTransferHasDifferentLedger
	// PendingTransferHasDifferentCode: a non-zero Code differs from the pending transfer's.
	PendingTransferHasDifferentCode
	// ExceedsPendingTransferAmount: a post's Amount exceeds the pending transfer's.
	ExceedsPendingTransferAmount
	// PendingTransferHasDifferentAmount: a void's non-zero Amount differs from the pending
	// transfer's (partial release is a partial post).
	PendingTransferHasDifferentAmount
	// PendingTransferAlreadyPosted: the pending transfer was posted before.
	PendingTransferAlreadyPosted
	// PendingTransferAlreadyVoided: the pending transfer was voided before.
	PendingTransferAlreadyVoided
	// PendingTransferExpired: the pending transfer's Timeout passed and its funds were released.
	PendingTransferExpired
	// OverflowsDebitsPending (transient): the debit account's DebitsPending would wrap uint64.
	OverflowsDebitsPending
	// OverflowsCreditsPending (transient): the credit account's CreditsPending would wrap.
	OverflowsCreditsPending
	// OverflowsDebitsPosted (transient): the debit account's DebitsPosted would wrap.
	OverflowsDebitsPosted
	// OverflowsCreditsPosted (transient): the credit account's CreditsPosted would wrap.
	OverflowsCreditsPosted
	// OverflowsDebits (transient): the debit account's DebitsPending+DebitsPosted would wrap.
	OverflowsDebits
	// OverflowsCredits (transient): the credit account's CreditsPending+CreditsPosted would wrap.
	OverflowsCredits
	// OverflowsTimeout: Timestamp+Timeout would exceed the largest int64.
	OverflowsTimeout
	// ExceedsCredits (transient): the debit account has DebitsMustNotExceedCredits (or the
	// transfer is BalancingDebit and there is nothing left to balance) and would exceed it.
	ExceedsCredits
	// ExceedsDebits (transient): the credit account has CreditsMustNotExceedDebits (or the
	// transfer is BalancingCredit and there is nothing left to balance) and would exceed it.
	ExceedsDebits

	resultCodeCount
)

var resultNames = [...]string{
	Ok:                                         "Ok",
	LinkedEventFailed:                          "LinkedEventFailed",
	LinkedEventChainOpen:                       "LinkedEventChainOpen",
	TimestampMustBeZero:                        "TimestampMustBeZero",
	ReservedFlag:                               "ReservedFlag",
	IDMustNotBeZero:                            "IDMustNotBeZero",
	FlagsAreMutuallyExclusive:                  "FlagsAreMutuallyExclusive",
	DebitsPendingMustBeZero:                    "DebitsPendingMustBeZero",
	DebitsPostedMustBeZero:                     "DebitsPostedMustBeZero",
	CreditsPendingMustBeZero:                   "CreditsPendingMustBeZero",
	CreditsPostedMustBeZero:                    "CreditsPostedMustBeZero",
	DebitAccountIDMustNotBeZero:                "DebitAccountIDMustNotBeZero",
	CreditAccountIDMustNotBeZero:               "CreditAccountIDMustNotBeZero",
	AccountsMustBeDifferent:                    "AccountsMustBeDifferent",
	PendingIDMustBeZero:                        "PendingIDMustBeZero",
	PendingIDMustNotBeZero:                     "PendingIDMustNotBeZero",
	PendingIDMustBeDifferent:                   "PendingIDMustBeDifferent",
	TimeoutReservedForPendingTransfer:          "TimeoutReservedForPendingTransfer",
	TimeoutMustNotBeNegative:                   "TimeoutMustNotBeNegative",
	AmountMustNotBeZero:                        "AmountMustNotBeZero",
	LedgerMustNotBeZero:                        "LedgerMustNotBeZero",
	CodeMustNotBeZero:                          "CodeMustNotBeZero",
	ExistsWithDifferentFlags:                   "ExistsWithDifferentFlags",
	ExistsWithDifferentDebitAccountID:          "ExistsWithDifferentDebitAccountID",
	ExistsWithDifferentCreditAccountID:         "ExistsWithDifferentCreditAccountID",
	ExistsWithDifferentAmount:                  "ExistsWithDifferentAmount",
	ExistsWithDifferentPendingID:               "ExistsWithDifferentPendingID",
	ExistsWithDifferentTimeout:                 "ExistsWithDifferentTimeout",
	ExistsWithDifferentLedger:                  "ExistsWithDifferentLedger",
	ExistsWithDifferentCode:                    "ExistsWithDifferentCode",
	ExistsWithDifferentUserData:                "ExistsWithDifferentUserData",
	Exists:                                     "Exists",
	IDAlreadyFailed:                            "IDAlreadyFailed",
	DebitAccountNotFound:                       "DebitAccountNotFound",
	CreditAccountNotFound:                      "CreditAccountNotFound",
	AccountsMustHaveTheSameLedger:              "AccountsMustHaveTheSameLedger",
	TransferMustHaveTheSameLedgerAsAccounts:    "TransferMustHaveTheSameLedgerAsAccounts",
	PendingTransferNotFound:                    "PendingTransferNotFound",
	PendingTransferNotPending:                  "PendingTransferNotPending",
	PendingTransferHasDifferentDebitAccountID:  "PendingTransferHasDifferentDebitAccountID",
	PendingTransferHasDifferentCreditAccountID: "PendingTransferHasDifferentCreditAccountID",
	PendingTransferHasDifferentLedger:          "PendingTransferHasDifferentLedger",
	PendingTransferHasDifferentCode:            "PendingTransferHasDifferentCode",
	ExceedsPendingTransferAmount:               "ExceedsPendingTransferAmount",
	PendingTransferHasDifferentAmount:          "PendingTransferHasDifferentAmount",
	PendingTransferAlreadyPosted:               "PendingTransferAlreadyPosted",
	PendingTransferAlreadyVoided:               "PendingTransferAlreadyVoided",
	PendingTransferExpired:                     "PendingTransferExpired",
	OverflowsDebitsPending:                     "OverflowsDebitsPending",
	OverflowsCreditsPending:                    "OverflowsCreditsPending",
	OverflowsDebitsPosted:                      "OverflowsDebitsPosted",
	OverflowsCreditsPosted:                     "OverflowsCreditsPosted",
	OverflowsDebits:                            "OverflowsDebits",
	OverflowsCredits:                           "OverflowsCredits",
	OverflowsTimeout:                           "OverflowsTimeout",
	ExceedsCredits:                             "ExceedsCredits",
	ExceedsDebits:                              "ExceedsDebits",
}

// String returns the code's name, e.g. "ExceedsCredits".
func (c ResultCode) String() string {
	if int(c) < len(resultNames) {
		return resultNames[c]
	}
	return "ResultCode(" + strconv.Itoa(int(c)) + ")"
}

// Succeeded reports whether the item is in the ledger: Ok or Exists.
func (c ResultCode) Succeeded() bool { return c == Ok || c == Exists }

// transient reports whether a transfer failing with c uses up its ID.
func (c ResultCode) transient() bool {
	switch c {
	case DebitAccountNotFound, CreditAccountNotFound, PendingTransferNotFound,
		OverflowsDebitsPending, OverflowsCreditsPending, OverflowsDebitsPosted,
		OverflowsCreditsPosted, OverflowsDebits, OverflowsCredits, ExceedsCredits, ExceedsDebits:
		return true
	}
	return false
}
