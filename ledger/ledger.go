package ledger

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sort"
	"sync"
	"time"
)

var (
	// ErrClosed is returned by writes after Close.
	ErrClosed = errors.New("ledger: closed")
	// ErrBatchTooLarge is returned for a batch of more than MaxBatch items; nothing is applied.
	ErrBatchTooLarge = errors.New("ledger: batch too large")
	// ErrJournal wraps a journal failure. The batch it was returned for, and every batch after
	// it, is not acknowledged: the ledger refuses further writes, and only reopening it (which
	// replays what the journal holds) tells which batches survived.
	ErrJournal = errors.New("ledger: journal failed")
)

// MaxBatch is the largest batch CreateAccounts and CreateTransfers accept (TigerBeetle's
// limit). It bounds a journal record to about 1 MiB.
const MaxBatch = 8189

// Options configure a Ledger. The zero value is valid: the wall clock.
type Options struct {
	// Clock gives the time used to stamp accounts and transfers and to expire pending transfers.
	// Stamps are unix nanoseconds made strictly increasing by the ledger, whatever the clock
	// does. Default time.Now.
	Clock func() time.Time
}

// stored is a transfer as kept in the ledger, with the positions of its accounts.
type stored struct {
	Transfer
	dr, cr uint32
	state  transferState
}

// Ledger holds accounts and transfers and applies batches of them. Make one with New (in
// memory) or Open (journaled); the zero value is not usable.
//
// A Ledger is safe for concurrent use: writes are serialised by one mutex (batches are applied
// one after another, in the order they take it); reads share a read lock. With a journal, callers
// release the mutex while their batch is being made durable, so concurrent callers share one
// journal write (group commit). Reads may observe a batch whose journal write is still in flight;
// its caller is told the result only once the batch is durable.
type Ledger struct {
	mu    sync.RWMutex
	clock func() time.Time
	last  int64 // last timestamp assigned

	accounts  []Account
	accountAt table      // account ID → index in accounts
	history   [][]uint32 // per account: positions of its transfers, if it has the History flag

	transfers  transferStore
	transferAt table // transfer ID → index in transfers
	failed     table // IDs used up by a transient failure → index in failedIDs
	failedIDs  []uint64
	expiry     expiryHeap

	undo []undoEntry // changes of the linked chain being applied
	mark chainMark

	j      *journal // nil in memory
	closed bool
}

// New returns an empty in-memory ledger (nothing is journaled).
func New(opts Options) *Ledger {
	l := &Ledger{clock: opts.Clock}
	if l.clock == nil {
		l.clock = time.Now
	}
	return l
}

// CreateAccounts creates a batch of at most MaxBatch accounts and returns one Result per
// item, in order. Items are independent unless linked (AccountLinked): a chain is created all
// together or not at all. Cost: O(len(batch)) expected. The error is non-nil only for a batch
// that is too large (ErrBatchTooLarge: nothing applied), a closed ledger (ErrClosed) or a
// journal failure (ErrJournal): then no result is acknowledged.
func (l *Ledger) CreateAccounts(batch []Account) ([]Result, error) {
	return l.CreateAccountsInto(make([]Result, 0, len(batch)), batch)
}

// CreateAccountsInto is CreateAccounts appending the results to dst, so that a caller reusing
// dst allocates nothing.
func (l *Ledger) CreateAccountsInto(dst []Result, batch []Account) ([]Result, error) {
	return write(l, dst, batch, (*Ledger).applyAccounts, appendAccountsRecord)
}

// CreateTransfers applies a batch of at most MaxBatch transfers and returns one Result per
// item, in order. Items are independent unless linked (Linked): a chain is applied all together
// or not at all. Before the batch, pending transfers whose timeout has passed (by the batch's
// timestamp) are expired. Cost: O(len(batch)) expected, plus O(log p) per pending transfer with
// a timeout. The error is non-nil only for a batch that is too large (ErrBatchTooLarge: nothing
// applied), a closed ledger (ErrClosed) or a journal failure (ErrJournal): then no result is
// acknowledged.
func (l *Ledger) CreateTransfers(batch []Transfer) ([]Result, error) {
	return l.CreateTransfersInto(make([]Result, 0, len(batch)), batch)
}

