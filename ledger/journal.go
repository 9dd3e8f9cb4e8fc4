package ledger

import (
	"fmt"
	"sync"
)

// appender is the part of *wal.Log the journal uses: one call appends a group of records
// atomically and, under wal.SyncAlways, returns once they are on disk.
type appender interface {
	AppendBatch(batch [][]byte) (uint64, error)
}

// journal turns the batches applied under Ledger.mu into wal records, in the order they were
// applied, and writes them in groups: while one group is being written (and fsynced), the
// batches applied meanwhile queue up and the first of their callers to wait writes them all
// with one call (leader-based group commit). Buffers are swapped, not reallocated.
//
// The queue has its own mutex rather than Ledger.mu, so that a leader takes the queued records
// without waiting for the batch being applied meanwhile (several milliseconds for a large one):
// the next group's write and fsync overlap that batch's apply and encoding.
type journal struct {
	log appender

	// Guarded by qmu. enqueue also runs under Ledger.mu, so the queue order is the apply order.
	qmu  sync.Mutex
	buf  []byte // encoded records waiting to be written
	ends []int  // end offset of each waiting record in buf
	seq  uint64 // records enqueued so far

	mu       sync.Mutex
	cond     sync.Cond
	done     uint64 // records written (durable) so far
	writing  bool   // a leader is writing a group
	err      error  // sticky: the first write failure
	spareBuf []byte
	spareEnd []int
	recs     [][]byte

	onEnqueue func() // test hook, called under Ledger.mu after each enqueue
}

func newJournal(log appender) *journal {
	j := &journal{log: log}
	j.cond.L = &j.mu
	return j
}

// enqueue appends one record built by enc; call with Ledger.mu held. It returns the record's
// sequence number.
func (j *journal) enqueue(enc func([]byte) []byte) uint64 {
	j.qmu.Lock()
	j.buf = enc(j.buf)
	j.ends = append(j.ends, len(j.buf))
	j.seq++
	seq := j.seq
	j.qmu.Unlock()
	if j.onEnqueue != nil {
		j.onEnqueue()
	}
	return seq
}

// wait returns once record seq is durable, writing the queued group itself if no other
// caller is.
func (j *journal) wait(seq uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.done < seq {
		if j.err != nil {
			return j.err
		}
		if j.writing {
			j.cond.Wait()
			continue
		}
		j.writing = true
		j.mu.Unlock()
		upto, err := j.writeGroup()
		j.mu.Lock()
		j.writing = false
		if err != nil && j.err == nil {
			j.err = fmt.Errorf("%w: %w", ErrJournal, err)
		} else if err == nil {
			j.done = upto
		}
		j.cond.Broadcast()
	}
	return nil
}

// writeGroup takes every queued record and appends them with one call. It returns the
// sequence number of the last record written.
func (j *journal) writeGroup() (uint64, error) {
	j.qmu.Lock()
	buf, ends, upto := j.buf, j.ends, j.seq
	j.buf, j.ends = j.spareBuf[:0], j.spareEnd[:0]
	j.qmu.Unlock()

	recs := j.recs[:0]
	start := 0
	for _, end := range ends {
		recs = append(recs, buf[start:end:end])
		start = end
	}
	_, err := j.log.AppendBatch(recs)
	clear(recs) // drop references into buf
	j.recs = recs
	j.spareBuf, j.spareEnd = buf[:0], ends[:0]
	return upto, err
}

// failure returns the sticky write error, if any.
func (j *journal) failure() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// drain waits until every enqueued record is written or the journal failed.
func (j *journal) drain() error {
	j.qmu.Lock()
	seq := j.seq
	j.qmu.Unlock()
	return j.wait(seq)
}
