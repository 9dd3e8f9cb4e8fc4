// Package ledger is a double-entry ledger of accounts and transfers, modelled on TigerBeetle:
// every movement of money debits one account and credits another, so that the sum of all
// debits always equals the sum of all credits; two-phase transfers reserve funds and later post
// or void them; batches are journaled to a write-ahead log and replayed on restart.
//
// # What
//
// An [Account] holds four balances in one ledger (currency or asset): DebitsPending,
// DebitsPosted, CreditsPending, CreditsPosted, in integer minor units. A [Transfer] moves an
// amount between two accounts of the same ledger. [Ledger.CreateAccounts] and
// [Ledger.CreateTransfers] take batches and return one [Result] per item: a [ResultCode] such
// as [Ok], [Exists] (the idempotent retry of the same ID), [ExceedsCredits] or
// [PendingTransferExpired]; the order of the constants is the order of precedence. Items are
// independent unless flagged [Linked], which makes a chain all-or-nothing.
//
// Two-phase transfers: a [Pending] transfer moves the amount into the pending balances, where it
// counts against the accounts' limits but is not yet posted; a [PostPending] transfer posts all
// or part of it (the rest is released), a [VoidPending] transfer releases it, and a Timeout
// releases it automatically once the ledger's clock passes Timestamp+Timeout. Balancing
// transfers ([BalancingDebit], [BalancingCredit]) move at most what an account can still give
// or take. Accounts with [DebitsMustNotExceedCredits] (a wallet that cannot go negative) or
// [CreditsMustNotExceedDebits] are never driven past their limit, pending amounts included.
// Accounts with the [History] flag keep their transfers indexed by time ([Ledger.History]).
//
// [Reconcile] compares the ledger's transfers with a settlement file (CSV) from a payment
// provider; [FormatAmount] and [ParseAmount] convert minor units to and from decimal text with a
// scale, without floating point.
//
// # Where it comes from
//
// The design documents' payment system (Volume 2, chapter 11: double-entry ledger, idempotency
// keys, nightly reconciliation against PSP settlement files) and digital wallet (chapter 12:
// event sourcing — state is a deterministic function of the replayed event log), and the
// exchange's order manager, which withholds funds for open orders (chapter 13). The account and
// transfer model, result codes and their precedence, linked events, two-phase transfers,
// balancing transfers and pending timeouts follow TigerBeetle's documented semantics, with
// 64-bit IDs and amounts instead of 128-bit ones. Deviations: a post with Amount zero posts the
// whole pending amount and a balancing transfer with Amount zero has no upper limit (TigerBeetle
// before 0.16); expiry happens at batch granularity (see Caveats).
//
// # Durability
//
// [New] returns an in-memory ledger. [Open] binds a ledger to a [github.com/sysblocks/sysblocks/wal.Log]: it replays every
// record, then appends each batch as one record (version byte, the batch's first timestamp,
// then the items as submitted, zero fields omitted) before returning its results. Timestamps
// come from the ledger's clock and are part of the record, so replay re-derives exactly the
// same results, failures and used-up IDs included, and the same [Ledger.Hash]. Concurrent
// callers apply their batches one after another under a mutex and then share one AppendBatch
// of the journal — and, with wal.SyncAlways, one fsync (group commit).
//
// # Complexity
//
// CreateTransfers is O(1) expected per transfer (open-addressing hash tables keyed by ID,
// chunked append-only storage) plus O(log p) per pending transfer with a timeout; with a
// reused result slice ([Ledger.CreateTransfersInto]) it does not allocate in steady state.
// Account, Transfer and PendingStatus are O(1); History is O(log h + k); Hash is O(n). Memory is
// at most about 150 bytes per transfer: 88 bytes stored plus 32-64 bytes of ID table (it is
// kept between 1/4 and 1/2 full, which keeps lookups of new IDs short). When
// the ID table doubles, the batch that crosses the threshold rehashes it (a latency spike of
// O(transfers) once per doubling).
//
// # Concurrency
//
// A [Ledger] is safe for concurrent use. Writes are serialised; reads take a shared lock and may
// observe a batch whose journal write is still in flight (its caller learns the result only
// once it is durable). After a journal failure every write returns [ErrJournal]: reopen the
// ledger to learn which batches were made durable.
//
// # Caveats
//
//   - Pending transfers expire when a batch is applied whose timestamp is at or past their
//     deadline, before the batch's items; between batches, reads show expired reservations as
//     still pending. A post in the batch that crosses the deadline gets PendingTransferExpired.
//   - The journal is the only copy: there are no snapshots, so the journal must keep every
//     record (no TruncateFront, no retention) and replay time grows with history.
//   - IDs, amounts and balances are uint64; a ledger holds at most 2^32-1 accounts and
//     2^32-1 transfers.
//   - A pending transfer resolves once. To fill an order in parts, post the part and reserve the
//     remainder with a new pending transfer in one linked chain (see the partialFill example).
//   - Exists counts as a failure inside a linked chain (as in TigerBeetle): retry a chain only
//     as a whole, and treat Exists on its first item as "already applied".
package ledger
