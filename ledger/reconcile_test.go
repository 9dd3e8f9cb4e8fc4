package ledger

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReconcile(t *testing.T) {
	transfers := []Transfer{
		tr(1, bank, bob, 100, 0),
		tr(2, bank, bob, 50, Pending),
		tr(3, bank, bob, 50, 0),
		tr(4, bank, bob, 70, 0),
		tr(5, bank, bob, 9, 0),
	}
	file := `id,amount,ledger,status
1,100,10,posted
2,50,10,POSTED
# a comment
3,51,10,posted
4, 70, 11, voided
6,1,10,posted
`
	rep, err := Reconcile(transfers, strings.NewReader(file))
	require.NoError(t, err)
	require.Equal(t, []uint64{1}, rep.Matched)
	require.Len(t, rep.Mismatches, 3)
	require.Equal(t, StatusDiffers, rep.Mismatches[0].Differences)
	require.Equal(t, AmountDiffers, rep.Mismatches[1].Differences)
	require.Equal(t, LedgerDiffers|StatusDiffers, rep.Mismatches[2].Differences)
	require.Equal(t, 6, rep.Mismatches[2].Settlement.Line)
	require.Equal(t, []SettlementRecord{{Line: 7, ID: 6, Amount: 1, Ledger: 10, Status: StatusPosted}}, rep.MissingInLedger)
	require.Len(t, rep.MissingInSettlement, 1)
	require.Equal(t, uint64(5), rep.MissingInSettlement[0].ID)
	require.False(t, rep.Balanced())

	rep, err = Reconcile(transfers[:1], strings.NewReader("1,100,10,posted\n"))
	require.NoError(t, err)
	require.True(t, rep.Balanced())
}

func TestReconcileErrors(t *testing.T) {
	tests := []struct {
		name, file, wantMsg string
	}{
		{"fields", "1,100,10,posted\n2,100,10\n", "line 2"},
		{"id", "x,100,10,posted\n", "line 1: id"},
		{"zero id", "0,100,10,posted\n", "line 1: id"},
		{"amount", "1,-5,10,posted\n", "line 1: amount"},
		{"decimal amount", "1,1.50,10,posted\n", "line 1: amount"},
		{"ledger", "1,5,99999999999,posted\n", "line 1: ledger"},
		{"status", "1,5,10,settled\n", "line 1: status"},
		{"duplicate", "1,5,10,posted\n\n1,5,10,posted\n", "line 3: id 1 already on line 1"},
		{"quote", "1,\"5,10,posted\n", "line 1"},
		{"header later", "1,5,10,posted\nid,amount,ledger,status\n", "line 2: id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Reconcile(nil, strings.NewReader(tc.file))
			require.ErrorIs(t, err, ErrMalformed)
			require.Contains(t, err.Error(), tc.wantMsg)
		})
	}
	_, err := Reconcile([]Transfer{tr(1, bank, bob, 1, 0), tr(1, bank, bob, 1, 0)}, strings.NewReader(""))
	require.ErrorIs(t, err, ErrDuplicateTransfer)
}
