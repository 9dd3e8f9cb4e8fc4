package wal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestOptionsValidation(t *testing.T) {
	cases := []struct {
		name string
		opts Options
	}{
		{"small segment", Options{SegmentSize: MinSegmentSize - 1}},
		{"huge segment", Options{SegmentSize: MaxSegmentSize + 1}},
		{"negative age", Options{SegmentAge: -1}},
		{"negative retention", Options{RetentionSize: -1}},
		{"negative index", Options{IndexEvery: -1}},
		{"negative max record", Options{MaxRecordSize: -1}},
		{"unknown policy", Options{Sync: 9}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(t.TempDir(), tc.opts)
			require.ErrorIs(t, err, ErrInvalidOptions)
		})
	}
	// The caller's struct is not modified.
	o := Options{}
	l, err := Open(t.TempDir(), o)
	require.NoError(t, err)
	require.Equal(t, Options{}, o)
	require.NoError(t, l.Close())
}

func TestEdgeCases(t *testing.T) {
	l, err := Open(t.TempDir(), Options{Sync: SyncNever, MaxRecordSize: 10})
	require.NoError(t, err)
	defer l.Close()
	require.Equal(t, uint64(0), l.FirstOffset())
	require.Equal(t, uint64(0), l.NextOffset())
	_, err = l.Read(0)
	require.ErrorIs(t, err, ErrNotFound)
	off, err := l.AppendBatch(nil)
	require.NoError(t, err)
	require.Equal(t, uint64(0), off)
	_, err = l.Append(make([]byte, 11))
	require.ErrorIs(t, err, ErrTooLarge)
	_, err = l.AppendBatch([][]byte{{1}, make([]byte, 11)})
	require.ErrorIs(t, err, ErrTooLarge)
	off, err = l.Append(nil) // empty records are records
	require.NoError(t, err)
	require.Equal(t, uint64(0), off)
	rec, err := l.Read(0)
	require.NoError(t, err)
	require.Empty(t, rec.Data)
	at, err := l.OffsetAt(time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, uint64(1), at)
	require.ErrorIs(t, l.TruncateFront(2), ErrNotFound)
	require.NoError(t, l.TruncateFront(1)) // everything
	require.Equal(t, uint64(1), l.FirstOffset())
	require.ErrorIs(t, l.TruncateBack(0), ErrTruncated)
	_, err = l.Read(0)
	require.ErrorIs(t, err, ErrTruncated)
	off, err = l.Append([]byte("x"))
	require.NoError(t, err)
	require.Equal(t, uint64(1), off)
}

// TestLargeRecords: records larger than a segment get a segment of their own.
func TestLargeRecords(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Sync: SyncNever, SegmentSize: MinSegmentSize}
	l, err := Open(dir, opts)
	require.NoError(t, err)
	var recs [][]byte
	for i := 0; i < 6; i++ {
		r := crashRec(3, uint64(i), []int{10, 3 * MinSegmentSize, 5, MinSegmentSize, 2 * MinSegmentSize, 1}[i])
		_, err := l.Append(r)
		require.NoError(t, err)
		recs = append(recs, r)
	}
	require.NoError(t, l.Close())
	expectRecords(t, dir, opts, recs, len(recs), "large")
}

// TestClockClamp: Record.Time never decreases when the clock steps back.
func TestClockClamp(t *testing.T) {
	clk := &fakeClock{now: testEpoch}
	l, err := Open(t.TempDir(), Options{Sync: SyncNever, Clock: clk.Now})
	require.NoError(t, err)
	defer l.Close()
	_, err = l.Append([]byte("a"))
	require.NoError(t, err)
	clk.now = testEpoch.Add(-time.Hour)
	_, err = l.Append([]byte("b"))
	require.NoError(t, err)
	rec, err := l.Read(1)
	require.NoError(t, err)
	require.Equal(t, testEpoch.UnixNano(), rec.Time)
}

func segCount(t *testing.T, dir string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	require.NoError(t, err)
	return len(m)
}

