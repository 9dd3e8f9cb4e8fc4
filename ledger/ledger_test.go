package ledger

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/sysblocks/sysblocks/internal/testseed"
)

// fakeClock is an injectable clock that moves only when told.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time          { return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.now = c.now.Add(d) }

func newTestLedger(t *testing.T, accounts ...Account) (*Ledger, *fakeClock) {
	t.Helper()
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	l := New(Options{Clock: clk.Now})
	mustCreateAccounts(t, l, accounts...)
	return l, clk
}

func mustCreateAccounts(t *testing.T, l *Ledger, accounts ...Account) {
	t.Helper()
	if len(accounts) == 0 {
		return
	}
	res, err := l.CreateAccounts(accounts)
	require.NoError(t, err)
	for _, r := range res {
		require.Equal(t, Ok, r.Code, "account %d", accounts[r.Index].ID)
	}
}

func codes(t *testing.T, l *Ledger, batch ...Transfer) []ResultCode {
	t.Helper()
	res, err := l.CreateTransfers(batch)
	require.NoError(t, err)
	out := make([]ResultCode, len(res))
	for i, r := range res {
		require.Equal(t, i, r.Index)
		out[i] = r.Code
	}
	return out
}

func balance(t *testing.T, l *Ledger, id uint64) Account {
	t.Helper()
	a, ok := l.Account(id)
	require.True(t, ok)
	return a
}

const (
	bank   = 1 // funds customers; no limits
	alice  = 2 // cannot go below zero
	bob    = 3
	euro   = 10
	kindTx = 1
)

func wallets() []Account {
	return []Account{
		{ID: bank, Ledger: euro, Code: 1},
		{ID: alice, Ledger: euro, Code: 2, Flags: DebitsMustNotExceedCredits | History},
		{ID: bob, Ledger: euro, Code: 2, Flags: DebitsMustNotExceedCredits | History},
		{ID: 4, Ledger: 20, Code: 1},
	}
}

func tr(id, dr, cr, amount uint64, flags TransferFlags) Transfer {
	return Transfer{ID: id, DebitAccountID: dr, CreditAccountID: cr, Amount: amount, Ledger: euro, Code: kindTx, Flags: flags}
}

func TestTwoPhase(t *testing.T) {
	l, _ := newTestLedger(t, wallets()...)
	require.Equal(t, []ResultCode{Ok}, codes(t, l, tr(1, bank, alice, 100, 0)))

	// Reserve 60 of alice's 100, then post 45 of it: 15 go back.
	require.Equal(t, []ResultCode{Ok}, codes(t, l, tr(2, alice, bob, 60, Pending)))
	a := balance(t, l, alice)
	require.Equal(t, uint64(60), a.DebitsPending)
	require.Equal(t, []ResultCode{ExceedsCredits}, codes(t, l, tr(3, alice, bob, 41, 0)), "only 40 are free")
	require.Equal(t, []ResultCode{Ok}, codes(t, l, Transfer{ID: 4, PendingID: 2, Amount: 45, Flags: PostPending}))
	a, b := balance(t, l, alice), balance(t, l, bob)
	require.Equal(t, Account{ID: alice, Ledger: euro, Code: 2, Flags: a.Flags, DebitsPosted: 45, CreditsPosted: 100, Timestamp: a.Timestamp}, a)
	require.Equal(t, uint64(45), b.CreditsPosted)
	require.Zero(t, b.CreditsPending)
	require.Equal(t, PendingPosted, l.PendingStatus(2))

	// The stored post inherited the pending transfer's fields.
	post, ok := l.Transfer(4)
	require.True(t, ok)
	require.Equal(t, uint64(alice), post.DebitAccountID)
	require.Equal(t, uint32(euro), post.Ledger)

	require.Equal(t, []ResultCode{PendingTransferAlreadyPosted}, codes(t, l, Transfer{ID: 5, PendingID: 2, Flags: VoidPending}))
	require.Equal(t, []ResultCode{Exists}, codes(t, l, Transfer{ID: 4, PendingID: 2, Amount: 45, Flags: PostPending}), "idempotent retry")
	require.Equal(t, []ResultCode{ExistsWithDifferentAmount}, codes(t, l, Transfer{ID: 4, PendingID: 2, Amount: 44, Flags: PostPending}))
}

