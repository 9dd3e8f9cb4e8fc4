package benchmix

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sysblocks/sysblocks/orderbook"
)

func TestGenerate(t *testing.T) {
	cmds, st := Generate(200_000, 1)
	t.Log(st)
	require.Len(t, cmds, 200_000)
	pct := func(n int) float64 { return 100 * float64(n) / float64(st.Commands) }
	require.InDelta(t, 9, pct(st.GTC), 1.5)
	require.InDelta(t, 3, pct(st.IOC), 0.5)
	require.InDelta(t, 6, pct(st.Cancel), 1)
	require.InDelta(t, 82, pct(st.Move), 2)
	require.InDelta(t, 6, pct(st.Trading), 2)
	require.InDelta(t, Target, st.Resting, 400)
	again, _ := Generate(200_000, 1)
	require.Equal(t, cmds, again, "deterministic")
}

func TestHistogram(t *testing.T) {
	var h Histogram
	require.Zero(t, h.Quantile(0.5))
	for i := int64(1); i <= 10000; i++ {
		h.Record(i)
	}
	require.EqualValues(t, 10000, h.Count())
	for _, q := range []float64{0.5, 0.99, 0.999} {
		got, want := h.Quantile(q), int64(q*10000)
		require.InEpsilon(t, want, got, 0.04, "q=%v", q)
		require.LessOrEqual(t, got, want+1)
	}
	for i := 0; i < 4000; i++ {
		require.LessOrEqual(t, lower(bucket(int64(i)*977)), int64(i)*977)
		require.Equal(t, bucket(int64(i)*977), bucket(lower(bucket(int64(i)*977))))
	}
	h.Record(-5)
	h.Record(1 << 62)
	require.EqualValues(t, int64(1)<<62, h.Quantile(1))
}

func TestReplay(t *testing.T) {
	cmds, st := Generate(50_000, 3)
	b, err := orderbook.New(orderbook.Config{})
	require.NoError(t, err)
	require.Zero(t, Replay(b, cmds, nil))
	require.Equal(t, st.Hash, b.Hash(), "a replay ends in the generator's state")
}

func TestThreadCPU(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	a, ok := ThreadCPU()
	if !ok {
		t.Skip("no per-thread CPU time on this platform")
	}
	x := uint64(1)
	for i := 0; i < 20_000_000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	b, _ := ThreadCPU()
	require.Greater(t, b, a, "spinning uses CPU (x=%d)", x)
}
