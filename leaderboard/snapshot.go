package leaderboard

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
)

// Snapshot format, version 1, all integers little-endian:
//
//	magic   "SBLB"
//	version u8 (1)
//	order   u8 (0: ByMember, 1: ByArrival)
//	seq     u64  arrival counter (ByArrival), else 0
//	count   u64  number of entries
//	entries count times, in ascending board order (lowest first):
//	    score u64  order-preserving score encoding
//	    tie   u64  ByArrival only: ^arrival sequence
//	    len   uvarint, then len member bytes
//	crc     u32  CRC-32C of every byte before it
const (
	snapMagic   = "SBLB"
	snapVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteTo writes a snapshot of b to w and returns the bytes written. Writers
// wait while it runs (it holds the read lock); cost O(n).
func (b *Board) WriteTo(w io.Writer) (int64, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	cw := &countWriter{w: w}
	bw := bufio.NewWriterSize(cw, 1<<16)
	crc := crc32.New(castagnoli)
	out := io.MultiWriter(bw, crc)
	var buf [8 + 8 + binary.MaxVarintLen64]byte
	hdr := append([]byte(snapMagic), snapVersion, 0)
	if b.arrival {
		hdr[5] = 1
		hdr = binary.LittleEndian.AppendUint64(hdr, b.seq.Load())
	} else {
		hdr = binary.LittleEndian.AppendUint64(hdr, 0)
	}
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(b.tr.n))
	if _, err := out.Write(hdr); err != nil {
		return cw.n, err
	}
	for node := b.tr.first; node != nilNode && b.tr.n > 0; {
		lf := b.tr.leaves.at(node)
		for i := 0; i < lf.n; i++ {
			p := binary.LittleEndian.AppendUint64(buf[:0], lf.s[i])
			if b.arrival {
				p = binary.LittleEndian.AppendUint64(p, lf.t[i])
			}
			m := b.ms.bytes(b.ms.ents.at(lf.id[i]))
			p = binary.AppendUvarint(p, uint64(len(m)))
			if _, err := out.Write(p); err != nil {
				return cw.n, err
			}
			if _, err := out.Write(m); err != nil {
				return cw.n, err
			}
		}
		node = lf.next
	}
	if _, err := bw.Write(binary.LittleEndian.AppendUint32(buf[:0], crc.Sum32())); err != nil {
		return cw.n, err
	}
	err := bw.Flush()
	return cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// snapReader reads a snapshot while hashing what it reads.
type snapReader struct {
	r   *bufio.Reader
	crc hash.Hash32
	buf []byte
	one [1]byte
}

func (s *snapReader) read(n int) ([]byte, error) {
	// Grow with the data actually present, so a corrupt length cannot
	// make Load allocate more than the input holds.
	s.buf = s.buf[:0]
	for len(s.buf) < n {
		k := min(n-len(s.buf), 1<<16)
		start := len(s.buf)
		s.buf = append(s.buf, make([]byte, k)...)
		if _, err := io.ReadFull(s.r, s.buf[start:]); err != nil {
			return nil, truncated(err)
		}
	}
	s.crc.Write(s.buf)
	return s.buf, nil
}

func (s *snapReader) u64() (uint64, error) {
	p, err := s.read(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(p), nil
}

func (s *snapReader) uvarint() (uint64, error) {
	var v uint64
	for shift := 0; ; shift += 7 {
		c, err := s.r.ReadByte()
		if err != nil {
			return 0, truncated(err)
		}
		s.one[0] = c
		s.crc.Write(s.one[:])
		if shift == 63 && c > 1 || shift > 63 {
			return 0, fmt.Errorf("%w: varint overflow", ErrCorrupt)
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, nil
		}
	}
}

func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated", ErrCorrupt)
	}
	return err
}

// Load reads a snapshot written by WriteTo and returns the board it holds.
// It verifies the checksum, the order of the entries and the scores, and
// returns ErrCorrupt or ErrVersion (wrapped) instead of a partial board.
// Load may read ahead of the snapshot's end when r is not a *bufio.Reader.
// Cost O(n log n).
func Load(r io.Reader) (*Board, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	s := &snapReader{r: br, crc: crc32.New(castagnoli)}
	hdr, err := s.read(6)
	if err != nil {
		return nil, err
	}
	if string(hdr[:4]) != snapMagic {
		return nil, fmt.Errorf("%w: bad magic %q", ErrCorrupt, hdr[:4])
	}
	if hdr[4] != snapVersion {
		return nil, fmt.Errorf("%w: %d", ErrVersion, hdr[4])
	}
	if hdr[5] > uint8(ByArrival) {
		return nil, fmt.Errorf("%w: tie-break %d", ErrCorrupt, hdr[5])
	}
	b, _ := NewWithOptions(Options{TieBreak: TieBreak(hdr[5])})
	seq, err := s.u64()
	if err != nil {
		return nil, err
	}
	b.seq.Store(seq)
	count, err := s.u64()
	if err != nil {
		return nil, err
	}
	var prev key
	for i := uint64(0); i < count; i++ {
		var k key
		if k.s, err = s.u64(); err != nil {
			return nil, err
		}
		if math.IsNaN(decode(k.s)) || k.s == encode(math.Copysign(0, -1))-1 {
			return nil, fmt.Errorf("%w: entry %d: bad score", ErrCorrupt, i)
		}
		if b.arrival {
			if k.t, err = s.u64(); err != nil {
				return nil, err
			}
			if ^k.t > seq || k.t == ^uint64(0) {
				return nil, fmt.Errorf("%w: entry %d: arrival beyond counter", ErrCorrupt, i)
			}
		}
		n, err := s.uvarint()
		if err != nil {
			return nil, err
		}
		if n > MaxMemberLen {
			return nil, fmt.Errorf("%w: entry %d: member of %d bytes", ErrCorrupt, i, n)
		}
		m, err := s.read(int(n))
		if err != nil {
			return nil, err
		}
		k.m = view(m) // until add copies it; prev.m below is the arena copy
		if !b.arrival {
			k.t = memberKey(k.m)
		}
		if i > 0 && !b.after(&k, &prev) {
			return nil, fmt.Errorf("%w: entry %d out of order", ErrCorrupt, i)
		}
		h := hashOf(k.m)
		if _, dup := b.ms.findHash(k.m, h); dup {
			return nil, fmt.Errorf("%w: entry %d: duplicate member", ErrCorrupt, i)
		}
		var ok bool
		if k.id, ok = b.ms.add(k.m, h); !ok {
			return nil, fmt.Errorf("%w: entry %d", ErrFull, i)
		}
		e := b.ms.ents.at(k.id)
		e.s, e.t = k.s, k.t
		k.m = b.ms.member(k.id)
		b.tr.insert(&k)
		prev = k
	}
	want := s.crc.Sum32()
	p, err := s.read(4)
	if err != nil {
		return nil, err
	}
	if got := binary.LittleEndian.Uint32(p); got != want {
		return nil, fmt.Errorf("%w: checksum %08x, want %08x", ErrCorrupt, got, want)
	}
	return b, nil
}

// after reports whether k sorts strictly after prev.
func (b *Board) after(k, prev *key) bool {
	switch {
	case k.s != prev.s:
		return k.s > prev.s
	case k.t != prev.t:
		return k.t > prev.t
	case b.arrival:
		return false
	}
	return k.m > prev.m
}
