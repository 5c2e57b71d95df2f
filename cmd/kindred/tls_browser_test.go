package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser client works unchanged over the node's own TLS: loaded from
// https://, it opens its WebSocket with wss:// (a page over https may not
// open ws://) and signs in.
func TestBrowserClientOverTLS(t *testing.T) {
	chromium := needBinary(t, "/usr/bin/chromium")
	dir := t.TempDir()
	ca := newTestCA(t)
	certFile, keyFile := filepath.Join(dir, "node.crt"), filepath.Join(dir, "node.key")
	ca.issue(t, certFile, keyFile)
	data := filepath.Join(dir, "data")
	tok := mintToken(t, "--data", data, "--sub", "ann", "--name", "Ann", "--role", "specialist")
	url, _ := serveProcess(t, "--data", data, "--tls-cert", certFile, "--tls-key", keyFile)

	// Chromium does not know the test's CA; the certificate is checked by
	// TestServeTLS, here only the client's scheme is.
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("ignore-certificate-errors", true), chromedp.UserDataDir(t.TempDir()))
	defer cancelAlloc()
	browser, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(browser, chromedp.Navigate(url+"/#token="+tok)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	ctx, cancelWait := context.WithTimeout(browser, time.Minute)
	defer cancelWait()
	connected := `location.protocol === 'https:' && document.getElementById('conn-status').dataset.state === 'connected'`
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](connected, chromedp.WithPollingTimeout(50*time.Second))); err != nil {
		state, _ := chromedp.Run(browser, chromedp.Evaluate[string](`location.protocol + ' ' + document.getElementById('conn-status')?.dataset.state`))
		t.Fatalf("the client did not connect over wss: %v (%s)", err, state)
	}
}
