package e2e

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/sysblocks/sysblocks/examples/exchange/exchange"
	"github.com/sysblocks/sysblocks/wal"
)

func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium installed: CI must install it (apt-get install chromium)")
	}
	t.Skip("no Chromium installed (apt-get install chromium)")
	return ""
}

// TestLivePage drives the page in headless Chromium.
func TestLivePage(t *testing.T) {
	browser := chromium(t)
	start := time.Date(2026, 11, 23, 14, 30, 0, 0, time.UTC)
	began := time.Now()
	x, err := exchange.Open(t.TempDir(), exchange.Options{Sync: wal.SyncNever, Sessions: 32,
		Clock: func() time.Time { return start.Add(time.Since(began) * 600) }})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := exchange.NewServer(x, exchange.ServerOptions{Keys: map[string]uint64{"e2e-key": 1}, DemoKey: "e2e-key"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	simCtx, stopSim := context.WithCancel(context.Background())
	simDone := make(chan error, 1)
	go func() {
		// The simulated traders leave the last 10 symbols alone, so the
		// order placed through the form is the only one on its book.
		_, err := exchange.Simulate(simCtx, x, exchange.SimOptions{Clients: 8, Rate: 1500, Seed: 1, FirstAccount: 2, Symbols: 90})
		simDone <- err
	}()
	t.Cleanup(func() {
		stopSim()
		if err := <-simDone; err != nil && !errors.Is(err, context.Canceled) {
			t.Error(err)
		}
		hs.Close()
		if err := x.Close(); err != nil {
			t.Error(err)
		}
		if err := x.State().Check(); err != nil {
			t.Error(err)
		}
	})

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelCtx()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	// inked counts the canvas's non-background pixels: proof that something was drawn.
	inked := func(id string) string {
		return `(() => { const c = document.getElementById("` + id + `"); const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
			let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })()`
	}
	var depthPixels, candlePixels int
	var levels, candles string
	err = chromedp.Run(ctx,
		chromedp.Navigate(hs.URL+"/"),
		chromedp.WaitVisible("#depth"),
		chromedp.Poll(`Number(document.getElementById("depth").dataset.levels || 0) > 4 &&
			Number(document.getElementById("candles").dataset.candles || 0) >= 3`, nil, chromedp.WithPollingTimeout(30*time.Second)),
		chromedp.Evaluate(inked("depth"), &depthPixels),
		chromedp.Evaluate(inked("candles"), &candlePixels),
		chromedp.AttributeValue("#depth", "data-levels", &levels, nil),
		chromedp.AttributeValue("#candles", "data-candles", &candles, nil),
	)
	if err != nil {
		t.Fatalf("page did not render market data: %v", err)
	}
	t.Logf("AAPL: depth chart %s levels (%d pixels inked), %s candles (%d pixels inked)", levels, depthPixels, candles, candlePixels)
	if depthPixels < 1000 || candlePixels < 1000 {
		t.Fatalf("charts look blank: depth %d, candles %d pixels", depthPixels, candlePixels)
	}

	var ladder, result string
	err = chromedp.Run(ctx,
		chromedp.SetValue("#symbol", "FI"),
		chromedp.Evaluate(`document.getElementById("symbol").dispatchEvent(new Event("change"))`, nil),
		chromedp.Click(`label[for="side-sell"]`),
		chromedp.SetValue("#price", "123.45"),
		chromedp.SetValue("#qty", "777"),
		chromedp.Click("#submit"),
		chromedp.Poll(`document.getElementById("ladder").textContent.includes("123.45")`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Text("#ladder", &ladder),
		chromedp.Text("#result", &result),
	)
	if err != nil {
		t.Fatalf("order through the form did not reach the book: %v", err)
	}
	if !strings.Contains(ladder, "777") || !strings.Contains(result, "new") {
		t.Fatalf("ladder %q, result %q", ladder, result)
	}
	t.Logf("form order: %q; book now: %q", result, ladder)

	// Back to the busy book for the screenshot.
	var png []byte
	err = chromedp.Run(ctx,
		chromedp.SetValue("#symbol", "AAPL"),
		chromedp.Evaluate(`document.getElementById("symbol").dispatchEvent(new Event("change"))`, nil),
		chromedp.Poll(`Number(document.getElementById("depth").dataset.levels || 0) > 4`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.FullScreenshot(&png, 100), // quality 100 gives a PNG
	)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "exchange.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if dst := os.Getenv("E2E_SCREENSHOT"); dst != "" {
		_ = os.WriteFile(dst, png, 0o644)
	}
	t.Logf("screenshot: %s", path)
}
