package wal

import (
	"fmt"
	"time"
)

// SyncPolicy says when appended data is forced to stable storage.
type SyncPolicy uint8

const (
	// SyncAlways: Append and AppendBatch return after the data is fsynced.
	// Concurrent appenders share one fsync (group commit).
	SyncAlways SyncPolicy = iota
	// SyncInterval: a background goroutine fsyncs every Options.SyncEvery.
	SyncInterval
	// SyncNever: the operating system decides; Log.Sync forces a flush.
	SyncNever
)

var _ fmt.Stringer = SyncPolicy(0)

// String returns the policy name.
func (p SyncPolicy) String() string {
	switch p {
	case SyncAlways:
		return "always"
	case SyncInterval:
		return "interval"
	case SyncNever:
		return "never"
	}
	return fmt.Sprintf("SyncPolicy(%d)", uint8(p))
}

// Defaults and limits of Options.
const (
	DefaultSegmentSize   = 64 << 20
	DefaultIndexEvery    = 4 << 10
	DefaultMaxRecordSize = 64 << 20
	DefaultSyncEvery     = 100 * time.Millisecond

	// MinSegmentSize is the smallest accepted Options.SegmentSize.
	MinSegmentSize = 4 << 10
	// MaxSegmentSize is the largest accepted Options.SegmentSize; it keeps
	// file positions within 32 bits in the index files.
	MaxSegmentSize = 1 << 31
	// MaxFrameSize bounds the payload of one frame (a record or a batch).
	MaxFrameSize = 1 << 30
)

// Options configure a Log. The zero value is a durable log with 64 MiB
// segments, SyncAlways, no retention and a 4 KiB index interval. Open copies
// the struct; the caller's value is never modified.
type Options struct {
	SegmentSize   int64         // roll the active segment at this size (default 64 MiB, min 4 KiB)
	SegmentAge    time.Duration // and/or at this age (0 = never)
	Sync          SyncPolicy    // see SyncPolicy (default SyncAlways)
	SyncEvery     time.Duration // period of SyncInterval (default 100ms)
	RetentionSize int64         // drop oldest whole segments beyond this total size (0 = keep)
	RetentionAge  time.Duration // drop segments whose newest record is older (0 = keep)
	IndexEvery    int           // bytes between sparse index entries (default 4 KiB)
	MaxRecordSize int           // larger records get ErrTooLarge (default 64 MiB)
	Repair        bool          // on Open, truncate at mid-log damage instead of failing
	Clock         func() time.Time

	// ReadCache is how many of the newest segments (the active one
	// included) keep an in-memory copy of what this process wrote to them,
	// from which Read serves records without a checksum and without a
	// lock (they never went through the disk; Open verifies the active
	// segment it loads). Each costs SegmentSize bytes of memory, and
	// appends copy every frame into it. The default 0 keeps none: every
	// Read verifies the record it returns. It trades memory and append
	// speed for random-read speed, like tidwall/wal's segment cache. Reader
	// does not use it. After a TruncateBack into a segment whose copy was
	// already dropped, caching resumes with the next segment; a frame
	// larger than the rest of a segment's copy (a record larger than
	// SegmentSize) ends caching of that segment.
	ReadCache int
}

// withDefaults returns a validated copy of o with defaults filled in.
func (o Options) withDefaults() (Options, error) {
	if o.SegmentSize == 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.SegmentSize < MinSegmentSize || o.SegmentSize > MaxSegmentSize {
		return o, fmt.Errorf("%w: SegmentSize %d outside [%d, %d]", ErrInvalidOptions, o.SegmentSize, MinSegmentSize, int64(MaxSegmentSize))
	}
	if o.SegmentAge < 0 || o.RetentionAge < 0 || o.SyncEvery < 0 || o.RetentionSize < 0 {
		return o, fmt.Errorf("%w: negative duration or size", ErrInvalidOptions)
	}
	if o.Sync > SyncNever {
		return o, fmt.Errorf("%w: unknown sync policy %d", ErrInvalidOptions, o.Sync)
	}
	if o.SyncEvery == 0 {
		o.SyncEvery = DefaultSyncEvery
	}
	if o.IndexEvery == 0 {
		o.IndexEvery = DefaultIndexEvery
	}
	if o.ReadCache < 0 {
		return o, fmt.Errorf("%w: ReadCache %d", ErrInvalidOptions, o.ReadCache)
	}
	if o.IndexEvery < 0 {
		return o, fmt.Errorf("%w: IndexEvery %d", ErrInvalidOptions, o.IndexEvery)
	}
	if o.MaxRecordSize == 0 {
		o.MaxRecordSize = DefaultMaxRecordSize
	}
	if o.MaxRecordSize < 0 || o.MaxRecordSize > MaxFrameSize {
		return o, fmt.Errorf("%w: MaxRecordSize %d", ErrInvalidOptions, o.MaxRecordSize)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return o, nil
}