// CreateTransfersInto is CreateTransfers appending the results to dst, so that a caller reusing
// dst allocates nothing in steady state.
func (l *Ledger) CreateTransfersInto(dst []Result, batch []Transfer) ([]Result, error) {
	return write(l, dst, batch, (*Ledger).applyTransfers, appendTransfersRecord)
}

// write stamps and applies a batch under the write lock, then journals it (encoded by enc) and
// returns once it is durable.
func write[T any](l *Ledger, dst []Result, batch []T, apply func(*Ledger, []Result, []T, int64) []Result, enc func([]byte, int64, []T) []byte) ([]Result, error) {
	if len(batch) == 0 {
		return dst, l.writable()
	}
	if len(batch) > MaxBatch {
		return dst, fmt.Errorf("%w: %d items, at most %d", ErrBatchTooLarge, len(batch), MaxBatch)
	}
	l.mu.Lock()
	if err := l.writableLocked(); err != nil {
		l.mu.Unlock()
		return dst, err
	}
	base := l.stamp(len(batch))
	dst = apply(l, dst, batch, base)
	return dst, l.commit(func(buf []byte) []byte { return enc(buf, base, batch) })
}

// commit journals the batch just applied (encoded by enc) and unlocks l.mu; it returns once
// the batch is durable.
func (l *Ledger) commit(enc func([]byte) []byte) error {
	if l.j == nil {
		l.mu.Unlock()
		return nil
	}
	seq := l.j.enqueue(enc)
	l.mu.Unlock()
	return l.j.wait(seq)
}

func (l *Ledger) writable() error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.writableLocked()
}

func (l *Ledger) writableLocked() error {
	if l.closed {
		return ErrClosed
	}
	if l.j != nil {
		return l.j.failure()
	}
	return nil
}

// Close makes every later write return ErrClosed and waits for journal writes in flight. It does
// not close the journal, which belongs to the caller. Closing twice is fine.
func (l *Ledger) Close() error {
	l.mu.Lock()
	l.closed = true
	j := l.j
	l.mu.Unlock()
	if j != nil {
		return j.drain()
	}
	return nil
}

// stamp reserves n consecutive timestamps and returns the first: the clock's time, or the
// previous stamp plus one if the clock has not moved on.
func (l *Ledger) stamp(n int) int64 {
	base := l.clock().UnixNano()
	if base <= l.last {
		base = l.last + 1
	}
	l.last = base + int64(n) - 1
	return base
}

// applyAccounts applies batch stamped from base, appending one result per item to dst.
func (l *Ledger) applyAccounts(dst []Result, batch []Account, base int64) []Result {
	return applyBatch(l, dst, batch, base, createAccountItem)
}

// applyTransfers applies batch stamped from base, appending one result per item to dst.
func (l *Ledger) applyTransfers(dst []Result, batch []Transfer, base int64) []Result {
	l.expire(base)
	return applyBatch(l, dst, batch, base, createTransferItem)
}

// linker is what applyBatch needs of an item: whether it links to the next one.
type linker[T any] interface {
	*T
	linked() bool
}

func (a *Account) linked() bool  { return a.Flags&AccountLinked != 0 }
func (t *Transfer) linked() bool { return t.Flags&Linked != 0 }

func createAccountItem(l *Ledger, a *Account, ts int64, _ bool) ResultCode {
	return l.createAccount(a, ts)
}

func createTransferItem(l *Ledger, t *Transfer, ts int64, inChain bool) ResultCode {
	code := l.createTransfer(t, ts, inChain)
	if code.transient() {
		l.markFailed(t.ID)
	}
	return code
}

// applyBatch runs create on each item (item i stamped base+i), appending one result per item to
// dst, and makes every linked chain all-or-nothing: when an item of a chain fails, the chain's
// earlier items are rolled back and reported LinkedEventFailed, as are its later items, which
// are not attempted. A chain still open at the end of the batch fails with
// LinkedEventChainOpen on its last item.
func applyBatch[T any, P linker[T]](l *Ledger, dst []Result, batch []T, base int64, create func(*Ledger, P, int64, bool) ResultCode) []Result {
	if last := base + int64(len(batch)) - 1; last > l.last {
		l.last = last
	}
	off := len(dst)
	end := len(batch) - 1
	chainOpen := P(&batch[end]).linked()
	chain := -1
	for i := 0; i <= end; i++ {
		linked := P(&batch[i]).linked()
		if chain < 0 && linked {
			chain = i
			l.beginChain()
		}
		code := LinkedEventChainOpen
		if !chainOpen || i < end {
			code = create(l, &batch[i], base+int64(i), chain >= 0)
		}
		dst = append(dst, Result{Index: i, Code: code})
		if chain < 0 {
			continue
		}
		if code != Ok {
			l.rollbackChain()
			for j := chain; j < i; j++ {
				dst[off+j].Code = LinkedEventFailed
			}
			for P(&batch[i]).linked() && i < end {
				i++
				code := LinkedEventFailed
				if chainOpen && i == end {
					code = LinkedEventChainOpen
				}
				dst = append(dst, Result{Index: i, Code: code})
			}
			chain = -1
		} else if !linked {
			chain = -1
			l.endChain()
		}
	}
	return dst
}

