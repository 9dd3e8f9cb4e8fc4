package ledger

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFormatAmount(t *testing.T) {
	tests := []struct {
		amount uint64
		scale  uint8
		want   string
	}{
		{0, 0, "0"},
		{0, 2, "0.00"},
		{1, 2, "0.01"},
		{100, 2, "1.00"},
		{12345, 2, "123.45"},
		{12345, 5, "0.12345"},
		{12345, 7, "0.0012345"},
		{math.MaxUint64, 0, "18446744073709551615"},
		{math.MaxUint64, 2, "184467440737095516.15"},
		{math.MaxUint64, 20, "0.18446744073709551615"},
		{1, 25, "0." + strings.Repeat("0", 24) + "1"},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, FormatAmount(tc.amount, tc.scale))
		got, err := ParseAmount(tc.want, tc.scale)
		require.NoError(t, err)
		require.Equal(t, tc.amount, got)
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		give    string
		scale   uint8
		want    uint64
		wantErr bool
	}{
		{"7", 2, 700, false},
		{"1.5", 2, 150, false},
		{"007.50", 2, 750, false},
		{"184467440737095516.15", 2, math.MaxUint64, false},
		{"184467440737095516.16", 2, 0, true}, // one past the maximum
		{"18446744073709551616", 0, 0, true},
		{"1", 20, 0, true}, // 10^20 minor units
		{"", 2, 0, true},
		{".5", 2, 0, true},
		{"5.", 2, 0, true},
		{"-1", 2, 0, true},
		{"+1", 2, 0, true},
		{"1.234", 2, 0, true}, // would need rounding
		{"1e3", 0, 0, true},
		{"1,000", 0, 0, true},
		{" 1", 0, 0, true},
		{"1.2.3", 2, 0, true},
		{"1.5", 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.give, func(t *testing.T) {
			got, err := ParseAmount(tc.give, tc.scale)
			if tc.wantErr {
				require.ErrorIs(t, err, ErrAmount)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
