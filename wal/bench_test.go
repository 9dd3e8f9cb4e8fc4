package wal

import (
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
)

var benchSizes = []int{100, 1024}

func reportRecords(b *testing.B, n int) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkAppend(b *testing.B) {
	for _, p := range []SyncPolicy{SyncAlways, SyncInterval, SyncNever} {
		for _, size := range benchSizes {
			b.Run(fmt.Sprintf("sync=%s/size=%dB", p, size), func(b *testing.B) {
				l, err := Open(b.TempDir(), Options{Sync: p})
				if err != nil {
					b.Fatal(err)
				}
				defer l.Close()
				data := make([]byte, size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := l.Append(data); err != nil {
						b.Fatal(err)
					}
				}
				reportRecords(b, b.N)
			})
		}
	}
}

func BenchmarkAppendBatch(b *testing.B) {
	const batchLen = 100
	for _, p := range []SyncPolicy{SyncAlways, SyncInterval, SyncNever} {
		for _, size := range benchSizes {
			b.Run(fmt.Sprintf("sync=%s/size=%dB/batch=%d", p, size, batchLen), func(b *testing.B) {
				l, err := Open(b.TempDir(), Options{Sync: p})
				if err != nil {
					b.Fatal(err)
				}
				defer l.Close()
				batch := make([][]byte, batchLen)
				for i := range batch {
					batch[i] = make([]byte, size)
				}
				b.SetBytes(int64(size * batchLen))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := l.AppendBatch(batch); err != nil {
						b.Fatal(err)
					}
				}
				reportRecords(b, b.N*batchLen)
			})
		}
	}
}

// BenchmarkGroupCommit appends 100-byte records with SyncAlways from 1, 8
// and 64 goroutines: records/s grows because one fsync serves every
// appender that arrived while the previous one ran.
func BenchmarkGroupCommit(b *testing.B) {
	for _, n := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("appenders=%d", n), func(b *testing.B) {
			l, err := Open(b.TempDir(), Options{Sync: SyncAlways})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			data := make([]byte, 100)
			b.SetBytes(100)
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			for g := 0; g < n; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := g; i < b.N; i += n {
						if _, err := l.Append(data); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			reportRecords(b, b.N)
		})
	}
}

var readCounts = []int{1000, 1000000}

// filledLog returns a log holding n records of 100 bytes, appended in
// batches of 10 as a producer that batches lightly would.
func filledLog(b *testing.B, n int, opts Options) *Log {
	b.Helper()
	opts.Sync = SyncNever
	l, err := Open(b.TempDir(), opts)
	if err != nil {
		b.Fatal(err)
	}
	batch := make([][]byte, 0, 10)
	for i := 0; i < n; i++ {
		d := make([]byte, 100)
		d[0] = byte(i)
		batch = append(batch, d)
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := l.AppendBatch(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return l
}

func countName(n int) string {
	if n >= 1000000 {
		return fmt.Sprintf("n=%dM", n/1000000)
	}
	return fmt.Sprintf("n=%dk", n/1000)
}

// benchReads runs read for each record count on a log filled with opts.
func benchReads(b *testing.B, opts Options, read func(b *testing.B, l *Log, n int)) {
	for _, n := range readCounts {
		b.Run(countName(n), func(b *testing.B) {
			if n >= 1000000 && testing.Short() {
				b.Skip("1M records: skipped with -short")
			}
			l := filledLog(b, n, opts)
			defer l.Close()
			b.SetBytes(100)
			b.ReportAllocs()
			b.ResetTimer()
			read(b, l, n)
			reportRecords(b, b.N)
		})
	}
}

// BenchmarkReadSequential streams 100-byte records with a Reader.
func BenchmarkReadSequential(b *testing.B) {
	benchReads(b, Options{}, func(b *testing.B, l *Log, _ int) {
		r := l.NewReader(0)
		for i := 0; i < b.N; i++ {
			rec, err := r.Next()
			if err == io.EOF {
				r.Seek(0)
				rec, err = r.Next()
			}
			if err != nil || len(rec.Data) != 100 {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkReadRandom reads 100-byte records by random offset: each Read
// verifies the record's checksum (default Options), or, with cache=2, is
// served from the in-memory copy of the newest two segments.
func BenchmarkReadRandom(b *testing.B) {
	for _, cache := range []int{0, 2} {
		b.Run(fmt.Sprintf("cache=%d", cache), func(b *testing.B) {
			benchReads(b, Options{ReadCache: cache}, func(b *testing.B, l *Log, n int) {
				rng := rand.New(rand.NewPCG(1, 2))
				for i := 0; i < b.N; i++ {
					if _, err := l.Read(uint64(rng.IntN(n))); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkReadInto is BenchmarkReadRandom (default Options) reading into a
// reused buffer: no allocation.
func BenchmarkReadInto(b *testing.B) {
	benchReads(b, Options{}, func(b *testing.B, l *Log, n int) {
		rng := rand.New(rand.NewPCG(1, 2))
		var buf []byte
		for i := 0; i < b.N; i++ {
			rec, err := l.ReadInto(buf, uint64(rng.IntN(n)))
			if err != nil {
				b.Fatal(err)
			}
			buf = rec.Data
		}
	})
}