// createAccount validates a and creates it stamped ts; it changes nothing unless it returns Ok.
// Within a chain its creation is undone by truncation (see rollbackChain).
func (l *Ledger) createAccount(a *Account, ts int64) ResultCode {
	switch {
	case a.Timestamp != 0:
		return TimestampMustBeZero
	case a.Flags&^accountFlagsKnown != 0:
		return ReservedFlag
	case a.ID == 0:
		return IDMustNotBeZero
	case a.Flags&DebitsMustNotExceedCredits != 0 && a.Flags&CreditsMustNotExceedDebits != 0:
		return FlagsAreMutuallyExclusive
	case a.DebitsPending != 0:
		return DebitsPendingMustBeZero
	case a.DebitsPosted != 0:
		return DebitsPostedMustBeZero
	case a.CreditsPending != 0:
		return CreditsPendingMustBeZero
	case a.CreditsPosted != 0:
		return CreditsPostedMustBeZero
	case a.Ledger == 0:
		return LedgerMustNotBeZero
	case a.Code == 0:
		return CodeMustNotBeZero
	}
	if i, ok := l.accountAt.get(a.ID); ok {
		e := &l.accounts[i]
		switch {
		case a.Flags != e.Flags:
			return ExistsWithDifferentFlags
		case a.Ledger != e.Ledger:
			return ExistsWithDifferentLedger
		case a.Code != e.Code:
			return ExistsWithDifferentCode
		case a.UserData != e.UserData:
			return ExistsWithDifferentUserData
		}
		return Exists
	}
	na := *a
	na.Timestamp = ts
	l.accountAt.put(a.ID, uint32(len(l.accounts)))
	l.accounts = append(l.accounts, na)
	var h []uint32
	if a.Flags&History != 0 {
		h = []uint32{}
	}
	l.history = append(l.history, h)
	return Ok
}

