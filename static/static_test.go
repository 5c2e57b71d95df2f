package static_test

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kindred-health/kindred/static"
)

func get(t *testing.T, h http.Handler, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Result()
}

func TestConfigCarriesTheIdleTimeout(t *testing.T) {
	for _, c := range []struct {
		idle time.Duration
		want int64
	}{{90 * time.Second, 90000}, {0, static.DefaultIdleTimeout.Milliseconds()}} {
		resp := get(t, static.Handler(c.idle), "/config.json")
		var cfg struct {
			IdleTimeoutMS int64 `json:"idle_timeout_ms"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&cfg); err != nil || cfg.IdleTimeoutMS != c.want {
			t.Errorf("idle %v: config %+v, %v; want %d ms", c.idle, cfg, err, c.want)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("config.json Cache-Control %q", cc)
		}
	}
}

// The page works under a strict Content-Security-Policy: no inline script
// or style, nothing from other origins.
func TestStrictCSPAndNoInlineCode(t *testing.T) {
	h := static.Handler(0)
	resp := get(t, h, "/")
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "form-action 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP allows unsafe sources: %q", csp)
	}
	body, _ := io.ReadAll(resp.Body)
	html := string(body)
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(html, -1) {
		if !strings.Contains(tag, ` src="/`) {
			t.Errorf("index.html has a script that is not a same-origin file: %s", tag)
		}
	}
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`<script[^>]*>[^<]+</script>`),      // inline script
		regexp.MustCompile(`\son[a-z]+=`),                      // event handler attributes
		regexp.MustCompile(`\sstyle=`),                         // inline styles
		regexp.MustCompile(`<style`),                           // style elements
		regexp.MustCompile(`(?i)(?:src|href)="(?:https?:)?//`), // other origins (fonts, CDNs)
	} {
		if m := re.FindString(html); m != "" {
			t.Errorf("index.html has %q", m)
		}
	}
}

// Every module is served as JavaScript (nosniff refuses anything else),
// and nothing in the client writes to the console.
func TestModulesAreServedAndQuiet(t *testing.T) {
	h := static.Handler(0)
	root := os.DirFS(".")
	n := 0
	err := fs.WalkDir(root, "js", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		resp := get(t, h, "/"+p)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
			t.Errorf("%s: %d %s", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		src, _ := fs.ReadFile(root, p)
		if regexp.MustCompile(`\bconsole\.`).Match(src) {
			t.Errorf("%s writes to the console", p)
		}
		if regexp.MustCompile(`\bimport\s*\(|from\s+['"]https?:`).Match(src) {
			t.Errorf("%s imports from elsewhere", p)
		}
		return nil
	})
	if err != nil || n < 5 {
		t.Fatalf("walked %d modules: %v", n, err)
	}
}

// Unchanged files are revalidated with a 304, which spares phones on poor
// connections the download.
func TestETagRevalidation(t *testing.T) {
	h := static.Handler(0)
	resp := get(t, h, "/js/main.js")
	tag := resp.Header.Get("ETag")
	if tag == "" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", tag, resp.Header.Get("Cache-Control"))
	}
	if again := get(t, h, "/js/main.js", "If-None-Match", tag); again.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d", again.StatusCode)
	}
	for _, hdr := range []string{"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
		if resp.Header.Get(hdr) == "" {
			t.Errorf("no %s header", hdr)
		}
	}
}

// The service worker is served from the root, so its default scope is the
// whole client, as JavaScript, revalidated on every load (so a new version
// is picked up).
func TestServiceWorkerServed(t *testing.T) {
	resp := get(t, static.Handler(0), "/sw.js")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("GET /sw.js: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("sw.js Cache-Control %q, want no-cache", cc)
	}
	for _, want := range []string{"addEventListener('push'", "showNotification", "notificationclick"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("sw.js lacks %s", want)
		}
	}
}
