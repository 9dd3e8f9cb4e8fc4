package orderbook

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"slices"

	"github.com/cespare/xxhash/v2"
)

// Engine is a matching engine for many instruments: one Book per symbol,
// with commands routed by symbol. The zero value is not usable; call
// NewEngine.
//
// Routing costs one map lookup of the symbol on top of the Book's cost.
// Like Book, an Engine is not safe for concurrent use: drive it from one
// goroutine (or give each goroutine its own Books).
type Engine struct {
	books   map[string]*Book
	symbols []string // sorted, for deterministic Hash and Snapshot
}

// NewEngine returns an Engine without books.
func NewEngine() *Engine {
	return &Engine{books: make(map[string]*Book)}
}

// maxSymbol is the longest symbol an Engine accepts (it is stored with a
// 1-byte length in snapshots).
const maxSymbol = 255

// Add creates the book for symbol with cfg (whose Listener, if any,
// receives only this symbol's market data) and returns it. An empty or
// too long symbol is ErrInvalidConfig; an existing one ErrDuplicateSymbol.
// O(symbols) (it keeps the symbol list sorted).
func (e *Engine) Add(symbol string, cfg Config) (*Book, error) {
	if symbol == "" || len(symbol) > maxSymbol {
		return nil, fmt.Errorf("%w: symbol %q", ErrInvalidConfig, symbol)
	}
	if _, ok := e.books[symbol]; ok {
		return nil, fmt.Errorf("%w: %q", ErrDuplicateSymbol, symbol)
	}
	b, err := New(cfg)
	if err != nil {
		return nil, fmt.Errorf("symbol %q: %w", symbol, err)
	}
	e.put(symbol, b)
	return b, nil
}

func (e *Engine) put(symbol string, b *Book) {
	e.books[symbol] = b
	i, _ := slices.BinarySearch(e.symbols, symbol)
	e.symbols = slices.Insert(e.symbols, i, symbol)
}

// Book returns the book of symbol, or nil.
func (e *Engine) Book(symbol string) *Book { return e.books[symbol] }

// Symbols returns the symbols in ascending order (a copy).
func (e *Engine) Symbols() []string { return slices.Clone(e.symbols) }

func (e *Engine) book(symbol string) (*Book, error) {
	b, ok := e.books[symbol]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownSymbol, symbol)
	}
	return b, nil
}

// Submit routes to the symbol's Book.Submit; an unknown symbol is
// ErrUnknownSymbol.
func (e *Engine) Submit(symbol string, o Order, dst []Trade) (Result, error) {
	b, err := e.book(symbol)
	if err != nil {
		return Result{Trades: dst}, err
	}
	return b.Submit(o, dst)
}

// Cancel routes to the symbol's Book.Cancel.
func (e *Engine) Cancel(symbol string, id uint64) (int64, error) {
	b, err := e.book(symbol)
	if err != nil {
		return 0, err
	}
	return b.Cancel(id)
}

// Amend routes to the symbol's Book.Amend.
func (e *Engine) Amend(symbol string, id uint64, price, qty int64, dst []Trade) (Result, error) {
	b, err := e.book(symbol)
	if err != nil {
		return Result{Trades: dst}, err
	}
	return b.Amend(id, price, qty, dst)
}

// Hash combines every book's Hash with its symbol, in symbol order.
// O(orders).
func (e *Engine) Hash() uint64 {
	var d xxhash.Digest
	d.Reset()
	var buf [8]byte
	for _, s := range e.symbols {
		binary.LittleEndian.PutUint64(buf[:], uint64(len(s)))
		_, _ = d.Write(buf[:])
		_, _ = d.WriteString(s)
		binary.LittleEndian.PutUint64(buf[:], e.books[s].Hash())
		_, _ = d.Write(buf[:])
	}
	return d.Sum64()
}

// Engine snapshot format, version 1: magic "SBOE", version u16, number of
// books u32, then per book (in symbol order) the symbol's length u8, the
// symbol and the book's snapshot (see Book.Snapshot), then a CRC-32C of
// everything before it.
const (
	engineMagic   = "SBOE"
	engineVersion = 1
)

// Snapshot writes every book to w (see Book.Snapshot). O(orders).
func (e *Engine) Snapshot(w io.Writer) error {
	crc := crc32.New(castagnoli)
	mw := io.MultiWriter(w, crc)
	hdr := make([]byte, 0, 10)
	hdr = append(hdr, engineMagic...)
	hdr = binary.LittleEndian.AppendUint16(hdr, engineVersion)
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(len(e.symbols)))
	if _, err := mw.Write(hdr); err != nil {
		return fmt.Errorf("orderbook: engine snapshot: %w", err)
	}
	for _, s := range e.symbols {
		if _, err := mw.Write(append([]byte{byte(len(s))}, s...)); err != nil {
			return fmt.Errorf("orderbook: engine snapshot: %w", err)
		}
		if err := e.books[s].Snapshot(mw); err != nil {
			return fmt.Errorf("symbol %q: %w", s, err)
		}
	}
	if _, err := w.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32())); err != nil {
		return fmt.Errorf("orderbook: engine snapshot: %w", err)
	}
	return nil
}

// RestoreEngine reads a snapshot written by Engine.Snapshot. listener, if
// not nil, gives each symbol's book its Listener. Damage is an error
// wrapping ErrCorrupt. O(orders).
func RestoreEngine(r io.Reader, listener func(symbol string) Listener) (*Engine, error) {
	crc := crc32.New(castagnoli)
	tr := io.TeeReader(r, crc)
	var hdr [10]byte
	if err := readFull(tr, hdr[:], "engine header"); err != nil {
		return nil, err
	}
	if string(hdr[:4]) != engineMagic {
		return nil, fmt.Errorf("%w: bad engine magic %q", ErrCorrupt, hdr[:4])
	}
	if v := binary.LittleEndian.Uint16(hdr[4:]); v != engineVersion {
		return nil, fmt.Errorf("%w: unsupported engine version %d", ErrCorrupt, v)
	}
	n := binary.LittleEndian.Uint32(hdr[6:])
	e := NewEngine()
	var name [1 + maxSymbol]byte
	prev := ""
	for i := uint32(0); i < n; i++ {
		if err := readFull(tr, name[:1], "symbol"); err != nil {
			return nil, err
		}
		sym := name[1 : 1+int(name[0])]
		if err := readFull(tr, sym, "symbol"); err != nil {
			return nil, err
		}
		s := string(sym)
		if s == "" || (i > 0 && s <= prev) {
			return nil, fmt.Errorf("%w: symbol %q after %q", ErrCorrupt, s, prev)
		}
		var l Listener
		if listener != nil {
			l = listener(s)
		}
		b, err := Restore(tr, l)
		if err != nil {
			return nil, fmt.Errorf("symbol %q: %w", s, err)
		}
		e.put(s, b)
		prev = s
	}
	want := crc.Sum32()
	var sum [4]byte
	if err := readFull(r, sum[:], "engine checksum"); err != nil {
		return nil, err
	}
	if got := binary.LittleEndian.Uint32(sum[:]); got != want {
		return nil, fmt.Errorf("%w: engine checksum %08x, computed %08x", ErrCorrupt, got, want)
	}
	return e, nil
}