// createTransfer validates t and applies it stamped ts; it changes nothing unless it returns Ok.
func (l *Ledger) createTransfer(t *Transfer, ts int64, inChain bool) ResultCode {
	f := t.Flags
	switch {
	case t.Timestamp != 0:
		return TimestampMustBeZero
	case f&^transferFlagsKnown != 0:
		return ReservedFlag
	case t.ID == 0:
		return IDMustNotBeZero
	case bits.OnesCount16(uint16(f&(Pending|PostPending|VoidPending))) > 1,
		f&(PostPending|VoidPending) != 0 && f&(BalancingDebit|BalancingCredit) != 0:
		return FlagsAreMutuallyExclusive
	}
	if f&(PostPending|VoidPending) != 0 {
		return l.resolvePending(t, ts, inChain)
	}
	switch {
	case t.DebitAccountID == 0:
		return DebitAccountIDMustNotBeZero
	case t.CreditAccountID == 0:
		return CreditAccountIDMustNotBeZero
	case t.DebitAccountID == t.CreditAccountID:
		return AccountsMustBeDifferent
	case t.PendingID != 0:
		return PendingIDMustBeZero
	case t.Timeout != 0 && f&Pending == 0:
		return TimeoutReservedForPendingTransfer
	case t.Timeout < 0:
		return TimeoutMustNotBeNegative
	case t.Amount == 0 && f&(BalancingDebit|BalancingCredit) == 0:
		return AmountMustNotBeZero
	case t.Ledger == 0:
		return LedgerMustNotBeZero
	case t.Code == 0:
		return CodeMustNotBeZero
	}
	if code, used := l.usedID(t); used {
		return code
	}
	di, ok := l.accountAt.get(t.DebitAccountID)
	if !ok {
		return DebitAccountNotFound
	}
	ci, ok := l.accountAt.get(t.CreditAccountID)
	if !ok {
		return CreditAccountNotFound
	}
	dr, cr := &l.accounts[di], &l.accounts[ci]
	if dr.Ledger != cr.Ledger {
		return AccountsMustHaveTheSameLedger
	}
	if t.Ledger != dr.Ledger {
		return TransferMustHaveTheSameLedgerAsAccounts
	}
	amount := t.Amount
	if amount == 0 { // balancing without a limit
		amount = math.MaxUint64
	}
	if f&BalancingDebit != 0 {
		amount = min(amount, headroom(dr.CreditsPosted, dr.DebitsPending, dr.DebitsPosted))
		if amount == 0 {
			return ExceedsCredits
		}
	}
	if f&BalancingCredit != 0 {
		amount = min(amount, headroom(cr.DebitsPosted, cr.CreditsPending, cr.CreditsPosted))
		if amount == 0 {
			return ExceedsDebits
		}
	}
	pending := f&Pending != 0
	if pending {
		if _, c := bits.Add64(dr.DebitsPending, amount, 0); c != 0 {
			return OverflowsDebitsPending
		}
		if _, c := bits.Add64(cr.CreditsPending, amount, 0); c != 0 {
			return OverflowsCreditsPending
		}
	} else {
		if _, c := bits.Add64(dr.DebitsPosted, amount, 0); c != 0 {
			return OverflowsDebitsPosted
		}
		if _, c := bits.Add64(cr.CreditsPosted, amount, 0); c != 0 {
			return OverflowsCreditsPosted
		}
	}
	debits, c1 := add3(dr.DebitsPending, dr.DebitsPosted, amount)
	if c1 {
		return OverflowsDebits
	}
	credits, c2 := add3(cr.CreditsPending, cr.CreditsPosted, amount)
	if c2 {
		return OverflowsCredits
	}
	if t.Timeout > 0 && ts > math.MaxInt64-int64(t.Timeout) {
		return OverflowsTimeout
	}
	if dr.Flags&DebitsMustNotExceedCredits != 0 && debits > dr.CreditsPosted {
		return ExceedsCredits
	}
	if cr.Flags&CreditsMustNotExceedDebits != 0 && credits > cr.DebitsPosted {
		return ExceedsDebits
	}

	if inChain {
		l.saveAccount(di)
		l.saveAccount(ci)
	}
	st := stored{Transfer: *t, dr: di, cr: ci}
	st.Amount, st.Timestamp = amount, ts
	if pending {
		dr.DebitsPending += amount
		cr.CreditsPending += amount
		st.state = statePending
	} else {
		dr.DebitsPosted += amount
		cr.CreditsPosted += amount
	}
	idx := l.insertTransfer(&st, inChain)
	if pending && t.Timeout > 0 {
		l.expiry.push(expiryEntry{at: ts + int64(t.Timeout), ts: ts, idx: idx})
	}
	return Ok
}

