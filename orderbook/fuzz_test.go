package orderbook

import (
	"encoding/binary"
	"math"
	"testing"
)

// decodeStream turns fuzz input into a config and a command stream. The
// first byte picks the STP policy, the window and the band; each following
// 8-byte record is one command over a small id space (so cancels, amends and
// duplicates hit) and prices near 1000, with escapes to extreme values.
func decodeStream(data []byte) (Config, []cmd) {
	if len(data) == 0 {
		return Config{}, nil
	}
	h := data[0]
	cfg := Config{STP: STP(h & 3)}
	if h&4 != 0 {
		cfg.Window = 64
	}
	if h&8 != 0 {
		cfg.MinPrice, cfg.MaxPrice = 900, 1100
	}
	data = data[1:]
	var out []cmd
	for len(data) >= 8 {
		r := data[:8]
		data = data[8:]
		id := uint64(r[3] & 31)
		price := 1000 + int64(int16(binary.LittleEndian.Uint16(r[4:])))/64
		qty := int64(binary.LittleEndian.Uint16(r[6:])%200) - 2
		switch r[1] >> 5 {
		case 6:
			price = math.MaxInt64 - int64(r[4]&3)
		case 7:
			qty = math.MaxInt64 - int64(r[6]&3)
		}
		switch r[0] % 3 {
		case 0:
			out = append(out, cmd{op: 0, o: Order{ID: id, Owner: uint64(r[2] & 3), Side: Side(r[1] & 3),
				Kind: Kind(r[1] >> 2 & 1), TIF: TIF(r[2] >> 2 & 3), Price: price, Qty: qty,
				PostOnly: r[1]&16 != 0}})
		case 1:
			out = append(out, cmd{op: 1, id: id})
		default:
			out = append(out, cmd{op: 2, id: id, price: price, qty: qty})
		}
	}
	return cfg, out
}

// FuzzCommands runs fuzzed command streams through a Book and the model and
// requires identical results, trades, errors, depth and order lists.
func FuzzCommands(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 1, 0, 0, 10, 0, 0, 2, 0, 2, 0, 0, 5, 0})
	f.Add([]byte{5, 0, 1, 1, 1, 0, 0, 10, 0, 0, 2, 1, 2, 0, 0, 20, 0, 2, 0, 0, 1, 0, 0, 3, 0})
	f.Add([]byte{15, 0, 0xc1, 1, 1, 0, 0, 10, 0, 0, 0xe2, 2, 2, 0, 0, 20, 0, 1, 0, 0, 1, 0, 0, 0, 0})
	f.Add([]byte{2, 0, 1, 1, 1, 0x40, 0, 10, 0, 0, 1, 1, 2, 0, 0, 20, 0, 0, 6, 1, 3, 0xc0, 0xff, 50, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, cmds := decodeStream(data)
		p := newPair(t, cfg)
		for _, c := range cmds {
			p.do(c)
		}
		p.checkFull()
	})
}
