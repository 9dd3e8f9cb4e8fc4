package ledger_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/sysblocks/sysblocks/ledger"
	"github.com/sysblocks/sysblocks/wal"
)

// A two-phase card payment: reserve 25.00 of the buyer's 100.00, capture 20.00 of it (the rest
// is released), then reconcile against the payment provider's settlement file.
func Example() {
	l := ledger.New(ledger.Options{})
	_, _ = l.CreateAccounts([]ledger.Account{
		{ID: 1, Ledger: 840, Code: 1},                                           // cash
		{ID: 2, Ledger: 840, Code: 2, Flags: ledger.DebitsMustNotExceedCredits}, // buyer
		{ID: 3, Ledger: 840, Code: 3},                                           // merchant
	})
	res, _ := l.CreateTransfers([]ledger.Transfer{
		{ID: 10, DebitAccountID: 1, CreditAccountID: 2, Amount: 100_00, Ledger: 840, Code: 1},
		{ID: 11, DebitAccountID: 2, CreditAccountID: 3, Amount: 25_00, Ledger: 840, Code: 2, Flags: ledger.Pending},
		{ID: 12, PendingID: 11, Amount: 20_00, Flags: ledger.PostPending},
	})
	buyer, _ := l.Account(2)
	fmt.Println(res[2].Code, ledger.FormatAmount(buyer.DebitsPosted, 2), buyer.DebitsPending)

	capture, _ := l.Transfer(12)
	settlement := strings.NewReader("12,2000,840,posted\n13,500,840,posted\n")
	rep, err := ledger.Reconcile([]ledger.Transfer{capture}, settlement)
	fmt.Println(rep.Matched, len(rep.MissingInLedger), err)
	// Output:
	// Ok 20.00 0
	// [12] 1 <nil>
}

func ExampleFormatAmount() {
	fmt.Println(ledger.FormatAmount(12345, 2), ledger.FormatAmount(5, 3), ledger.FormatAmount(7, 0))
	v, err := ledger.ParseAmount("19.9", 2)
	fmt.Println(v, err)
	_, err = ledger.ParseAmount("0.125", 2)
	fmt.Println(err)
	// Output:
	// 123.45 0.005 7
	// 1990 <nil>
	// ledger: invalid amount: "0.125": more than 2 fraction digits
}

// Retrying a batch is safe: the same IDs with the same fields come back as Exists.
func ExampleLedger_CreateTransfers_idempotent() {
	l := ledger.New(ledger.Options{})
	_, _ = l.CreateAccounts([]ledger.Account{{ID: 1, Ledger: 1, Code: 1}, {ID: 2, Ledger: 1, Code: 1}})
	batch := []ledger.Transfer{{ID: 7, DebitAccountID: 1, CreditAccountID: 2, Amount: 5, Ledger: 1, Code: 1}}
	first, _ := l.CreateTransfers(batch)
	retry, _ := l.CreateTransfers(batch)
	batch[0].Amount = 6
	clash, _ := l.CreateTransfers(batch)
	fmt.Println(first[0].Code, retry[0].Code, clash[0].Code)
	// Output: Ok Exists ExistsWithDifferentAmount
}

// A durable ledger: every batch is in the journal before CreateTransfers returns, and reopening
// replays it to the same state.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "ledger-example")
	defer os.RemoveAll(dir)

	w, _ := wal.Open(dir, wal.Options{Sync: wal.SyncAlways})
	l, _ := ledger.Open(w, ledger.Options{})
	_, _ = l.CreateAccounts([]ledger.Account{{ID: 1, Ledger: 1, Code: 1}, {ID: 2, Ledger: 1, Code: 1}})
	_, _ = l.CreateTransfers([]ledger.Transfer{{ID: 9, DebitAccountID: 1, CreditAccountID: 2, Amount: 42, Ledger: 1, Code: 1}})
	before := l.Hash()
	_ = l.Close()
	_ = w.Close()

	w, _ = wal.Open(dir, wal.Options{Sync: wal.SyncAlways})
	defer w.Close()
	l, _ = ledger.Open(w, ledger.Options{})
	a, _ := l.Account(2)
	fmt.Println(a.CreditsPosted, l.Hash() == before)
	// Output: 42 true
}

// An exchange withholds a buyer's funds for an open order with a pending transfer. A partial
// fill posts part of it and re-reserves the rest in one linked chain (a pending transfer
// resolves only once); a cancel voids what is left.
func ExampleLedger_CreateTransfers_partialFill() {
	l := ledger.New(ledger.Options{})
	_, _ = l.CreateAccounts([]ledger.Account{
		{ID: 1, Ledger: 1, Code: 1},
		{ID: 2, Ledger: 1, Code: 2, Flags: ledger.DebitsMustNotExceedCredits}, // buyer
		{ID: 3, Ledger: 1, Code: 3}, // exchange
	})
	_, _ = l.CreateTransfers([]ledger.Transfer{
		{ID: 1, DebitAccountID: 1, CreditAccountID: 2, Amount: 1000, Ledger: 1, Code: 1},
		{ID: 2, DebitAccountID: 2, CreditAccountID: 3, Amount: 600, Ledger: 1, Code: 9, Flags: ledger.Pending}, // order
	})
	fill, _ := l.CreateTransfers([]ledger.Transfer{
		{ID: 3, PendingID: 2, Amount: 250, Flags: ledger.PostPending | ledger.Linked},
		{ID: 4, DebitAccountID: 2, CreditAccountID: 3, Amount: 350, Ledger: 1, Code: 9, Flags: ledger.Pending},
	})
	cancel, _ := l.CreateTransfers([]ledger.Transfer{{ID: 5, PendingID: 4, Flags: ledger.VoidPending}})
	buyer, _ := l.Account(2)
	fmt.Println(fill[0].Code, fill[1].Code, cancel[0].Code, buyer.DebitsPosted, buyer.DebitsPending)
	// Output: Ok Ok Ok 250 0
}
