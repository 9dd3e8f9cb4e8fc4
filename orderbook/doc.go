// Package orderbook is a limit order book and price-time priority matching
// engine for one instrument (Book), with a multi-instrument router
// (Engine), synchronous market data (Listener) and binary snapshots.
//
// # What it does
//
// Book.Submit takes Limit and Market orders with GTC, IOC or FOK time in
// force, optional PostOnly, and matches them against resting orders: best
// price first, oldest first within a price, at the resting order's price.
// Cancel and Amend change resting orders (Amend keeps time priority only
// for a quantity decrease at the same price). Self-trade prevention by
// Owner (Config.STP) can cancel the resting order, the incoming one or
// both. Prices are integer ticks and quantities integer lots; there are no
// floats. Every rejected call (ErrInvalidOrder, ErrDuplicateID,
// ErrUnknownOrder, ErrWouldCross) leaves the book exactly as it was.
//
// # Where it comes from
//
// The stock-exchange design in the design documents ("Order Book Overview",
// "Matching Engine", "Step 3: Design Deep Dive"): price levels holding a
// doubly-linked list of orders (add at the tail, match from the head,
// cancel through a map from order id), best bid and ask tracked, and a
// deterministic engine fed by a sequencer. The 2,700-share market buy of
// the documents is TestSeedExample.
//
// # Structure and complexity
//
//   - Orders live in a slab ([]order, addressed by int32) with a free list,
//     linked into their level's FIFO through prev/next indexes; an
//     open-addressing hash table (linear probing, backward-shift delete)
//     maps ids to slots.
//   - Each side indexes its levels in a ladder: a window of Config.Window
//     ticks (default 4096) addressed directly, ordered by a three-level
//     64-ary bitmap, so adding or removing a level and finding the next
//     best one are O(1); levels outside the window go to a B-tree
//     (google/btree, O(log n)). The window re-centres on the next new level
//     whenever it holds none. A flat array over the whole price domain
//     would thrash the cache; a B-tree alone costs about 4.5x more CPU on the
//     exchange-core mix (BenchmarkMix, index=tree).
//   - Submit of a resting order, Cancel and Amend are O(1) in the window;
//     matching is O(1) per order and per level traded with; BestBid and
//     BestAsk are O(1); Depth and Walk cost what they return. In steady
//     state nothing allocates (TestZeroAllocs): trades are appended to the
//     caller's dst slice.
//
// # Concurrency
//
// Book and Engine are single-writer: drive each from one goroutine (the
// sequencer's output). That, together with the absence of clocks,
// randomness and map iteration in the engine, makes it deterministic: the
// same commands give the same trades and the same Hash, which replicas can
// compare. Listener methods run synchronously inside the mutating call.
//
// # Snapshots
//
// Book.Snapshot writes a versioned, CRC-32C-checked binary image (the
// format is drawn in snapshot.go); Restore rebuilds a book with the same
// Hash that behaves identically. Engine.Snapshot and RestoreEngine do the
// same for every symbol. Restore treats its input as untrusted.
//
// # Caveats
//
//   - Market data reports trades and L2 level totals. A resting order
//     canceled by self-trade prevention shows only as a level change;
//     Order(id) tells whether it is still there.
//   - Prices far outside the window cost O(log levels) until the window
//     re-centres, which happens only when the window is empty on that side.
//   - A resting level's total quantity must fit in an int64: an order that
//     would overflow it is ErrInvalidOrder.
//   - Stop and iceberg orders are not implemented.
package orderbook
