package sequencer

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sysblocks/sysblocks/internal/testseed"
	"github.com/sysblocks/sysblocks/orderbook"
	"github.com/sysblocks/sysblocks/wal"
)

// Order commands as payloads: op byte, then uvarints.
const (
	opSubmit = iota
	opCancel
	opAmend
)

func encodeSubmit(o orderbook.Order) []byte {
	b := []byte{opSubmit, byte(o.Side), byte(o.Kind), byte(o.TIF)}
	if o.PostOnly {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	for _, v := range []uint64{o.ID, o.Owner, uint64(o.Price), uint64(o.Qty)} {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

func encodeAmend(op byte, id uint64, price, qty int64) []byte {
	b := binary.AppendUvarint([]byte{op}, id)
	if op == opAmend {
		b = binary.AppendUvarint(b, uint64(price))
		b = binary.AppendUvarint(b, uint64(qty))
	}
	return b
}

func uvarints(b []byte, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		v, k := binary.Uvarint(b)
		out[i], b = v, b[k:]
	}
	return out
}

// bookApp is the business logic of the loop: a book plus the log of what it
// produced, to compare runs beyond the final state.
type bookApp struct {
	book    *orderbook.Book
	trades  []orderbook.Trade
	rejects []uint64 // sequences of commands the book refused
	lastSeq uint64
}

func newBookApp(t testing.TB) *bookApp {
	b, err := orderbook.New(orderbook.Config{STP: orderbook.CancelResting})
	require.NoError(t, err)
	return &bookApp{book: b}
}

func (a *bookApp) apply(e Event) error {
	if e.Seq != a.lastSeq+1 {
		return errors.New("sequence gap")
	}
	a.lastSeq = e.Seq
	var err error
	p := e.Payload
	switch p[0] {
	case opSubmit:
		v := uvarints(p[5:], 4)
		o := orderbook.Order{ID: v[0], Owner: v[1], Side: orderbook.Side(p[1]), Kind: orderbook.Kind(p[2]),
			TIF: orderbook.TIF(p[3]), PostOnly: p[4] == 1, Price: int64(v[2]), Qty: int64(v[3])}
		var r orderbook.Result
		r, err = a.book.Submit(o, a.trades)
		a.trades = r.Trades
	case opCancel:
		_, err = a.book.Cancel(uvarints(p[1:], 1)[0])
	case opAmend:
		v := uvarints(p[1:], 3)
		var r orderbook.Result
		r, err = a.book.Amend(v[0], int64(v[1]), int64(v[2]), a.trades)
		a.trades = r.Trades
	}
	if err != nil {
		a.rejects = append(a.rejects, e.Seq)
	}
	return nil
}

// orderStream returns producer p's commands: orders around a price of 1000,
// all kinds and times in force, and cancels and amends of its own orders
// (some of which will have traded away: the book then refuses them, which
// must replay the same way too).
func orderStream(rng *rand.Rand, p, n int) [][]byte {
	var out [][]byte
	var ids []uint64
	for i := range n {
		switch k := rng.IntN(10); {
		case k < 6 || len(ids) == 0:
			id := uint64(p)<<32 | uint64(i+1)
			o := orderbook.Order{ID: id, Owner: uint64(rng.IntN(5) + 1), Side: orderbook.Side(1 + rng.IntN(2)),
				Price: 990 + int64(rng.IntN(21)), Qty: 1 + int64(rng.IntN(50))}
			switch rng.IntN(10) {
			case 0:
				o.Kind = orderbook.Market
				o.TIF = orderbook.IOC
			case 1:
				o.TIF = orderbook.IOC
			case 2:
				o.TIF = orderbook.FOK
			case 3:
				o.PostOnly = true
			}
			ids = append(ids, id)
			out = append(out, encodeSubmit(o))
		case k < 8:
			out = append(out, encodeAmend(opCancel, ids[rng.IntN(len(ids))], 0, 0))
		default:
			out = append(out, encodeAmend(opAmend, ids[rng.IntN(len(ids))], 990+int64(rng.IntN(21)), int64(rng.IntN(50))))
		}
	}
	return out
}

// TestDeterministicReplay feeds a sequenced order stream from concurrent
// producers live into one book, restarts, rebuilds a second book by Replay
// (same Hash as the live one), lets it carry on live, and finally replays the
// whole journal into a third book: same Hash, same trades, same refusals.
func TestDeterministicReplay(t *testing.T) {
	seed := testseed.Seed(t)
	producers, each := 4, 400
	if testseed.Long() {
		producers, each = 8, 20000
	}
	streams := make([][][]byte, producers)
	for p := range streams {
		streams[p] = orderStream(rand.New(rand.NewPCG(seed, uint64(p))), p, each)
	}
	submit := func(s *Sequencer, lo, hi int) {
		var wg sync.WaitGroup
		for p := range producers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := lo; i < hi; i++ {
					if _, err := s.Submit(uint64(p), uint64(i+1), streams[p][i]); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}

	dir := t.TempDir()
	j := openJournal(t, dir, wal.SyncNever)
	s := openSeq(t, j, Options{})
	live := newBookApp(t)
	run := startRun(s, live.apply)
	submit(s, 0, each/2)
	require.NoError(t, s.Close())
	require.ErrorIs(t, run.wait(), ErrClosed)
	require.NoError(t, j.Close())
	require.Equal(t, uint64(producers*each/2), live.lastSeq)

	j = openJournal(t, dir, wal.SyncNever)
	s = openSeq(t, j, Options{})
	recovered := newBookApp(t)
	require.NoError(t, s.Replay(1, recovered.apply))
	require.Equal(t, live.book.Hash(), recovered.book.Hash(), "the replayed book reaches the live state")
	require.Equal(t, live.trades, recovered.trades)
	require.Equal(t, live.rejects, recovered.rejects)

	run = startRun(s, recovered.apply)
	submit(s, each/2, each)
	require.NoError(t, s.Close())
	require.ErrorIs(t, run.wait(), ErrClosed)
	require.Equal(t, uint64(producers*each), recovered.lastSeq)

	replayed := newBookApp(t)
	require.NoError(t, s.Replay(0, replayed.apply))
	require.Equal(t, recovered.book.Hash(), replayed.book.Hash())
	require.Equal(t, recovered.trades, replayed.trades)
	require.Equal(t, recovered.rejects, replayed.rejects)
	require.NotEmpty(t, replayed.trades, "the stream trades")
	require.NotZero(t, replayed.book.Len(), "orders rest")
	t.Logf("%d events, %d trades, %d refused, %d resting", replayed.lastSeq, len(replayed.trades), len(replayed.rejects), replayed.book.Len())
}