func TestVoidAndExpiry(t *testing.T) {
	l, clk := newTestLedger(t, wallets()...)
	codes(t, l, tr(1, bank, alice, 100, 0))
	p := tr(2, alice, bob, 30, Pending)
	p.Timeout = time.Minute
	q := tr(3, alice, bob, 20, Pending)
	require.Equal(t, []ResultCode{Ok, Ok}, codes(t, l, p, q))
	require.Equal(t, []ResultCode{Ok}, codes(t, l, Transfer{ID: 4, PendingID: 3, Flags: VoidPending}))
	require.Equal(t, uint64(30), balance(t, l, alice).DebitsPending)

	stored, _ := l.Transfer(2)
	clk.now = time.Unix(0, stored.Timestamp).Add(time.Minute - time.Nanosecond)
	require.Equal(t, []ResultCode{Ok}, codes(t, l, tr(5, bank, alice, 1, 0)))
	require.Equal(t, uint64(30), balance(t, l, alice).DebitsPending, "not yet expired")
	clk.Advance(time.Nanosecond)
	require.Equal(t, []ResultCode{PendingTransferExpired}, codes(t, l, Transfer{ID: 6, PendingID: 2, Flags: PostPending}))
	require.Zero(t, balance(t, l, alice).DebitsPending)
	require.Zero(t, balance(t, l, bob).CreditsPending)
	require.Equal(t, PendingExpired, l.PendingStatus(2))
}

func TestLinkedChainIsAtomic(t *testing.T) {
	l, _ := newTestLedger(t, wallets()...)
	codes(t, l, tr(1, bank, alice, 10, 0))
	h := l.Hash()
	got := codes(t, l,
		tr(2, alice, bob, 10, Linked), // ok alone
		tr(3, bob, alice, 5, Linked),  // ok alone
		tr(4, alice, bob, 11, 0),      // fails: alice has 5 left
		tr(5, bank, bob, 1, 0),        // independent
	)
	require.Equal(t, []ResultCode{LinkedEventFailed, LinkedEventFailed, ExceedsCredits, Ok}, got)
	_, ok := l.Transfer(2)
	require.False(t, ok)
	require.Equal(t, uint64(10), balance(t, l, alice).CreditsPosted)
	require.Zero(t, balance(t, l, alice).DebitsPosted)
	require.NotEqual(t, h, l.Hash())

	require.Equal(t, []ResultCode{LinkedEventFailed, LinkedEventChainOpen},
		codes(t, l, tr(6, bank, bob, 1, Linked), tr(7, bank, bob, 1, Linked)))
	require.Equal(t, []ResultCode{Ok, Ok}, codes(t, l, tr(8, alice, bob, 10, Linked), tr(9, bob, alice, 10, 0)))
}

func TestBalancing(t *testing.T) {
	l, _ := newTestLedger(t, wallets()...)
	codes(t, l, tr(1, bank, alice, 70, 0), tr(2, alice, bob, 20, Pending))
	// Sweep everything alice can spend (50) to bob, whatever the requested maximum above that.
	require.Equal(t, []ResultCode{Ok}, codes(t, l, tr(3, alice, bob, 1000, BalancingDebit)))
	sweep, _ := l.Transfer(3)
	require.Equal(t, uint64(50), sweep.Amount)
	require.Equal(t, []ResultCode{ExceedsCredits}, codes(t, l, tr(4, alice, bob, 0, BalancingDebit)))
	require.Equal(t, []ResultCode{Exists}, codes(t, l, tr(3, alice, bob, 1000, BalancingDebit)))
	require.Equal(t, []ResultCode{ExistsWithDifferentAmount}, codes(t, l, tr(3, alice, bob, 49, BalancingDebit)))
}

