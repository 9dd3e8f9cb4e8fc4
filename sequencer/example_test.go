package sequencer_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/sysblocks/sysblocks/sequencer"
	"github.com/sysblocks/sysblocks/wal"
)

// Submit commands, run the single-threaded loop, and replay the journal
// after a restart.
func Example() {
	dir, _ := os.MkdirTemp("", "sequencer-example")
	defer os.RemoveAll(dir)
	journal, err := wal.Open(dir, wal.Options{Sync: wal.SyncAlways})
	if err != nil {
		log.Fatal(err)
	}
	defer journal.Close()

	seq, err := sequencer.Open(journal, sequencer.Options{})
	if err != nil {
		log.Fatal(err)
	}
	loop := make(chan error, 1)
	go func() {
		loop <- seq.Run(context.Background(), func(e sequencer.Event) error {
			fmt.Printf("live   #%d from %d/%d: %s\n", e.Seq, e.Source, e.SourceSeq, e.Payload)
			return nil
		})
	}()
	seq.Submit(7, 1, []byte("buy 100 @ 42")) // gateway session 7, its command 1
	// Session 9 has two commands waiting: one call, one journal write.
	batch := [][]byte{[]byte("sell 50 @ 42"), []byte("sell 20 @ 43")}
	seqs, _ := seq.SubmitBatch(9, 1, batch, nil)
	_, err = seq.Submit(7, 1, []byte("resend")) // a resend is not sequenced twice
	seq.Close()
	<-loop // ErrClosed, once every event was delivered
	fmt.Println("batch got", seqs)
	fmt.Println("resend is a duplicate:", errors.Is(err, sequencer.ErrDuplicate))

	// After a restart, Replay feeds the journal to a fresh state machine.
	seq, _ = sequencer.Open(journal, sequencer.Options{})
	seq.Replay(1, func(e sequencer.Event) error {
		fmt.Printf("replay #%d: %s\n", e.Seq, e.Payload)
		return nil
	})
	fmt.Println("last", seq.LastSeq())
	seq.Close()
	// Output:
	// live   #1 from 7/1: buy 100 @ 42
	// live   #2 from 9/1: sell 50 @ 42
	// live   #3 from 9/2: sell 20 @ 43
	// batch got [2 3]
	// resend is a duplicate: true
	// replay #1: buy 100 @ 42
	// replay #2: sell 50 @ 42
	// replay #3: sell 20 @ 43
	// last 3
}

// A two-stage pipeline on a Ring: the first stage enriches each slot in
// place, the second sees only what the first has released.
func ExampleRing() {
	type order struct{ qty, notional int64 }
	ring, _ := sequencer.NewRing[order](8)
	price, _ := ring.NewConsumer()
	report, _ := ring.NewConsumer(price) // depends on the pricing stage

	for _, qty := range []int64{3, 5} {
		ring.Put(order{qty: qty})
	}
	ring.Close()

	price.Consume(context.Background(), func(first uint64, batch []order) error {
		for i := range batch {
			batch[i].notional = batch[i].qty * 42
		}
		return nil
	})
	err := report.Consume(context.Background(), func(first uint64, batch []order) error {
		for i, o := range batch {
			fmt.Printf("#%d qty %d notional %d\n", first+uint64(i), o.qty, o.notional)
		}
		return nil
	})
	fmt.Println(err)
	// Output:
	// #0 qty 3 notional 126
	// #1 qty 5 notional 210
	// sequencer: closed
}

func ExampleWaitStrategy_String() {
	fmt.Println(sequencer.Block, sequencer.Yield, sequencer.BusySpin)
	// Output: block yield busy-spin
}