// resolvePending validates and applies a PostPending or VoidPending transfer.
func (l *Ledger) resolvePending(t *Transfer, ts int64, inChain bool) ResultCode {
	post := t.Flags&PostPending != 0
	switch {
	case t.PendingID == 0:
		return PendingIDMustNotBeZero
	case t.PendingID == t.ID:
		return PendingIDMustBeDifferent
	case t.Timeout != 0:
		return TimeoutReservedForPendingTransfer
	}
	if code, used := l.usedID(t); used {
		return code
	}
	pi, ok := l.transferAt.get(t.PendingID)
	if !ok {
		return PendingTransferNotFound
	}
	p := l.transfers.at(pi)
	switch {
	case p.Flags&Pending == 0:
		return PendingTransferNotPending
	case t.DebitAccountID != 0 && t.DebitAccountID != p.DebitAccountID:
		return PendingTransferHasDifferentDebitAccountID
	case t.CreditAccountID != 0 && t.CreditAccountID != p.CreditAccountID:
		return PendingTransferHasDifferentCreditAccountID
	case t.Ledger != 0 && t.Ledger != p.Ledger:
		return PendingTransferHasDifferentLedger
	case t.Code != 0 && t.Code != p.Code:
		return PendingTransferHasDifferentCode
	}
	amount := t.Amount
	if post {
		if amount == 0 {
			amount = p.Amount
		} else if amount > p.Amount {
			return ExceedsPendingTransferAmount
		}
	} else {
		if amount != 0 && amount != p.Amount {
			return PendingTransferHasDifferentAmount
		}
		amount = p.Amount
	}
	switch p.state {
	case statePosted:
		return PendingTransferAlreadyPosted
	case stateVoided:
		return PendingTransferAlreadyVoided
	case stateExpired:
		return PendingTransferExpired
	}
	dr, cr := &l.accounts[p.dr], &l.accounts[p.cr]
	if post {
		if _, c := bits.Add64(dr.DebitsPosted, amount, 0); c != 0 {
			return OverflowsDebitsPosted
		}
		if _, c := bits.Add64(cr.CreditsPosted, amount, 0); c != 0 {
			return OverflowsCreditsPosted
		}
	}

	if inChain {
		l.saveAccount(p.dr)
		l.saveAccount(p.cr)
		l.undo = append(l.undo, undoEntry{kind: undoState, idx: pi, state: p.state})
	}
	dr.DebitsPending -= p.Amount
	cr.CreditsPending -= p.Amount
	if post {
		dr.DebitsPosted += amount
		cr.CreditsPosted += amount
		p.state = statePosted
	} else {
		p.state = stateVoided
	}
	st := stored{Transfer: *t, dr: p.dr, cr: p.cr}
	st.DebitAccountID, st.CreditAccountID = p.DebitAccountID, p.CreditAccountID
	st.Ledger, st.Code, st.Amount, st.Timestamp = p.Ledger, p.Code, amount, ts
	if st.UserData == 0 {
		st.UserData = p.UserData
	}
	l.insertTransfer(&st, inChain)
	return Ok
}

// usedID reports whether t's ID is taken, by a transfer (an Exists code) or by a failure.
func (l *Ledger) usedID(t *Transfer) (ResultCode, bool) {
	if i, ok := l.transferAt.get(t.ID); ok {
		return l.existsCode(t, &l.transfers.at(i).Transfer), true
	}
	if _, ok := l.failed.get(t.ID); ok {
		return IDAlreadyFailed, true
	}
	return Ok, false
}

// existsCode compares a request with the stored transfer of the same ID. Zero optional fields of
// a post or void match what they inherited; a balancing transfer matches if it moved no more
// than the request allows.
func (l *Ledger) existsCode(t, e *Transfer) ResultCode {
	if t.Flags != e.Flags {
		return ExistsWithDifferentFlags
	}
	resolve := t.Flags&(PostPending|VoidPending) != 0
	wild := func(req, got uint64) bool { return req == got || (resolve && req == 0) }
	if !wild(t.DebitAccountID, e.DebitAccountID) {
		return ExistsWithDifferentDebitAccountID
	}
	if !wild(t.CreditAccountID, e.CreditAccountID) {
		return ExistsWithDifferentCreditAccountID
	}
	var amountDiffers bool
	switch {
	case t.Flags&(BalancingDebit|BalancingCredit) != 0:
		amountDiffers = t.Amount != 0 && e.Amount > t.Amount
	case t.Flags&PostPending != 0 && t.Amount == 0:
		// All of the pending transfer, which the stored post must have moved.
		pi, ok := l.transferAt.get(e.PendingID)
		amountDiffers = !ok || l.transfers.at(pi).Amount != e.Amount
	case t.Flags&PostPending != 0:
		amountDiffers = t.Amount != e.Amount
	default:
		amountDiffers = !wild(t.Amount, e.Amount)
	}
	if amountDiffers {
		return ExistsWithDifferentAmount
	}
	switch {
	case t.PendingID != e.PendingID:
		return ExistsWithDifferentPendingID
	case t.Timeout != e.Timeout:
		return ExistsWithDifferentTimeout
	case !wild(uint64(t.Ledger), uint64(e.Ledger)):
		return ExistsWithDifferentLedger
	case !wild(uint64(t.Code), uint64(e.Code)):
		return ExistsWithDifferentCode
	case !wild(t.UserData, e.UserData):
		return ExistsWithDifferentUserData
	}
	return Exists
}

// headroom returns limit-(a+b), or 0 if a+b reaches limit.
func headroom(limit, a, b uint64) uint64 {
	used, c := bits.Add64(a, b, 0)
	if c != 0 || used >= limit {
		return 0
	}
	return limit - used
}

