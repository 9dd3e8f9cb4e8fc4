package ledger

// AccountFlags configure an account's behaviour. Combine them with |.
type AccountFlags uint16

const (
	// AccountLinked links this account's creation to the next one in the batch: the chain is
	// created all together or not at all.
	AccountLinked AccountFlags = 1 << iota
	// DebitsMustNotExceedCredits rejects any transfer that would make
	// DebitsPending+DebitsPosted exceed CreditsPosted (a customer wallet that cannot go negative).
	DebitsMustNotExceedCredits
	// CreditsMustNotExceedDebits rejects any transfer that would make
	// CreditsPending+CreditsPosted exceed DebitsPosted.
	CreditsMustNotExceedDebits
	// History keeps the account's transfers indexed by timestamp for Ledger.History.
	History

	accountFlagsKnown = AccountLinked | DebitsMustNotExceedCredits | CreditsMustNotExceedDebits | History
)

// Account is one side of every transfer: a balance in one ledger (currency or asset).
//
// The balance fields are maintained by the ledger and must be zero on creation; Timestamp is
// assigned by the ledger and must be zero too. An account's balance, seen from the debit side,
// is DebitsPosted-CreditsPosted; amounts reserved by pending transfers sit in the *Pending fields
// until they are posted, voided or expire.
//
// The zero value is not a valid account (ID, Ledger and Code must be non-zero). Account is a plain
// value: copies are independent.
type Account struct {
	ID             uint64 // non-zero, unique among accounts
	Ledger         uint32 // currency or asset; transfers move value only within one ledger
	Code           uint16 // account type, user-defined, non-zero
	Flags          AccountFlags
	DebitsPending  uint64 // minor units reserved by pending transfers debiting this account
	DebitsPosted   uint64 // minor units debited
	CreditsPending uint64 // minor units reserved by pending transfers crediting this account
	CreditsPosted  uint64 // minor units credited
	UserData       uint64 // opaque to the ledger
	Timestamp      int64  // unix nanoseconds assigned on creation; unique across the ledger
}
