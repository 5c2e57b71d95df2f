// Package static embeds Kindred's browser client (plain HTML, CSS and ES
// modules, no build step) so that the single binary serves it.
//
// The client is index.html, its style sheets (app.css, moderation.css,
// video.css), icon.svg, the modules under js/ (js/video/ for video
// sessions) and the service worker sw.js (Web Push notices of pages),
// served at /sw.js so that its scope is the whole client.
// Besides those files the handler serves /config.json, the few settings the
// client needs from the server (today: the idle sign-out timeout).
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

//go:embed index.html app.css moderation.css video.css icon.svg sw.js js
var files embed.FS

// DefaultIdleTimeout is how long a signed-in browser may stay unused before
// the client signs out, when the server does not say otherwise.
const DefaultIdleTimeout = 30 * time.Minute

// csp allows nothing but the page's own files and its own origin for API
// and WebSocket calls: no inline script or style, no other origins, no
// framing, and no form submissions (forms are handled by script; should the
// script not load, a form must not put a token into a URL).
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the client. idleTimeout is how long the client may sit
// unused before it signs out (shared devices); zero or less means
// DefaultIdleTimeout. Pages must never be cached by shared proxies, and the
// client may not be framed by other sites.
func Handler(idleTimeout time.Duration) http.Handler {
	if idleTimeout <= 0 {
		idleTimeout = DefaultIdleTimeout
	}
	config, _ := json.Marshal(map[string]int64{"idle_timeout_ms": idleTimeout.Milliseconds()})
	config = append(config, '\n')

	// Strong ETags let a phone on a poor connection revalidate each file
	// with a 304 instead of downloading it again.
	etags := map[string]string{}
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		etags["/"+p] = `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
		return nil
	})
	etags["/"] = etags["/index.html"]

	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", csp)
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if r.URL.Path == "/config.json" {
			h.Set("Content-Type", "application/json")
			h.Set("Cache-Control", "no-store")
			if r.Method != http.MethodHead {
				_, _ = w.Write(config)
			}
			return
		}
		h.Set("Cache-Control", "no-cache")
		if tag, ok := etags[r.URL.Path]; ok && !strings.HasSuffix(r.URL.Path, "/index.html") {
			h.Set("ETag", tag)
		}
		fileServer.ServeHTTP(w, r)
	})
}
