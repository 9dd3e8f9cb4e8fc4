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
// It never returns a corrupt record: every record read from a file is
// checked against a CRC-32C over its frame header and its data (a record of
// a batch has its own, which also covers its place in the batch), and a
// Reader checks every frame whole. It never loses an acknowledged record:
// under SyncAlways, Append returns only after fdatasync (fsync outside
// Linux), and new or removed segment files are followed by a directory
// fsync. A batch is one frame, so it survives a crash whole or not at all.
// On Open a torn tail of the last segment (a partial frame, or garbage or
// zeros after the last whole frame) is cut off; damage before it fails with
// ErrCorrupt naming the segment and offset unless Options.Repair asks to
// cut the log there. The on-disk format is described in FORMAT.md.
//
// # Complexity
//
// Append: one write(2) to the page cache, no allocation in steady state;
// under SyncAlways one fdatasync shared by all appenders that arrive while
// the previous one runs; under SyncNever and SyncInterval the kernel is
// asked (sync_file_range on Linux) to start writing back each 4 MiB
// written, so the sync that seals a segment does not wait for all of it
// (every MiB cost about 5% of batched append throughput). On Linux a new
// segment's blocks are reserved up front (fallocate with KEEP_SIZE: the
// file size still ends at the last frame), so appends do not allocate
// blocks page by page — about 15% of a batched no-sync append's time — and
// the reservation past the end is freed when the segment is sealed or the
// log closed; meanwhile the active segment occupies SegmentSize on disk.
// Read: a
// search over segments (the active one first), then O(1) through the
// segment's dense position table to the frame holding the record; a
// CRC-32C over the frame header, the record's bounds and its data (never
// the rest of its batch), read from a read-only memory mapping (on unix;
// pread otherwise), then one copy into a new slice (ReadInto: into the
// caller's). With Options.ReadCache the newest segments are also kept in
// memory as this process wrote them, and Read serves them without a
// checksum, like an in-memory log. Reader: sequential preads of 256 KiB,
// each frame verified whole, zero-copy records (Record.Data is valid until
// the next Next). OffsetAt: binary searches plus a scan of about IndexEvery
// bytes. Open: reads the last segment and any sealed segment whose index
// files are missing or damaged, and walks the frame headers of the others
// to rebuild their dense tables.
//
// # Read path choices
//
// Format version 2 gives each record of a batch its own CRC-32C (version 1
// had one per frame, so a random Read of a 100-byte record in a batch of 10
// checksummed about 1 KB, about half the cost of the Read). The frame
// checksum still covers the header and the record tables and recovery
// checks every record, so a batch stays atomic across a crash; writes still
// checksum each data byte once, but as many short checksums instead of one
// long one (the 8 bytes of a record's bounds go through a pure-Go
// slicing-by-8 step, cheaper than a call into hash/crc32 for so little). A
// Read whose frame fits in 1 MiB is verified and copied under the read lock
// instead of under a segment reference, which saves two atomic operations
// and the TruncateBack retry check. In segments over 8 MiB a random Read
// first loads every cache line of a small frame at once (overlapping the
// misses); in smaller ones that only costs time. Tried and dropped, for
// no measurable gain: a dense table that also holds each record's place in
// its frame (8 bytes per record instead of 4) to load header and data
// together, and a lock-free read of the cache through atomic snapshots
// instead of the read lock. What is left of the gap to an in-memory log
// (tidwall/wal keeps segments in memory and checks nothing on Read) is
// mostly the checksum and the cache misses on a mapped file, so
// Options.ReadCache offers the same trade as tidwall: memory, and a copy on
// every append, for reads served from a copy that never went through the
// disk. bench/wal measures both configurations.
//
// # Memory
//
// Each segment keeps an in-memory dense position table: 4 bytes per record
// (the file position of the frame holding it), built as records are
// appended or recovered and never written to disk; 1M records cost 4 MB.
// The on-disk index stays sparse. Options.ReadCache = n adds up to n+1 x
// SegmentSize bytes: the active segment's copy is allocated at its full
// capacity when the segment starts, so appends never reallocate it, and the
// buffer of the segment last evicted is kept to be reused by the next one
// (its pages are already faulted in). Open reads the active segment into
// its copy.
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
