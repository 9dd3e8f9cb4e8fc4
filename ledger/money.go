package ledger

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
)

// ErrAmount reports text that is not an amount at the given scale.
var ErrAmount = errors.New("ledger: invalid amount")

// FormatAmount renders minor units as a decimal with exactly scale fraction digits:
// FormatAmount(12345, 2) == "123.45", FormatAmount(5, 3) == "0.005", FormatAmount(7, 0) == "7".
// Integers only: it never goes through floating point. Cost: O(digits + scale).
func FormatAmount(amount uint64, scale uint8) string {
	return string(AppendAmount(nil, amount, scale))
}

// AppendAmount appends FormatAmount(amount, scale) to dst.
func AppendAmount(dst []byte, amount uint64, scale uint8) []byte {
	var digits [20]byte
	d := strconv.AppendUint(digits[:0], amount, 10)
	if scale == 0 {
		return append(dst, d...)
	}
	s := int(scale)
	if len(d) <= s { // 0.00ddd
		dst = append(dst, '0', '.')
		for range s - len(d) {
			dst = append(dst, '0')
		}
		return append(dst, d...)
	}
	dst = append(dst, d[:len(d)-s]...)
	dst = append(dst, '.')
	return append(dst, d[len(d)-s:]...)
}

// ParseAmount parses a non-negative decimal into minor units at the given scale:
// ParseAmount("123.45", 2) == 12345, ParseAmount("1.5", 2) == 150, ParseAmount("7", 2) == 700.
// The syntax is digits, optionally followed by a point and 1 to scale digits: no sign, spaces,
// exponent or separators. More fraction digits than scale (which would need rounding) and
// values beyond 2^64-1 minor units are errors wrapping ErrAmount. Never uses floating point.
func ParseAmount(s string, scale uint8) (uint64, error) {
	intPart, frac := s, ""
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			intPart, frac = s[:i], s[i+1:]
			if frac == "" {
				return 0, fmt.Errorf("%w: %q: no digits after the point", ErrAmount, s)
			}
			break
		}
	}
	if intPart == "" {
		return 0, fmt.Errorf("%w: %q: no integer digits", ErrAmount, s)
	}
	if len(frac) > int(scale) {
		return 0, fmt.Errorf("%w: %q: more than %d fraction digits", ErrAmount, s, scale)
	}
	var v uint64
	push := func(c byte) error {
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: %q: unexpected %q", ErrAmount, s, c)
		}
		hi, lo := bits.Mul64(v, 10)
		lo, carry := bits.Add64(lo, uint64(c-'0'), 0)
		if hi != 0 || carry != 0 {
			return fmt.Errorf("%w: %q: exceeds 2^64-1 minor units at scale %d", ErrAmount, s, scale)
		}
		v = lo
		return nil
	}
	for i := 0; i < len(intPart); i++ {
		if err := push(intPart[i]); err != nil {
			return 0, err
		}
	}
	for i := 0; i < int(scale); i++ {
		c := byte('0')
		if i < len(frac) {
			c = frac[i]
		}
		if err := push(c); err != nil {
			return 0, err
		}
	}
	return v, nil
}
