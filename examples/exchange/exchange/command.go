package exchange

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"github.com/sysblocks/sysblocks/orderbook"
)

// ErrCommand reports a journal payload that is not a valid command.
var ErrCommand = errors.New("exchange: malformed command")

// Op is the kind of a sequenced command.
type Op uint8

// Commands the gateway sends to the order manager through the sequencer.
const (
	OpPlace  Op = 1 // place a new order
	OpCancel Op = 2 // cancel an open order
)

// Command is one inbound instruction, as the gateway normalised it. It is
// what the journal stores, so it holds everything the state machine needs
// and nothing it must not depend on (no wall-clock time, no session state).
type Command struct {
	Op      Op
	Account uint64
	Symbol  uint16 // index into the exchange's symbol table
	Side    orderbook.Side
	Kind    orderbook.Kind
	TIF     orderbook.TIF
	Price   int64  // ticks (cents); 0 for a market order
	Qty     int64  // shares
	OrderID uint64 // OpCancel: the order to cancel
}

// cmdVersion is the first byte of every encoded command.
const cmdVersion = 1

// AppendCommand appends the binary encoding of c to dst:
//
//	version(1) op(1) account(uvarint) then
//	  place:  symbol(2 LE) side(1) kind(1) tif(1) price(uvarint) qty(uvarint)
//	  cancel: orderID(uvarint)
func AppendCommand(dst []byte, c Command) []byte {
	dst = append(dst, cmdVersion, byte(c.Op))
	dst = binary.AppendUvarint(dst, c.Account)
	switch c.Op {
	case OpPlace:
		dst = binary.LittleEndian.AppendUint16(dst, c.Symbol)
		dst = append(dst, byte(c.Side), byte(c.Kind), byte(c.TIF))
		dst = binary.AppendUvarint(dst, uint64(c.Price))
		dst = binary.AppendUvarint(dst, uint64(c.Qty))
	case OpCancel:
		dst = binary.AppendUvarint(dst, c.OrderID)
	}
	return dst
}

// DecodeCommand decodes a payload written by AppendCommand. The input is
// treated as untrusted: anything malformed is an error wrapping ErrCommand.
// Range checks that depend on the exchange's configuration (symbol count,
// limits) are the order manager's, not the decoder's.
func DecodeCommand(b []byte) (Command, error) {
	var c Command
	if len(b) < 2 || b[0] != cmdVersion {
		return c, fmt.Errorf("%w: bad header", ErrCommand)
	}
	c.Op = Op(b[1])
	b = b[2:]
	var ok bool
	if c.Account, b, ok = uvarint(b); !ok {
		return c, fmt.Errorf("%w: account", ErrCommand)
	}
	switch c.Op {
	case OpPlace:
		if len(b) < 5 {
			return c, fmt.Errorf("%w: short place", ErrCommand)
		}
		c.Symbol = binary.LittleEndian.Uint16(b)
		c.Side, c.Kind, c.TIF = orderbook.Side(b[2]), orderbook.Kind(b[3]), orderbook.TIF(b[4])
		b = b[5:]
		var p, q uint64
		if p, b, ok = uvarint(b); !ok || p > maxPrice {
			return c, fmt.Errorf("%w: price", ErrCommand)
		}
		if q, b, ok = uvarint(b); !ok || q > maxQty {
			return c, fmt.Errorf("%w: quantity", ErrCommand)
		}
		c.Price, c.Qty = int64(p), int64(q)
	case OpCancel:
		if c.OrderID, b, ok = uvarint(b); !ok {
			return c, fmt.Errorf("%w: order id", ErrCommand)
		}
	default:
		return c, fmt.Errorf("%w: unknown op %d", ErrCommand, c.Op)
	}
	if len(b) != 0 {
		return c, fmt.Errorf("%w: %d trailing bytes", ErrCommand, len(b))
	}
	return c, nil
}

// uvarint reads a minimal uvarint, so every command has one encoding.
func uvarint(b []byte) (uint64, []byte, bool) {
	v, n := binary.Uvarint(b)
	if n <= 0 || n != (bits.Len64(v|1)+6)/7 {
		return 0, b, false
	}
	return v, b[n:], true
}
