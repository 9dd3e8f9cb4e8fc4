package wal_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/sysblocks/sysblocks/wal"
)

func Example() {
	dir, _ := os.MkdirTemp("", "wal-example")
	defer os.RemoveAll(dir)
	l, err := wal.Open(dir, wal.Options{}) // SyncAlways: Append returns after fsync
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	l.Append([]byte("hello"))
	first, _ := l.AppendBatch([][]byte{[]byte("a"), []byte("b")}) // one atomic frame
	rec, _ := l.Read(first + 1)
	fmt.Printf("read %d: %s\n", rec.Offset, rec.Data)
	r := l.NewReader(0)
	for rec, err := r.Next(); err == nil; rec, err = r.Next() { // io.EOF at the end
		fmt.Printf("%d=%s\n", rec.Offset, rec.Data)
	}
	go l.Append([]byte("later"))
	if r.Wait(context.Background()) == nil { // long poll, no sleeping
		rec, _ := r.Next()
		fmt.Printf("waited for %d=%s\n", rec.Offset, rec.Data)
	}
	// Output:
	// read 2: b
	// 0=hello
	// 1=a
	// 2=b
	// waited for 3=later
}

// ExampleLog_ReadInto reads records into one reused buffer, from a log that
// keeps its newest segment in memory for reads (Options.ReadCache).
func ExampleLog_ReadInto() {
	dir, _ := os.MkdirTemp("", "wal-example")
	defer os.RemoveAll(dir)
	l, err := wal.Open(dir, wal.Options{Sync: wal.SyncNever, SegmentSize: 1 << 20, ReadCache: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	l.AppendBatch([][]byte{[]byte("x1"), []byte("y22"), []byte("z333")})
	var buf []byte
	for off := uint64(2); ; off-- {
		rec, err := l.ReadInto(buf, off)
		if err != nil {
			log.Fatal(err)
		}
		buf = rec.Data // reused by the next read: no allocation once large enough
		fmt.Printf("%d=%s\n", rec.Offset, rec.Data)
		if off == 0 {
			break
		}
	}
	// Output:
	// 2=z333
	// 1=y22
	// 0=x1
}
