package exchange

import (
	"fmt"

	"github.com/sysblocks/sysblocks/ledger"
	"github.com/sysblocks/sysblocks/orderbook"
)

// Check verifies the invariants that tie the order manager, the books and
// the ledger together, and returns the first one broken (ErrInvariant):
//
//   - per asset, the sum of all balances is zero: Σ debits = Σ credits,
//     posted and pending (double entry);
//   - the issuer has issued exactly the genesis supply and escrow holds no
//     posted balance between commands (every fill paid out in full);
//   - escrow's pending credits per asset equal the open orders' reservations,
//     each of which is a pending transfer still reserved, for exactly the
//     open quantity (times the limit price for a buy);
//   - every open order rests on its book with the same open quantity, and
//     the books hold nothing else and are not crossed.
//
// Cost: O(accounts × assets + open orders). Single-writer, like Apply.
func (s *State) Check() error {
	assets := 1 + len(s.books)
	reserved := make([]uint64, assets)
	perBook := make([]int, len(s.books))
	for _, o := range s.orders {
		open := o.qty - o.filled
		asset, want := 1+int(o.sym), uint64(open)
		if o.side == orderbook.Buy {
			asset, want = 0, uint64(open*o.price)
		}
		if o.resAmt != want {
			return fmt.Errorf("%w: order %d withholds %d, open quantity needs %d", ErrInvariant, o.id, o.resAmt, want)
		}
		if st := s.led.PendingStatus(o.resID); st != ledger.PendingReserved {
			return fmt.Errorf("%w: order %d reservation %d is %v", ErrInvariant, o.id, o.resID, st)
		}
		if t, ok := s.led.Transfer(o.resID); !ok || t.Amount != want {
			return fmt.Errorf("%w: order %d reservation transfer %+v", ErrInvariant, o.id, t)
		}
		reserved[asset] += want
		bo, rem, ok := s.books[o.sym].Order(o.id)
		if !ok || rem != open || bo.Side != o.side || bo.Price != o.price {
			return fmt.Errorf("%w: order %d open %d, book has %d (present %v)", ErrInvariant, o.id, open, rem, ok)
		}
		perBook[o.sym]++
	}
	for i, b := range s.books {
		if b.Len() != perBook[i] {
			return fmt.Errorf("%w: %s book holds %d orders, order manager %d", ErrInvariant, s.cfg.Symbols[i].Name, b.Len(), perBook[i])
		}
		bid, _, okb := b.BestBid()
		ask, _, oka := b.BestAsk()
		if okb && oka && bid >= ask {
			return fmt.Errorf("%w: %s crossed: bid %d >= ask %d", ErrInvariant, s.cfg.Symbols[i].Name, bid, ask)
		}
	}
	for a := 0; a < assets; a++ {
		var dPost, cPost, dPend, cPend uint64
		add := func(id uint64) (ledger.Account, error) {
			acc, ok := s.led.Account(id)
			if !ok {
				return acc, fmt.Errorf("%w: account %d missing", ErrInvariant, id)
			}
			dPost += acc.DebitsPosted
			cPost += acc.CreditsPosted
			dPend += acc.DebitsPending
			cPend += acc.CreditsPending
			return acc, nil
		}
		issuer, err := add(accountID(issuerOwner, a))
		if err != nil {
			return err
		}
		escrow, err := add(accountID(escrowOwner, a))
		if err != nil {
			return err
		}
		for t := 1; t <= s.cfg.Accounts; t++ {
			if _, err := add(accountID(uint64(t), a)); err != nil {
				return err
			}
		}
		supply := uint64(s.cfg.InitialShares)
		if a == 0 {
			supply = uint64(s.cfg.InitialCash)
		}
		switch {
		case dPost != cPost || dPend != cPend:
			return fmt.Errorf("%w: asset %d: balances sum to posted %d-%d, pending %d-%d", ErrInvariant, a, dPost, cPost, dPend, cPend)
		case issuer.DebitsPosted != supply*uint64(s.cfg.Accounts) || issuer.CreditsPosted != 0:
			return fmt.Errorf("%w: asset %d: issuer %+v", ErrInvariant, a, issuer)
		case escrow.CreditsPosted != escrow.DebitsPosted:
			return fmt.Errorf("%w: asset %d: escrow keeps %d posted", ErrInvariant, a, escrow.CreditsPosted-escrow.DebitsPosted)
		case escrow.CreditsPending != reserved[a]:
			return fmt.Errorf("%w: asset %d: escrow reserves %d, open orders %d", ErrInvariant, a, escrow.CreditsPending, reserved[a])
		}
	}
	return nil
}

// Balances returns an account's cash (cents) and shares of symbol i, posted
// and withheld by open orders. Safe for concurrent use.
func (s *State) Balances(acct uint64, sym int) (cash, cashHeld, shares, sharesHeld int64) {
	c, _ := s.led.Account(accountID(acct, 0))
	sh, _ := s.led.Account(accountID(acct, 1+sym))
	return int64(c.CreditsPosted - c.DebitsPosted), int64(c.DebitsPending),
		int64(sh.CreditsPosted - sh.DebitsPosted), int64(sh.DebitsPending)
}