// TestRetentionAndRoll: segments roll by size and age and are dropped
// whole by size and age retention; the active segment always stays.
func TestRetentionAndRoll(t *testing.T) {
	t.Run("size", func(t *testing.T) {
		dir := t.TempDir()
		l, err := Open(dir, Options{Sync: SyncNever, SegmentSize: MinSegmentSize, RetentionSize: 3 * MinSegmentSize})
		require.NoError(t, err)
		defer l.Close()
		for i := 0; i < 1000; i++ {
			_, err := l.Append(make([]byte, 100))
			require.NoError(t, err)
		}
		require.LessOrEqual(t, segCount(t, dir), 4)
		first := l.FirstOffset()
		require.Greater(t, first, uint64(0))
		_, err = l.Read(first - 1)
		require.ErrorIs(t, err, ErrTruncated)
		_, err = l.Read(first)
		require.NoError(t, err)
	})
	t.Run("age", func(t *testing.T) {
		dir := t.TempDir()
		clk := &fakeClock{now: testEpoch}
		opts := Options{Sync: SyncNever, SegmentAge: time.Minute, RetentionAge: time.Hour, Clock: clk.Now}
		l, err := Open(dir, opts)
		require.NoError(t, err)
		for i := 0; i < 5; i++ {
			_, err := l.Append([]byte{byte(i)})
			require.NoError(t, err)
			clk.now = clk.now.Add(time.Minute) // each record rolls a segment
		}
		require.Equal(t, 5, segCount(t, dir))
		require.Equal(t, uint64(0), l.FirstOffset())
		clk.now = testEpoch.Add(time.Hour + 150*time.Second) // records 0..2 expire
		_, err = l.Append([]byte{5})
		require.NoError(t, err)
		require.Equal(t, uint64(3), l.FirstOffset())
		require.NoError(t, l.Close())
		l, err = Open(dir, opts)
		require.NoError(t, err)
		require.Equal(t, uint64(3), l.FirstOffset())
		require.Equal(t, uint64(6), l.NextOffset())
		require.NoError(t, l.Close())
	})
}

// TestClose: Close waits for in-flight appends, every acknowledged append is
// readable after reopening, every later call returns ErrClosed and an
// append that failed with ErrClosed left nothing behind.
func TestClose(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{})
	require.NoError(t, err)
	var mu sync.Mutex
	acked := map[uint64]string{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; ; i++ {
				d := fmt.Sprintf("g%d-%d", g, i)
				off, err := l.Append([]byte(d))
				if err != nil {
					require.ErrorIs(t, err, ErrClosed)
					return
				}
				mu.Lock()
				acked[off] = d
				mu.Unlock()
			}
		}()
	}
	close(start)
	r := l.NewReader(0)
	require.NoError(t, r.Wait(context.Background()))
	require.NoError(t, l.Close())
	wg.Wait()
	require.NoError(t, l.Close()) // twice is fine

	_, err = l.Append(nil)
	require.ErrorIs(t, err, ErrClosed)
	_, err = l.AppendBatch([][]byte{{1}})
	require.ErrorIs(t, err, ErrClosed)
	_, err = l.AppendBatch(nil)
	require.ErrorIs(t, err, ErrClosed)
	_, err = l.Read(0)
	require.ErrorIs(t, err, ErrClosed)
	_, err = r.Next()
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, r.Wait(context.Background()), ErrClosed)
	_, err = l.OffsetAt(time.Now())
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, l.TruncateFront(0), ErrClosed)
	require.ErrorIs(t, l.TruncateBack(0), ErrClosed)
	require.ErrorIs(t, l.Sync(), ErrClosed)

	l, err = Open(dir, Options{})
	require.NoError(t, err)
	defer l.Close()
	require.Equal(t, uint64(len(acked)), l.NextOffset(), "nothing beyond the acknowledged appends")
	for off, d := range acked {
		rec, err := l.Read(off)
		require.NoError(t, err)
		require.Equal(t, d, string(rec.Data))
	}
}

