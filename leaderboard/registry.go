package leaderboard

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// Period is the length of one named board's lifetime.
type Period uint8

// Periods, in UTC.
const (
	Monthly Period = iota // "leaderboards:2026-11"
	Weekly                // "leaderboards:2026-W48" (ISO week)
	Daily                 // "leaderboards:2026-11-23"
)

// RegistryOptions configures a Registry. The zero value means monthly
// boards named "leaderboards:YYYY-MM", keeping the current and the previous
// period, on the wall clock.
type RegistryOptions struct {
	Prefix string           // name prefix; default "leaderboards"
	Period Period           // default Monthly
	Keep   int              // periods kept, counting the current one; default 2
	Now    func() time.Time // clock; default time.Now
	Board  Options          // options of every board created
}

// Registry holds one named board per period ("leaderboards:2026-11", as in
// the design's ZADD leaderboards:feb:2024) and drops boards older than Keep
// periods. Time comes from the injected clock, so expiry is testable.
//
// Registry is safe for concurrent use (one mutex guards the name table; the
// boards have their own locks).
type Registry struct {
	mu     sync.Mutex
	opts   RegistryOptions
	boards map[int64]*Board // by period index
}

// NewRegistry returns an empty registry configured by opts (copied).
func NewRegistry(opts RegistryOptions) (*Registry, error) {
	if opts.Prefix == "" {
		opts.Prefix = "leaderboards"
	}
	if opts.Keep == 0 {
		opts.Keep = 2
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Period > Daily {
		return nil, fmt.Errorf("%w: period %d", ErrInvalidOptions, opts.Period)
	}
	if opts.Keep < 1 {
		return nil, fmt.Errorf("%w: keep %d", ErrInvalidOptions, opts.Keep)
	}
	if err := opts.Board.validate(); err != nil {
		return nil, err
	}
	return &Registry{opts: opts, boards: map[int64]*Board{}}, nil
}

// mondayEpoch is a Monday, the origin of ISO week indices.
var mondayEpoch = time.Date(1970, 1, 5, 0, 0, 0, 0, time.UTC)

// index returns the period number containing t.
func (r *Registry) index(t time.Time) int64 {
	t = t.UTC()
	switch r.opts.Period {
	case Weekly:
		d := t.Sub(mondayEpoch)
		w := int64(d / (7 * 24 * time.Hour))
		if d < 0 && d%(7*24*time.Hour) != 0 {
			w--
		}
		return w
	case Daily:
		d := t.Sub(time.Unix(0, 0).UTC())
		day := int64(d / (24 * time.Hour))
		if d < 0 && d%(24*time.Hour) != 0 {
			day--
		}
		return day
	}
	return int64(t.Year())*12 + int64(t.Month()) - 1
}

// name returns the board name of period index i.
func (r *Registry) name(i int64) string {
	switch r.opts.Period {
	case Weekly:
		y, w := mondayEpoch.Add(time.Duration(i) * 7 * 24 * time.Hour).ISOWeek()
		return fmt.Sprintf("%s:%04d-W%02d", r.opts.Prefix, y, w)
	case Daily:
		return r.opts.Prefix + ":" + time.Unix(i*86400, 0).UTC().Format("2006-01-02")
	}
	return fmt.Sprintf("%s:%04d-%02d", r.opts.Prefix, i/12, i%12+1)
}

// Current returns the name and board of the current period, creating it,
// and drops expired boards. Cost O(boards).
func (r *Registry) Current() (string, *Board) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.index(r.opts.Now())
	r.expire(now)
	b, ok := r.boards[now]
	if !ok {
		b, _ = NewWithOptions(r.opts.Board)
		r.boards[now] = b
	}
	return r.name(now), b
}

// At returns the name and board of the period containing t, if it exists
// and has not expired. It never creates a board.
func (r *Registry) At(t time.Time) (string, *Board, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.index(t)
	r.expire(r.index(r.opts.Now()))
	b, ok := r.boards[i]
	return r.name(i), b, ok
}

// Get returns the board with the given name, if it exists.
func (r *Registry) Get(name string) (*Board, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expire(r.index(r.opts.Now()))
	for i, b := range r.boards {
		if r.name(i) == name {
			return b, true
		}
	}
	return nil, false
}

// Names returns the names of the live boards, oldest first.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expire(r.index(r.opts.Now()))
	idx := make([]int64, 0, len(r.boards))
	for i := range r.boards {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
	names := make([]string, len(idx))
	for k, i := range idx {
		names[k] = r.name(i)
	}
	return names
}

// Expire drops the boards of periods that ended Keep or more periods ago
// and returns their names. The other calls expire as well; Expire lets a
// caller free memory without touching a board.
func (r *Registry) Expire() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.expire(r.index(r.opts.Now()))
}

func (r *Registry) expire(now int64) []string {
	var gone []string
	for i := range r.boards {
		if i <= now-int64(r.opts.Keep) {
			delete(r.boards, i)
			gone = append(gone, r.name(i))
		}
	}
	sort.Strings(gone)
	return gone
}
