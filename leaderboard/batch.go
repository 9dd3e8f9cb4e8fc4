package leaderboard

import (
	"fmt"
	"math"
)

// AddBatch applies Add(e.Member, e.Score, flags...) for every entry, in
// order (Entry.Rank is ignored), in one hold of the write lock, so readers
// see all of the batch or none of it, and returns the number of true
// replies Add would have given (additions, and with CH also score
// changes). The result is exactly that of calling Add for each entry in
// turn, a member named twice included, but on a big board (over a million
// members) each update costs a half to a third as much: the cache misses
// of neighbouring updates are fetched together instead of one after
// another (see warmApply).
//
// Errors: ErrInvalidFlags, or ErrNaN / ErrMemberTooLong for any entry,
// change nothing. ErrFull (the board ran out of member ids or bytes)
// stops the batch at the entry that did not fit: the entries before it
// stay applied and are counted in changed.
//
// Cost: O(len(entries) * log n) under one exclusive lock, so readers wait
// for the whole batch; keep batches to hundreds or thousands of entries
// when reads must stay responsive. No allocations.
func (b *Board) AddBatch(entries []Entry, flags ...AddFlag) (changed int, err error) {
	fs, err := parseFlags(flags)
	if err != nil {
		return 0, err
	}
	for i, e := range entries {
		if math.IsNaN(e.Score) {
			return 0, fmt.Errorf("%w: entry %d: add %q", ErrNaN, i, e.Member)
		}
		if err := checkLen(i, e.Member); err != nil {
			return 0, err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	err = b.warmApply(entries, false, func(i int, h uint32, g *guess) error {
		e := &entries[i]
		c, err := b.add(e.Member, h, e.Score, fs, g)
		if err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		if c {
			changed++
		}
		return nil
	})
	return changed, err
}

// IncrBatch applies Incr(d.Member, d.Score) for every entry of deltas, in
// order — each entry's Score is the increment; Rank is ignored — in one
// hold of the write lock, and appends each resulting score to
// dst, in the order of deltas. The result is exactly that of calling Incr
// for each entry in turn, a member named twice included, at the batch cost
// described at AddBatch.
//
// Errors: a NaN delta, a delta whose result would be NaN (+Inf plus -Inf,
// counting earlier entries of the batch) or ErrMemberTooLong change
// nothing and return dst as given. ErrFull stops the batch at the entry
// that did not fit: the entries before it stay applied and their scores
// are appended.
//
// Cost: O(len(deltas) * log n) under one exclusive lock (see AddBatch). No
// allocations beyond growing dst, except that a batch holding an infinite
// delta first checks the whole batch for NaN results with a map.
func (b *Board) IncrBatch(deltas []Entry, dst []float64) ([]float64, error) {
	inf := false
	for i, d := range deltas {
		if math.IsNaN(d.Score) {
			return dst, fmt.Errorf("%w: entry %d: increment of %q", ErrNaN, i, d.Member)
		}
		if err := checkLen(i, d.Member); err != nil {
			return dst, err
		}
		inf = inf || math.IsInf(d.Score, 0)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if inf {
		if err := b.checkIncrs(deltas); err != nil {
			return dst, err
		}
	}
	err := b.warmApply(deltas, true, func(i int, h uint32, g *guess) error {
		d := &deltas[i]
		s, err := b.incr(d.Member, h, d.Score, g)
		if err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		dst = append(dst, s)
		return nil
	})
	return dst, err
}

func checkLen(i int, member string) error {
	if len(member) > MaxMemberLen {
		return fmt.Errorf("%w: entry %d: %d bytes", ErrMemberTooLong, i, len(member))
	}
	return nil
}

// checkIncrs returns ErrNaN when applying deltas in order would produce a
// NaN score anywhere. Only an infinite delta can produce one (a finite
// delta added to any non-NaN score is not NaN), so IncrBatch calls it only
// then; an absent member counts as 0, as Incr adds it with the delta.
func (b *Board) checkIncrs(deltas []Entry) error {
	scores := make(map[string]float64, len(deltas))
	for i, d := range deltas {
		cur, ok := scores[d.Member]
		if !ok {
			if id, found := b.ms.find(d.Member); found {
				cur = decode(b.ms.ents.at(id).s)
			}
		}
		s := cur + d.Score
		if math.IsNaN(s) {
			return fmt.Errorf("%w: entry %d: %q: %v + %v", ErrNaN, i, d.Member, cur, d.Score)
		}
		scores[d.Member] = s
	}
	return nil
}
