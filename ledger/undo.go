package ledger

// undoKind says how to revert one change made inside a linked chain.
type undoKind uint8

const (
	undoAccount undoKind = iota // restore accounts[idx] to acct
	undoState                   // restore transfers[idx].state to state
	undoHistory                 // drop the last entry of history[idx]
)

type undoEntry struct {
	kind  undoKind
	state transferState
	idx   uint32
	acct  Account
}

// chainMark is where a linked chain started; created accounts and transfers are undone by
// truncating back to it.
type chainMark struct {
	accounts, transfers int
}

func (l *Ledger) beginChain() {
	l.undo = l.undo[:0]
	l.mark = chainMark{accounts: len(l.accounts), transfers: l.transfers.len()}
}

func (l *Ledger) endChain() { l.undo = l.undo[:0] }

// saveAccount records accounts[i] before a chain member changes it.
func (l *Ledger) saveAccount(i uint32) {
	l.undo = append(l.undo, undoEntry{kind: undoAccount, idx: i, acct: l.accounts[i]})
}

// rollbackChain reverts every change since beginChain, newest first. IDs marked failed stay
// failed: the failure was reported and the ID is used up whatever happened to the chain.
func (l *Ledger) rollbackChain() {
	for i := len(l.undo) - 1; i >= 0; i-- {
		u := &l.undo[i]
		switch u.kind {
		case undoAccount:
			l.accounts[u.idx] = u.acct
		case undoState:
			l.transfers.at(u.idx).state = u.state
		case undoHistory:
			l.history[u.idx] = l.history[u.idx][:len(l.history[u.idx])-1]
		}
	}
	l.undo = l.undo[:0]
	for i := l.transfers.len() - 1; i >= l.mark.transfers; i-- {
		l.transferAt.del(l.transfers.at(uint32(i)).ID)
	}
	l.transfers.truncate(l.mark.transfers)
	for i := len(l.accounts) - 1; i >= l.mark.accounts; i-- {
		l.accountAt.del(l.accounts[i].ID)
	}
	l.accounts = l.accounts[:l.mark.accounts]
	l.history = l.history[:l.mark.accounts]
}