// TestWait: Wait returns when a record arrives, when ctx ends, and when the
// log closes, without polling.
func TestWait(t *testing.T) {
	for _, p := range []SyncPolicy{SyncAlways, SyncNever, SyncInterval} {
		t.Run(p.String(), func(t *testing.T) {
			l, err := Open(t.TempDir(), Options{Sync: p, SyncEvery: time.Millisecond})
			require.NoError(t, err)
			r := l.NewReader(0)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			require.ErrorIs(t, r.Wait(ctx), context.Canceled)

			got := make(chan error)
			go func() { got <- r.Wait(context.Background()) }()
			_, err = l.Append([]byte("x"))
			require.NoError(t, err)
			require.NoError(t, <-got)
			rec, err := r.Next()
			require.NoError(t, err)
			require.Equal(t, "x", string(rec.Data))

			go func() { got <- r.Wait(context.Background()) }()
			require.NoError(t, l.Close())
			require.ErrorIs(t, <-got, ErrClosed)
		})
	}
}

// TestConcurrent runs appenders, readers and waiters together (for -race)
// and checks that every reader sees contiguous, genuine records.
func TestConcurrent(t *testing.T) {
	for _, cache := range []int{0, 1} {
		t.Run(fmt.Sprintf("cache=%d", cache), func(t *testing.T) { testConcurrent(t, cache) })
	}
}

func testConcurrent(t *testing.T, cache int) {
	l, err := Open(t.TempDir(), Options{SegmentSize: 64 << 10, IndexEvery: 256, ReadCache: cache})
	require.NoError(t, err)
	const writers, per = 8, 150
	var wg sync.WaitGroup
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if i%5 == 0 {
					_, err := l.AppendBatch([][]byte{crashRec(uint32(g), uint64(i), 20), crashRec(uint32(g), uint64(i)+1000, 5)})
					require.NoError(t, err)
					continue
				}
				_, err := l.Append(crashRec(uint32(g), uint64(i), i))
				require.NoError(t, err)
			}
		}()
	}
	total := uint64(writers * (per + per/5))
	errs := make(chan error, 3)
	for k := 0; k < 3; k++ {
		go func() {
			r := l.NewReader(0)
			for want := uint64(0); want < total; {
				rec, err := r.Next()
				if errors.Is(err, io.EOF) {
					if err := r.Wait(context.Background()); err != nil {
						errs <- err
						return
					}
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				if rec.Offset != want || !genuine(rec.Data) {
					errs <- fmt.Errorf("reader got offset %d want %d", rec.Offset, want)
					return
				}
				if _, err := l.Read(rec.Offset); err != nil {
					errs <- err
					return
				}
				want++
			}
			errs <- nil
		}()
	}
	wg.Wait()
	for k := 0; k < 3; k++ {
		require.NoError(t, <-errs)
	}
	require.Equal(t, total, l.NextOffset())
	require.NoError(t, l.Close())
}

// TestStartMarker: a persisted start marker hides a partial front segment
// after reopen, and a marker past the recovered end restarts the log there.
func TestStartMarker(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Sync: SyncNever}
	l, err := Open(dir, opts)
	require.NoError(t, err)
	for i := 0; i < 10; i++ {
		_, err := l.Append([]byte{byte(i)})
		require.NoError(t, err)
	}
	require.NoError(t, l.TruncateFront(4))
	require.NoError(t, l.Close())
	l, err = Open(dir, opts)
	require.NoError(t, err)
	require.Equal(t, uint64(4), l.FirstOffset())
	_, err = l.Read(3)
	require.ErrorIs(t, err, ErrTruncated)
	require.NoError(t, l.Close())

	require.NoError(t, writeStart(dir, 50))
	l, err = Open(dir, opts)
	require.NoError(t, err)
	require.Equal(t, uint64(50), l.FirstOffset())
	require.Equal(t, uint64(50), l.NextOffset())
	off, err := l.Append([]byte("z"))
	require.NoError(t, err)
	require.Equal(t, uint64(50), off)
	require.NoError(t, l.Close())

	require.NoError(t, os.WriteFile(filepath.Join(dir, startFile), []byte("junk"), 0o644))
	_, err = Open(dir, opts)
	require.ErrorIs(t, err, ErrCorrupt)
}

