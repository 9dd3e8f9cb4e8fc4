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
// (every MiB cost about 5% of batched append throughput). On Linux the
// active segment is allocated at its full size up front (fallocate), so
// appends neither allocate blocks page by page (about 15% of a batched
// no-sync append's time) nor change the file size, and an fdatasync has
// less metadata to commit: one appender with SyncAlways went from 143-169
// to 98-105 µs per record, 8 appenders from 36-40 to 26-27 µs (bench/wal,
// ConcurrentSync, three alternating runs of each build). The zeros after
// the last frame are a torn tail to Open, which cuts them; sealing a
// segment or closing the log cuts them first. Meanwhile the active segment
// occupies SegmentSize on disk.
// Read: a search over segments (the active one first), then O(1) through
// the segment's dense index, whose entry holds the record's position and
// the checksum that covers it, to the record's data; a CRC-32C over the
// record's data only (a batch record's
// header bytes and bounds enter it from the index; a single record's
// 24 header bytes are checksummed with its data; never the rest of a
// batch), read from a read-only memory mapping (on unix; pread otherwise)
// under the read lock, then one copy into a new slice (ReadInto: into the
// caller's). With Options.ReadCache the newest segments are also kept in
// memory as this process wrote them, and Read serves them without a
// checksum and without a lock, like an in-memory log. Reader: sequential
// preads of 256 KiB, each frame verified whole, zero-copy records
// (Record.Data is valid until the next Next). OffsetAt: binary searches
// plus a scan of about IndexEvery bytes. Open: takes the directory lock,
// reads the last segment and any sealed segment whose index files are
// missing or damaged, and walks the frame headers and batch tables of the
// others to rebuild their dense indexes.
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
// slicing-by-8 step, cheaper than a call into hash/crc32 for so little).
//
// The dense index holds, per record, its data position and size and its
// checksum (copied from the frame when the entry is built), and per batch
// frame its time and the CRC-32C state after the header fields. A Read
// therefore loads the index entry, then the data (instead of the frame
// header, then the ends table, then the data, one miss after another), and
// makes one call into hash/crc32 instead of three. Keeping the checksum
// itself rather than its position made no measurable difference to random
// reads at 1M records (the two loads overlapped), but a pread of a batch
// record reads only its data.
// That is safe for entries built at Open from frames nobody verified: a
// batch record's checksum is computed from the header state and bounds in
// the index, so if the disk held other header bytes, bounds or checksums
// when the index was built, they do not match and Read reports ErrCorrupt,
// exactly as if it had parsed them then (TestBitFlipSealedBatch flips every
// bit of such a frame); damage after the index was built is caught against
// the checksum it kept. Tried and dropped: 8- and 12-byte entries that derive the size or
// the checksum position from the frame entry (less memory, but one more
// miss in a row: 5-30% slower random reads at 1M records in runs on a
// shared machine, and no measurable gain on appends).
//
// A Read from the read cache takes no lock: it loads an atomically
// published view of the cached segments (their index tables and copies),
// reads, and checks that the view is still current, else it takes the
// locked path. What a view points to is never rewritten in place
// (TruncateBack gives the segment it cuts fresh tables and a fresh copy;
// evicted copies are not reused), so the read is race-free; see cacheView.
// The read lock cost about 13 ns of 50 at 1k records (two atomic
// read-modify-writes). Verified reads keep the lock: it is what keeps a
// mapping from being unmapped under them. What is left between the two
// configurations is the checksum (about 15-17 ns per 100 bytes) and the
// lock. bench/wal measures both against tidwall/wal, which keeps segments
// in memory and checks nothing on Read: for 100-byte records in batches of
// 10, random Read at 1k / 1M records took 63 / 428 ns verified and
// 34 / 252 ns from the read cache, tidwall/wal 47 / 376 ns in the same runs
// (medians of 3 on an idle 2-core VM, 2026-11-24; before the dense index,
// on a shared machine, 120 / 504 and 68 / 377 ns against tidwall's
// 71 / 377).
//
// # Memory
//
// Each segment keeps an in-memory dense index, built as records are
// appended or recovered and never written to disk: 16 bytes per record
// plus 24 per batch frame (1M records in batches of 10 cost 18 MB;
// tidwall/wal keeps 16 bytes per record besides the data). A new segment's
// tables are sized like the previous segment's and grow by doubling; on
// Linux their spare room is faulted in at once (MADV_POPULATE_WRITE), which
// costs less than a page fault every 4 KiB of entries, and backed by
// transparent huge pages where the kernel allows (MADV_HUGEPAGE), so random
// reads over a large log miss the TLB less: together with a copy that is
// no longer zeroed first, random reads at 1M records went from 428-484 to
// 389-457 ns verified and from 264-345 to 246-303 ns from the read cache
// (bench/wal, three alternating runs of each build). The read cache's
// copy is left on ordinary pages: faulting in 2 MiB pages made batched
// appends with ReadCache 15-26 µs instead of 13-14 µs, for no clear gain
// on reads. The
// on-disk index stays sparse. Options.ReadCache = n adds up to n+1 x
// SegmentSize bytes: the active segment's copy is allocated at its full
// capacity when the segment starts, so appends never reallocate it; an
// evicted copy is left to the garbage collector (a lock-free reader may
// still hold it), so every segment gets a fresh one (measured: batched
// no-sync appends with ReadCache 7-15% slower than when an evicted copy
// was reused). Open reads the active segment into its copy.
//
// # Concurrency
//
// A Log is safe for concurrent use. Writers serialise on a mutex for the
// write(2) only; fsyncs are shared (group commit). Readers run concurrently
// with the writer and see a record once it is acknowledged (after its fsync
// under SyncAlways); reads from the read cache take no lock at all. A
// Reader is for one goroutine; use one per consumer.
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
//   - Only one Log may use a directory at a time: Open takes an advisory
//     lock (flock(2) on the file LOCK, on Linux, macOS and the BSDs) and
//     fails with ErrLocked while another Log, in this process or another,
//     holds it; the kernel drops it when a process dies. Elsewhere (Windows)
//     it is not enforced. Sealed segments are memory-mapped: a process that
//     ignores the lock and truncates them would crash this one (SIGBUS). The
//     Log itself never truncates a mapped file in place.
//   - Under SyncNever and SyncInterval every Append is still one write(2),
//     so an acknowledged record survives a crash of the process (not of the
//     machine); there is no user-space write buffer.
package wal
