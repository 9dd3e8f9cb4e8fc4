// Package e2e holds the browser test of the exchange's live page: headless
// Chromium, driven by github.com/chromedp/chromedp, loads the page served by
// an in-process exchange with simulated traders, checks that the depth chart
// and the candles render, places an order through the form and waits for the
// book to show it. It is a separate module so that the library's go.mod
// stays free of chromedp. Run it with `cd e2e && go test ./...`; it needs
// Chromium (Debian's chromium package, /usr/bin/chromium) and is skipped
// when none is installed.
package e2e