// add3 returns a+b+c and whether the sum wrapped.
func add3(a, b, c uint64) (uint64, bool) {
	s, c1 := bits.Add64(a, b, 0)
	s, c2 := bits.Add64(s, c, 0)
	return s, c1|c2 != 0
}

func (l *Ledger) insertTransfer(st *stored, inChain bool) uint32 {
	idx := l.transfers.add(st)
	l.transferAt.put(st.ID, idx)
	for _, a := range [2]uint32{st.dr, st.cr} {
		if l.accounts[a].Flags&History != 0 {
			if inChain {
				l.undo = append(l.undo, undoEntry{kind: undoHistory, idx: a})
			}
			l.history[a] = append(l.history[a], idx)
		}
	}
	return idx
}

func (l *Ledger) markFailed(id uint64) {
	if id == 0 {
		return
	}
	if _, ok := l.failed.get(id); ok {
		return
	}
	l.failed.put(id, uint32(len(l.failedIDs)))
	l.failedIDs = append(l.failedIDs, id)
}

// expire releases every pending transfer whose deadline is at or before now, in deadline order.
func (l *Ledger) expire(now int64) {
	for len(l.expiry) > 0 && l.expiry[0].at <= now {
		e := l.expiry.pop()
		if int(e.idx) >= l.transfers.len() {
			continue // created by a chain that was rolled back
		}
		p := l.transfers.at(e.idx)
		if p.Timestamp != e.ts || p.state != statePending {
			continue
		}
		l.accounts[p.dr].DebitsPending -= p.Amount
		l.accounts[p.cr].CreditsPending -= p.Amount
		p.state = stateExpired
	}
}

// Account returns the account with the given ID. Cost: O(1) expected.
func (l *Ledger) Account(id uint64) (Account, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	i, ok := l.accountAt.get(id)
	if !ok {
		return Account{}, false
	}
	return l.accounts[i], true
}

// Transfer returns the stored transfer with the given ID. Cost: O(1) expected.
func (l *Ledger) Transfer(id uint64) (Transfer, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	i, ok := l.transferAt.get(id)
	if !ok {
		return Transfer{}, false
	}
	return l.transfers.at(i).Transfer, true
}

// PendingStatus says what became of a pending transfer.
type PendingStatus uint8

// The values mirror transferState.
const (
	// NotPending: no transfer with that ID, or not a pending transfer.
	NotPending PendingStatus = iota
	// PendingReserved: its amount is still held in the accounts' pending balances.
	PendingReserved
	// PendingPosted: posted (in full or in part) by a PostPending transfer.
	PendingPosted
	// PendingVoided: released by a VoidPending transfer.
	PendingVoided
	// PendingExpired: released because its timeout passed.
	PendingExpired
)

// PendingStatus returns the status of the pending transfer id. Cost: O(1) expected.
func (l *Ledger) PendingStatus(id uint64) PendingStatus {
	l.mu.RLock()
	defer l.mu.RUnlock()
	i, ok := l.transferAt.get(id)
	if !ok {
		return NotPending
	}
	return PendingStatus(l.transfers.at(i).state)
}

// History appends to dst the transfers that debit or credit the account, with from <= Timestamp
// <= to, oldest first. It returns dst unchanged unless the account exists with the History flag.
// Cost: O(log h + k) for h transfers of the account and k returned.
func (l *Ledger) History(account uint64, from, to int64, dst []Transfer) []Transfer {
	l.mu.RLock()
	defer l.mu.RUnlock()
	ai, ok := l.accountAt.get(account)
	if !ok {
		return dst
	}
	h := l.history[ai]
	i := sort.Search(len(h), func(i int) bool { return l.transfers.at(h[i]).Timestamp >= from })
	for ; i < len(h) && l.transfers.at(h[i]).Timestamp <= to; i++ {
		dst = append(dst, l.transfers.at(h[i]).Transfer)
	}
	return dst
}

// Len returns the number of accounts and transfers. Cost: O(1).
func (l *Ledger) Len() (accounts, transfers int) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.accounts), l.transfers.len()
}

func (l *Ledger) String() string {
	a, t := l.Len()
	return fmt.Sprintf("ledger(%d accounts, %d transfers)", a, t)
}

// apply replays a decoded journal record, appending its results to dst.
func (l *Ledger) apply(r *record, dst []Result) []Result {
	if r.kind == kindAccounts {
		return l.applyAccounts(dst, r.accounts, r.base)
	}
	return l.applyTransfers(dst, r.transfers, r.base)
}