func TestResultCodes(t *testing.T) {
	big := uint64(math.MaxUint64 - 5)
	tests := []struct {
		name  string
		setup []Transfer
		give  Transfer
		want  ResultCode
	}{
		{"ok", nil, tr(10, bank, bob, 1, 0), Ok},
		{"timestamp", nil, Transfer{ID: 10, DebitAccountID: bank, CreditAccountID: bob, Amount: 1, Ledger: euro, Code: 1, Timestamp: 1}, TimestampMustBeZero},
		{"reserved flag", nil, tr(10, bank, bob, 1, 1<<9), ReservedFlag},
		{"zero id", nil, tr(0, bank, bob, 1, 0), IDMustNotBeZero},
		{"pending and post", nil, tr(10, bank, bob, 1, Pending|PostPending), FlagsAreMutuallyExclusive},
		{"void and balancing", nil, tr(10, bank, bob, 1, VoidPending|BalancingDebit), FlagsAreMutuallyExclusive},
		{"same accounts", nil, tr(10, bob, bob, 1, 0), AccountsMustBeDifferent},
		{"zero amount", nil, tr(10, bank, bob, 0, 0), AmountMustNotBeZero},
		{"no debit account", nil, tr(10, 99, bob, 1, 0), DebitAccountNotFound},
		{"no credit account", nil, tr(10, bank, 99, 1, 0), CreditAccountNotFound},
		{"ledgers differ", nil, tr(10, bank, 4, 1, 0), AccountsMustHaveTheSameLedger},
		{"wrong ledger", nil, Transfer{ID: 10, DebitAccountID: bank, CreditAccountID: bob, Amount: 1, Ledger: 20, Code: 1}, TransferMustHaveTheSameLedgerAsAccounts},
		{"insufficient funds", nil, tr(10, alice, bob, 1, 0), ExceedsCredits},
		{"overflow", []Transfer{tr(1, bank, bob, big, 0)}, tr(10, bank, bob, 10, 0), OverflowsDebitsPosted},
		{"overflow pending+posted", []Transfer{tr(1, bank, bob, big, 0)}, tr(10, bank, bob, 10, Pending), OverflowsDebits},
		{"timeout without pending", nil, Transfer{ID: 10, DebitAccountID: bank, CreditAccountID: bob, Amount: 1, Ledger: euro, Code: 1, Timeout: 1}, TimeoutReservedForPendingTransfer},
		{"timeout overflow", nil, Transfer{ID: 10, DebitAccountID: bank, CreditAccountID: bob, Amount: 1, Ledger: euro, Code: 1, Flags: Pending, Timeout: math.MaxInt64}, OverflowsTimeout},
		{"id used", []Transfer{tr(10, bank, bob, 1, 0)}, tr(10, bank, bob, 2, 0), ExistsWithDifferentAmount},
		{"id failed", []Transfer{tr(10, alice, bob, 1, 0)}, tr(10, bank, bob, 1, 0), IDAlreadyFailed},
		{"post unknown", nil, Transfer{ID: 10, PendingID: 77, Flags: PostPending}, PendingTransferNotFound},
		{"post non-pending", []Transfer{tr(1, bank, bob, 5, 0)}, Transfer{ID: 10, PendingID: 1, Flags: PostPending}, PendingTransferNotPending},
		{"post too much", []Transfer{tr(1, bank, bob, 5, Pending)}, Transfer{ID: 10, PendingID: 1, Amount: 6, Flags: PostPending}, ExceedsPendingTransferAmount},
		{"partial void", []Transfer{tr(1, bank, bob, 5, Pending)}, Transfer{ID: 10, PendingID: 1, Amount: 4, Flags: VoidPending}, PendingTransferHasDifferentAmount},
		{"post other account", []Transfer{tr(1, bank, bob, 5, Pending)}, Transfer{ID: 10, PendingID: 1, DebitAccountID: alice, Flags: PostPending}, PendingTransferHasDifferentDebitAccountID},
		{"post itself", nil, Transfer{ID: 10, PendingID: 10, Flags: PostPending}, PendingIDMustBeDifferent},
		{"post nothing", nil, Transfer{ID: 10, Flags: PostPending}, PendingIDMustNotBeZero},
		{"voided twice", []Transfer{tr(1, bank, bob, 5, Pending), {ID: 2, PendingID: 1, Flags: VoidPending}}, Transfer{ID: 10, PendingID: 1, Flags: VoidPending}, PendingTransferAlreadyVoided},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, _ := newTestLedger(t, wallets()...)
			for _, s := range tc.setup {
				codes(t, l, s)
			}
			before := snapshot(l)
			got := codes(t, l, tc.give)
			require.Equal(t, []ResultCode{tc.want}, got)
			if tc.want != Ok {
				require.Equal(t, before, snapshot(l), "a failure changes no balance and stores nothing")
			}
		})
	}
}

// snapshot returns every account and the number of transfers.
func snapshot(l *Ledger) any {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return []any{append([]Account(nil), l.accounts...), l.transfers.len()}
}