// TestConcurrentTruncate races appenders and readers with TruncateFront and
// TruncateBack on small segments (for -race): nobody may ever see a corrupt
// or bogus record, and every offset between FirstOffset and NextOffset stays
// readable once appends stop.
func TestConcurrentTruncate(t *testing.T) {
	for _, c := range []struct {
		p     SyncPolicy
		cache int
	}{{SyncNever, 0}, {SyncAlways, 0}, {SyncNever, 2}, {SyncAlways, 1}} {
		p := c.p
		t.Run(fmt.Sprintf("%s/cache=%d", p, c.cache), func(t *testing.T) {
			l, err := Open(t.TempDir(), Options{Sync: p, SegmentSize: MinSegmentSize, IndexEvery: 128, ReadCache: c.cache})
			require.NoError(t, err)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			fail := make(chan error, 16)
			for g := 0; g < 3; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 300; i++ {
						var err error
						if i%4 == 0 {
							_, err = l.AppendBatch([][]byte{crashRec(uint32(g), uint64(i), 30), crashRec(uint32(g), uint64(i), 90)})
						} else {
							_, err = l.Append(crashRec(uint32(g), uint64(i), i%200))
						}
						if err != nil {
							fail <- err
							return
						}
					}
				}()
			}
			var rwg sync.WaitGroup
			// Random reads race with appends and both truncations (the
			// lock-free cached path with ReadCache).
			rwg.Add(1)
			go func() {
				defer rwg.Done()
				for i := uint64(0); ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					first, next := l.FirstOffset(), l.NextOffset()
					if next <= first {
						continue
					}
					rec, err := l.Read(first + i*7919%(next-first))
					switch {
					case errors.Is(err, ErrTruncated), errors.Is(err, ErrNotFound):
					case err != nil:
						fail <- err
						return
					case !genuine(rec.Data):
						fail <- fmt.Errorf("bogus random Read at %d", rec.Offset)
						return
					}
				}
			}()
			for k := 0; k < 2; k++ {
				rwg.Add(1)
				go func() {
					defer rwg.Done()
					r := l.NewReader(0)
					for {
						select {
						case <-stop:
							return
						default:
						}
						rec, err := r.Next()
						switch {
						case errors.Is(err, io.EOF):
							continue
						case errors.Is(err, ErrTruncated):
							r.Seek(l.FirstOffset())
							continue
						case err != nil:
							fail <- err
							return
						}
						if !genuine(rec.Data) {
							fail <- fmt.Errorf("bogus record at %d", rec.Offset)
							return
						}
						if rd, err := l.Read(rec.Offset); err == nil && !genuine(rd.Data) {
							fail <- fmt.Errorf("bogus Read at %d", rec.Offset)
							return
						} else if errors.Is(err, ErrCorrupt) {
							fail <- err
							return
						}
					}
				}()
			}
			for i := 0; i < 40; i++ {
				first, next := l.FirstOffset(), l.NextOffset()
				if next <= first {
					continue
				}
				x := first + uint64(i)%(next-first)
				if i%3 == 0 {
					require.NoError(t, l.TruncateFront(x))
				} else if err := l.TruncateBack(next - (next-x)/4); err != nil {
					require.ErrorIs(t, err, ErrTruncated) // a concurrent TruncateFront can pass it
				}
			}
			wg.Wait()
			close(stop)
			rwg.Wait()
			close(fail)
			for err := range fail {
				require.NoError(t, err)
			}
			for off := l.FirstOffset(); off < l.NextOffset(); off++ {
				rec, err := l.Read(off)
				require.NoError(t, err)
				require.True(t, genuine(rec.Data))
			}
			require.NoError(t, l.Close())
		})
	}
}

// TestStartMarkerCrash: a crash after TruncateFront wrote its marker but
// before it deleted the hidden segments is finished by Open.
func TestStartMarkerCrash(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Sync: SyncNever, SegmentSize: MinSegmentSize}
	l, err := Open(dir, opts)
	require.NoError(t, err)
	for i := 0; i < 200; i++ {
		_, err := l.Append(make([]byte, 100))
		require.NoError(t, err)
	}
	require.NoError(t, l.Close())
	before := segCount(t, dir)
	require.Greater(t, before, 3)
	require.NoError(t, writeStart(dir, 150)) // the crash: no segment deleted yet
	l, err = Open(dir, opts)
	require.NoError(t, err)
	defer l.Close()
	require.Equal(t, uint64(150), l.FirstOffset())
	require.Less(t, segCount(t, dir), before)
	_, err = l.Read(149)
	require.ErrorIs(t, err, ErrTruncated)
	_, err = l.Read(150)
	require.NoError(t, err)
}
