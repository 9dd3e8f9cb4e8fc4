// Package sequencer stamps inbound (or outbound) commands with a gap-free
// global sequence number, persists them in a write-ahead journal, hands them
// to a single-threaded business loop, and replays the same sequence after a
// crash so that the loop reaches exactly the same state.
//
// # What it is
//
// Two layers:
//
//   - Ring: a bounded, pre-allocated ring buffer in the style of the LMAX
//     Disruptor. Producers claim slots, fill them in place and publish them
//     (one producer, or many claiming by atomic add); consumers read published
//     slots in order, in batches, and may depend on other consumers, forming a
//     pipeline. Busy-spin, yield and block wait strategies.
//   - Sequencer: on a *wal.Log. Submit(source, sourceSeq, payload) gives the
//     command the next sequence, writes it to the journal (many concurrent
//     submits share one write and, under wal.SyncAlways, one fsync: group
//     commit) and only then publishes it to a Ring read by Run, the
//     single-threaded loop. SubmitBatch(source, firstSourceSeq, payloads,
//     dst) does the same for consecutive commands of one source in one call
//     and one journal frame: the high-throughput path. Replay re-feeds
//     journaled events with their original numbers, times and payloads.
//
// Guarantees:
//
//   - Persist, then publish: an event reaches Run only after the journal holds
//     it under the journal's sync policy; Submit returns after the same point.
//   - Gap-free and ordered: sequences are 1, 2, 3, … in journal order, and Run
//     and Replay deliver them in that order, once each. Event n is journal
//     record n-1, which Open and Replay check.
//   - Exactly once per (Source, SourceSeq): each source numbers its commands
//     1, 2, 3, …; a resend is answered with ErrDuplicate (and the original
//     sequence when it is the source's latest) instead of being sequenced
//     again, also after a restart, because Open rebuilds the per-source state
//     from the journal. A number that skips ahead is ErrOutOfOrder unless
//     Options.AllowGaps.
//   - Batches are atomic: the new events of one SubmitBatch share one journal
//     frame, so after a crash they are all there or none is; a retried batch
//     skips the events sequenced before (ErrDuplicate) and sequences the rest.
//   - Fail-stop: a journal write error or a handler error stops the sequencer
//     for good (ErrStopped); nothing acknowledged is lost, and a restart with
//     Replay resumes from the journal.
//
// Event.Time is stamped by the sequencer (Options.Clock, once per journal
// write, never decreasing), so a replay sees the same times as the live run:
// business logic that needs a clock should read Event.Time, never time.Now.
//
// # Where it comes from
//
// The stock-exchange design ("Sequencer", "From Distributed to Single-Server
// Architecture", "Application Loops") and the wallet chapter's event
// sourcing: the sequencer is "the heart of the system" that makes the
// matching engine deterministic and recoverable, and the application loop is
// a single thread, optionally pinned to a CPU, that needs no locks. The ring
// follows the LMAX Disruptor (single-writer principle, padded cursors,
// pre-allocated slots, batching consumers).
//
// # Journal format
//
// One journal record per event: a version byte (1), Seq, Source and SourceSeq
// as minimal uvarints, Time as 8 bytes little-endian, then the payload (see
// AppendEvent and DecodeEvent; FuzzDecodeEvent checks the decoder). The wal
// frames and checksums each record (CRC-32C), and a group-commit batch is one
// wal frame, so a crash keeps a batch whole or drops it whole.
//
// # Complexity
//
// Ring: Claim, Publish, Wait and Release are O(1) with no lock and no
// allocation (Publish and Wait are O(batch) with many producers). Sequencer:
// Submit is O(len(payload)) plus a share of one journal write, SubmitBatch
// O(total payload bytes) plus one dedupe lookup; Run is O(1) per event; Replay reads the journal sequentially with no allocation per
// event; Open reads the whole journal once (O(journal)). Memory: RingSize
// slots and one dedupe entry per source.
//
// # Concurrency
//
// Sequencer: Submit, LastSeq, Replay and Close are safe for concurrent use;
// one Run at a time, calling its handler from a single goroutine. Ring: the
// producer side is single-goroutine unless WithMultiProducer; each Consumer
// belongs to one goroutine. The sequencer has no goroutine of its own: the
// group commit is led by one of the waiting Submit calls at a time (the first
// to arrive writes the journal for everything queued behind it, then hands
// over), and Run's loop runs on the caller's goroutine.
//
// CPU pinning: Options.LockThread runs Run's loop on a goroutine locked to its
// own OS thread (runtime.LockOSThread); Options.Affinity also binds that
// thread to the given CPUs with sched_setaffinity(2) on Linux (elsewhere Run
// fails with ErrAffinity wrapping errors.ErrUnsupported; the package takes no
// dependency such as golang.org/x/sys for it). The thread is discarded when
// Run returns, so its affinity never leaks to other goroutines. For a pinned
// loop to pay off, give it a core: GOMAXPROCS above the number of busy
// goroutines, and the Yield or BusySpin wait strategy.
//
// # Caveats
//
//   - The sequencer must be its journal's only writer, and Close leaves the
//     journal open (the caller closes it after the sequencer).
//   - Events already in the journal at Open are delivered only by Replay; Run
//     delivers the events submitted through this Sequencer. Recover with
//     Replay(1, h) (or from a snapshot's sequence) before submitting.
//   - The dedupe state covers what the journal holds: after the journal's
//     front is truncated (retention), a source whose events were all dropped
//     starts over at 1 unless Options.AllowGaps.
//   - Submit waits while Run lags RingSize events behind, so a handler must
//     not Submit to its own sequencer; and Close may leave journaled events
//     undelivered to Run (Replay has them).
//   - Throughput: Submit and SubmitBatch are synchronous and one journal
//     write is in flight at a time, so with SyncAlways a journal write (and
//     fsync) carries what the producers queued during the previous one. With
//     Submit that is at most one event per producer per fsync (64 producers,
//     1-3 ms fsyncs: tens of thousands of events/s); with SubmitBatch it is
//     the producers' batches, up to Options.MaxBatch events per write
//     (64 producers of 16-event batches: several hundred thousand events/s
//     on the same disk). Batch wherever the source has commands waiting.
//     Without fsyncs (wal.SyncNever) the journal's write(2) into the page
//     cache is the floor: BenchmarkJournalFloor measures it.
//   - BusySpin and Yield keep a core busy while idle; on an oversubscribed
//     machine Block (the default) is faster as well as cheaper.
package sequencer