func TestAccountCodes(t *testing.T) {
	l, _ := newTestLedger(t, wallets()...)
	res, err := l.CreateAccounts([]Account{
		{ID: bank, Ledger: euro, Code: 1},
		{ID: bank, Ledger: euro, Code: 2},
		{ID: 50, Ledger: euro, Code: 1, CreditsPosted: 1},
		{ID: 51, Ledger: euro, Code: 1, Flags: DebitsMustNotExceedCredits | CreditsMustNotExceedDebits},
		{ID: 52, Ledger: euro, Code: 1, Flags: AccountLinked},
		{ID: 53, Ledger: 0, Code: 1},
		{ID: 54, Ledger: euro, Code: 1},
	})
	require.NoError(t, err)
	want := []ResultCode{Exists, ExistsWithDifferentCode, CreditsPostedMustBeZero, FlagsAreMutuallyExclusive, LinkedEventFailed, LedgerMustNotBeZero, Ok}
	for i, r := range res {
		require.Equal(t, want[i], r.Code, "item %d", i)
	}
	_, ok := l.Account(52)
	require.False(t, ok)
}

func TestHistory(t *testing.T) {
	l, clk := newTestLedger(t, wallets()...)
	var stamps []int64
	for i := uint64(1); i <= 5; i++ {
		clk.Advance(time.Second)
		codes(t, l, tr(i, bank, alice, i, 0))
		got, _ := l.Transfer(i)
		stamps = append(stamps, got.Timestamp)
	}
	h := l.History(alice, stamps[1], stamps[3], nil)
	require.Len(t, h, 3)
	require.Equal(t, uint64(2), h[0].ID)
	require.Equal(t, uint64(4), h[2].ID)
	require.Empty(t, l.History(bank, math.MinInt64, math.MaxInt64, nil), "bank has no History flag")
}

func TestTimestampsIncrease(t *testing.T) {
	l, clk := newTestLedger(t, wallets()...)
	codes(t, l, tr(1, bank, bob, 1, 0), tr(2, bank, bob, 1, 0))
	clk.Advance(-time.Hour) // the clock steps back; stamps must not
	codes(t, l, tr(3, bank, bob, 1, 0))
	var last int64
	for id := uint64(1); id <= 3; id++ {
		x, _ := l.Transfer(id)
		require.Greater(t, x.Timestamp, last)
		last = x.Timestamp
	}
}

func TestClosed(t *testing.T) {
	l, _ := newTestLedger(t, wallets()...)
	require.NoError(t, l.Close())
	require.NoError(t, l.Close())
	_, err := l.CreateTransfers([]Transfer{tr(1, bank, bob, 1, 0)})
	require.ErrorIs(t, err, ErrClosed)
	_, err = l.CreateAccounts(nil)
	require.ErrorIs(t, err, ErrClosed)
}

func TestEmptyBatch(t *testing.T) {
	l, _ := newTestLedger(t)
	res, err := l.CreateTransfers(nil)
	require.NoError(t, err)
	require.Empty(t, res)
}

func newRand(t testing.TB) *rand.Rand {
	s := testseed.Seed(t)
	return rand.New(rand.NewPCG(s, s>>1))
}

// TestTable checks the open-addressing table against a map under inserts and deletes that
// collide (deletion's backward shift is the delicate part), for random small keys and for keys
// that share their low bits, which all start at the first slot of their run.
func TestTable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stride uint64
	}{{"dense", 1}, {"stride16", 16}, {"stride1M", 1 << 20}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRand(t)
			var tb table
			m := map[uint64]uint32{}
			for i := range 20000 {
				k := (1 + r.Uint64N(3000)) * tc.stride
				if _, ok := m[k]; ok && r.IntN(2) == 0 {
					tb.del(k)
					delete(m, k)
				} else if !ok {
					tb.put(k, uint32(i))
					m[k] = uint32(i)
				}
				if i%499 == 0 {
					for k := uint64(1); k <= 3000; k++ {
						v, ok := tb.get(k * tc.stride)
						mv, mok := m[k*tc.stride]
						require.Equal(t, mok, ok, "key %d", k*tc.stride)
						require.Equal(t, mv, v)
					}
				}
			}
			require.Equal(t, len(m), tb.count)
			require.LessOrEqual(t, 2*tb.count, len(tb.slots), "load above 1/2")
		})
	}
}

func TestBatchTooLarge(t *testing.T) {
	l, _ := newTestLedger(t, wallets()...)
	_, err := l.CreateTransfers(make([]Transfer, MaxBatch+1))
	require.ErrorIs(t, err, ErrBatchTooLarge)
	_, err = l.CreateAccounts(make([]Account, MaxBatch+1))
	require.ErrorIs(t, err, ErrBatchTooLarge)
	_, n := l.Len()
	require.Zero(t, n)
}
