package orderbook

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Snapshot format, version 1 (all integers little-endian):
//
//	offset size  field
//	0      4     magic "SBOB"
//	4      2     version (1)
//	6      1     STP policy
//	7      1     reserved (0)
//	8      8     MinPrice
//	16     8     MaxPrice
//	24     4     Window
//	28     8     number of orders n
//	36     50*n  orders, bids then asks, each side in priority order:
//	             id u64, owner u64, side u8, post-only u8, price i64,
//	             qty i64 (as last asked), open qty i64
//	36+50n 4     CRC-32C of all preceding bytes
//
// A snapshot is self-delimiting: Restore reads exactly its bytes, so
// snapshots can be concatenated in one stream (Engine does).
const (
	snapMagic   = "SBOB"
	snapVersion = 1
	snapHeader  = 36
	snapOrder   = 50
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Snapshot writes the book's state (configuration except the Listener, and
// every resting order in priority order) to w in a versioned, checksummed
// binary format. O(orders). The book must not be modified meanwhile.
func (b *Book) Snapshot(w io.Writer) error {
	crc := crc32.New(castagnoli)
	mw := io.MultiWriter(w, crc)
	var hdr [snapHeader]byte
	copy(hdr[:], snapMagic)
	binary.LittleEndian.PutUint16(hdr[4:], snapVersion)
	hdr[6] = byte(b.cfg.STP)
	binary.LittleEndian.PutUint64(hdr[8:], uint64(b.cfg.MinPrice))
	binary.LittleEndian.PutUint64(hdr[16:], uint64(b.cfg.MaxPrice))
	binary.LittleEndian.PutUint32(hdr[24:], uint32(b.cfg.Window))
	binary.LittleEndian.PutUint64(hdr[28:], uint64(b.n))
	if _, err := mw.Write(hdr[:]); err != nil {
		return fmt.Errorf("orderbook: snapshot: %w", err)
	}
	buf := make([]byte, 0, 64*1024)
	for _, l := range [2]*ladder{b.bids, b.asks} {
		for li := l.best; li != 0; {
			lv := &b.levels[li]
			for oi := lv.head; oi != 0; oi = b.orders[oi].next {
				o := &b.orders[oi]
				var rec [snapOrder]byte
				binary.LittleEndian.PutUint64(rec[0:], o.id)
				binary.LittleEndian.PutUint64(rec[8:], o.owner)
				rec[16] = byte(o.side)
				if o.postOnly {
					rec[17] = 1
				}
				binary.LittleEndian.PutUint64(rec[18:], uint64(o.price))
				binary.LittleEndian.PutUint64(rec[26:], uint64(o.qty))
				binary.LittleEndian.PutUint64(rec[34:], uint64(o.rem))
				buf = append(buf, rec[:]...)
				if len(buf) > cap(buf)-snapOrder {
					if _, err := mw.Write(buf); err != nil {
						return fmt.Errorf("orderbook: snapshot: %w", err)
					}
					buf = buf[:0]
				}
			}
			li, _ = l.next(lv.price)
		}
	}
	buf = binary.LittleEndian.AppendUint32(buf, 0) // room for the CRC
	if _, err := mw.Write(buf[:len(buf)-4]); err != nil {
		return fmt.Errorf("orderbook: snapshot: %w", err)
	}
	binary.LittleEndian.PutUint32(buf[len(buf)-4:], crc.Sum32())
	if _, err := w.Write(buf[len(buf)-4:]); err != nil {
		return fmt.Errorf("orderbook: snapshot: %w", err)
	}
	return nil
}

// Restore reads a snapshot written by Snapshot and returns the book, which
// has the same Hash and behaves identically to the one snapshotted. l
// becomes the book's Listener (it is not called during the restore). Any
// damage (bad magic, unknown version, checksum mismatch, truncation, or
// contents that no book could have, such as a duplicate id or a crossed
// book) is an error wrapping ErrCorrupt; a read error is returned wrapped.
// Restore reads exactly the snapshot's bytes from r. O(orders).
func Restore(r io.Reader, l Listener) (*Book, error) {
	crc := crc32.New(castagnoli)
	var hdr [snapHeader]byte
	if err := readFull(r, hdr[:], "header"); err != nil {
		return nil, err
	}
	_, _ = crc.Write(hdr[:])
	if string(hdr[:4]) != snapMagic {
		return nil, fmt.Errorf("%w: bad magic %q", ErrCorrupt, hdr[:4])
	}
	if v := binary.LittleEndian.Uint16(hdr[4:]); v != snapVersion {
		return nil, fmt.Errorf("%w: unsupported version %d", ErrCorrupt, v)
	}
	if hdr[7] != 0 {
		return nil, fmt.Errorf("%w: reserved byte %d", ErrCorrupt, hdr[7])
	}
	cfg := Config{
		STP:      STP(hdr[6]),
		MinPrice: int64(binary.LittleEndian.Uint64(hdr[8:])),
		MaxPrice: int64(binary.LittleEndian.Uint64(hdr[16:])),
		Window:   int(binary.LittleEndian.Uint32(hdr[24:])),
	}
	if cfg.Window == 0 {
		return nil, fmt.Errorf("%w: window 0", ErrCorrupt)
	}
	cfg, err := cfg.validate()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	n := binary.LittleEndian.Uint64(hdr[28:])
	if n > 1<<40 {
		return nil, fmt.Errorf("%w: %d orders", ErrCorrupt, n)
	}
	b := newBook(cfg)
	chunk := make([]byte, 0, min(n, 1024)*snapOrder)
	prevSide, prevPrice := Buy, int64(0)
	for left := n; left > 0; {
		m := min(left, 1024)
		chunk = chunk[:m*snapOrder]
		if err := readFull(r, chunk, "orders"); err != nil {
			return nil, err
		}
		_, _ = crc.Write(chunk)
		for rec := chunk; len(rec) > 0; rec = rec[snapOrder:] {
			o := order{
				id:       binary.LittleEndian.Uint64(rec[0:]),
				owner:    binary.LittleEndian.Uint64(rec[8:]),
				side:     Side(rec[16]),
				postOnly: rec[17] == 1,
				price:    int64(binary.LittleEndian.Uint64(rec[18:])),
				qty:      int64(binary.LittleEndian.Uint64(rec[26:])),
				rem:      int64(binary.LittleEndian.Uint64(rec[34:])),
			}
			if err := b.checkRestored(&o, rec[17], prevSide, prevPrice); err != nil {
				return nil, err
			}
			prevSide, prevPrice = o.side, o.price
			oi := b.allocOrder()
			b.orders[oi] = o
			b.ids.put(o.id, oi)
			b.n++
			b.rest(oi)
		}
		left -= m
	}
	var sum [4]byte
	if err := readFull(r, sum[:], "checksum"); err != nil {
		return nil, err
	}
	if got, want := binary.LittleEndian.Uint32(sum[:]), crc.Sum32(); got != want {
		return nil, fmt.Errorf("%w: checksum %08x, computed %08x", ErrCorrupt, got, want)
	}
	if b.bids.best != 0 && b.asks.best != 0 && b.bids.bestPrice >= b.asks.bestPrice {
		return nil, fmt.Errorf("%w: crossed book (bid %d, ask %d)", ErrCorrupt, b.bids.bestPrice, b.asks.bestPrice)
	}
	b.lis = l
	b.cfg.Listener = l
	return b, nil
}

// checkRestored validates one order record of a snapshot against the book
// built so far and the previous record (records come bids first, each side
// in priority order).
func (b *Book) checkRestored(o *order, postOnly byte, prevSide Side, prevPrice int64) error {
	switch {
	case o.id == 0:
		return fmt.Errorf("%w: order id 0", ErrCorrupt)
	case o.side != Buy && o.side != Sell:
		return fmt.Errorf("%w: order %d: side %d", ErrCorrupt, o.id, o.side)
	case postOnly > 1:
		return fmt.Errorf("%w: order %d: post-only byte %d", ErrCorrupt, o.id, postOnly)
	case !b.cfg.inBand(o.price):
		return fmt.Errorf("%w: order %d: price %d", ErrCorrupt, o.id, o.price)
	case o.rem <= 0 || o.rem > o.qty:
		return fmt.Errorf("%w: order %d: open qty %d of %d", ErrCorrupt, o.id, o.rem, o.qty)
	case b.ids.get(o.id) != 0:
		return fmt.Errorf("%w: duplicate order id %d", ErrCorrupt, o.id)
	case o.side < prevSide,
		o.side == prevSide && prevPrice != 0 && o.side == Buy && o.price > prevPrice,
		o.side == prevSide && prevPrice != 0 && o.side == Sell && o.price < prevPrice:
		return fmt.Errorf("%w: order %d out of priority order", ErrCorrupt, o.id)
	case !b.fits(o.side, o.price, o.rem, 0):
		return fmt.Errorf("%w: order %d: level %d quantity overflows", ErrCorrupt, o.id, o.price)
	}
	return nil
}

func readFull(r io.Reader, p []byte, what string) error {
	if _, err := io.ReadFull(r, p); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: truncated %s", ErrCorrupt, what)
		}
		return fmt.Errorf("orderbook: restore: reading %s: %w", what, err)
	}
	return nil
}
