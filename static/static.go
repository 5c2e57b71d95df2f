// Package static embeds Kindred's browser client (plain HTML, CSS and ES
// modules, no build step) so that the single binary serves it.
package static

import (
	"embed"
	"net/http"
)

//go:embed index.html
var files embed.FS

// Handler serves the client. Pages must never be cached by shared proxies,
// and the client may not be framed by other sites.
func Handler() http.Handler {
	fs := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		fs.ServeHTTP(w, r)
	})
}
