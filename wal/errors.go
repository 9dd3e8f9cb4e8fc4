package wal

import "errors"

// Sentinel errors. Errors returned by the package wrap one of these with
// context (segment, offset, position); match them with errors.Is.
var (
	// ErrNotFound: the offset is at or past the end of the log.
	ErrNotFound = errors.New("wal: offset not found")
	// ErrTruncated: the offset lies before the first offset of the log.
	ErrTruncated = errors.New("wal: offset truncated")
	// ErrCorrupt: a frame failed its checksum or structural checks.
	ErrCorrupt = errors.New("wal: corrupt log")
	// ErrClosed: the log was closed.
	ErrClosed = errors.New("wal: log closed")
	// ErrTooLarge: a record is larger than Options.MaxRecordSize, or a
	// batch does not fit in one frame.
	ErrTooLarge = errors.New("wal: record too large")
	// ErrVersion: a segment or start marker is intact but written in a
	// format version this package does not read (see FORMAT.md). Open
	// fails with it even with Options.Repair, which never deletes data it
	// cannot read.
	ErrVersion = errors.New("wal: unsupported format version")
	// ErrLocked: another Log, in this process or another, has the
	// directory open (an advisory flock on its LOCK file; see Open).
	ErrLocked = errors.New("wal: directory locked by another log")
	// ErrInvalidOptions: Open was given options it cannot honour.
	ErrInvalidOptions = errors.New("wal: invalid options")
)
