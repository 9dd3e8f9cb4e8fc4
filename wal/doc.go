// Package wal is a segmented write-ahead log with group commit, retention
// and crash recovery.
//
// # What
//
// A Log stores records (byte slices) under contiguous uint64 offsets in a
// directory of segment files. Records are appended one at a time (Append)
// or as an atomic batch (AppendBatch), read by offset (Read), streamed
// (NewReader, Reader.Next, Reader.Wait for long polling), found by time
// (OffsetAt), and dropped from either end (TruncateFront, TruncateBack) or by
// retention (Options.RetentionSize, Options.RetentionAge).
//
// # Where it comes from
//
// It is the storage engine of the message-queue design in the design
// documents ("Data Storage Options", "Append-Only Log and Segmenting",
// "Message Data Structure", "Batching"): an append-only log split into
// segments named by base offset, each with a sparse offset index and a time
// index (Kafka-style), and the journal under the sequencer and the ledger.
//
// # Guarantees
//
// It never returns a corrupt record: every frame carries a CRC-32C over its
// header and data, checked on every read. It never loses an acknowledged
// record: under SyncAlways, Append returns only after fsync, and new or
// removed segment files are followed by a directory fsync. A batch is one
// frame, so it survives a crash whole or not at all. On Open a torn tail of
// the last segment (a partial frame, or garbage or zeros after the last whole
// frame) is cut off; damage before it fails with ErrCorrupt naming the
// segment and offset unless Options.Repair asks to cut the log there. The
// on-disk format is described in FORMAT.md.
//
// # Complexity
//
// Append: one write(2) to the page cache, no allocation in steady state;
// under SyncAlways one fsync shared by all appenders that arrive while the
// previous fsync runs; under SyncNever and SyncInterval the kernel is asked
// (sync_file_range on Linux) to start writing back each MiB written, so the
// fsync that seals a segment does not wait for all of it. Read: a binary
// search over segments, then O(1) through the segment's dense position table
// to the frame holding the record, whose CRC is verified (a batch frame is
// verified whole), read from a read-only memory mapping (on unix; pread
// otherwise). Reader: sequential preads of 256 KiB, zero-copy records
// (Record.Data is valid until the next Next). OffsetAt: binary searches plus
// a scan of about IndexEvery bytes. Open: reads the last segment and any
// sealed segment whose index files are missing or damaged, and walks the
// frame headers of the others to rebuild their dense tables.
//
// # Memory
//
// Each segment keeps an in-memory dense position table: 4 bytes per record
// (the file position of the frame holding it), built as records are
// appended or recovered and never written to disk; 1M records cost 4 MB.
// The on-disk index stays sparse.
//
// # Concurrency
//
// A Log is safe for concurrent use. Writers serialise on a mutex for the
// write(2) only; fsyncs are shared (group commit). Readers run concurrently
// with the writer and see a record once it is acknowledged (after its fsync
// under SyncAlways). A Reader is for one goroutine; use one per consumer.
// Close waits for in-flight appends; afterwards every call returns ErrClosed.
//
// # Caveats
//
//   - Record.Time is the append time from Options.Clock, made
//     non-decreasing: if the clock steps back the previous time is reused,
//     so OffsetAt can binary-search.
//   - Sealed segments are fsynced when sealed and are not re-read on Open
//     while their index files are intact; damage inside them is reported as
//     ErrCorrupt by Read and Reader.Next rather than by Open.
//   - Damage followed by a valid frame in the last segment is treated as
//     mid-log corruption even when a power failure could have caused it
//     (unsynced pages written out of order); use Options.Repair to cut there.
//   - Only one Log may use a directory at a time; this is not enforced.
//     Sealed segments are memory-mapped: another process truncating them
//     would crash this one (SIGBUS). The Log itself never truncates a mapped
//     file in place.
//   - Under SyncNever and SyncInterval every Append is still one write(2),
//     so an acknowledged record survives a crash of the process (not of the
//     machine); there is no user-space write buffer.
package wal
