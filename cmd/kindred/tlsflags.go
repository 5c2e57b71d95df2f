package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// tlsFlags are serve's built-in TLS settings (docs/deploy.md#tls).
type tlsFlags struct {
	certFile, keyFile string
	hstsMaxAge        time.Duration
	hstsBehindProxy   bool
}

func addTLSFlags(fs *flagSet) *tlsFlags {
	t := &tlsFlags{}
	fs.StringVar(&t.certFile, "tls-cert", "", "serve HTTPS and WSS with this PEM certificate chain (leaf first); needs --tls-key. Reloaded, with the key, on SIGHUP")
	fs.StringVar(&t.keyFile, "tls-key", "", "the PEM private key of --tls-cert")
	fs.DurationVar(&t.hstsMaxAge, "hsts-max-age", 365*24*time.Hour, "max-age of the Strict-Transport-Security header sent on every response with --tls-cert or --hsts (0 tells browsers to forget it)")
	fs.BoolVar(&t.hstsBehindProxy, "hsts", false, "send Strict-Transport-Security without --tls-cert too, when every client reaches the node through a proxy that terminates TLS")
	return t
}

func (t *tlsFlags) check() error {
	if (t.certFile == "") != (t.keyFile == "") {
		return errors.New("--tls-cert and --tls-key go together: give both files, or neither to serve plain HTTP (behind a TLS proxy)")
	}
	if t.hstsMaxAge < 0 {
		return errors.New("--hsts-max-age may not be negative")
	}
	return nil
}

// on reports whether the node serves TLS itself.
func (t *tlsFlags) on() bool { return t.certFile != "" }

// hsts wraps h to send Strict-Transport-Security on every response when
// the node serves TLS itself or is told that a proxy does.
func (t *tlsFlags) hsts(h http.Handler) http.Handler {
	if !t.on() && !t.hstsBehindProxy {
		return h
	}
	value := "max-age=" + strconv.FormatInt(int64(t.hstsMaxAge/time.Second), 10)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", value)
		h.ServeHTTP(w, r)
	})
}

// certReloader holds the node's certificate, which a reload replaces for
// new connections; connections already open keep the one they began with.
type certReloader struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
}

// newCertReloader loads the pair once, refusing an unreadable or
// mismatched one.
func (t *tlsFlags) newCertReloader() (*certReloader, error) {
	if !t.on() {
		return nil, nil
	}
	r := &certReloader{certFile: t.certFile, keyFile: t.keyFile}
	if _, err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// reload reads the pair from its files and, when it is whole, serves it
// from now on; otherwise the pair served so far stays.
func (r *certReloader) reload() (*x509.Certificate, error) {
	certPEM, err := os.ReadFile(r.certFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert: %w", err)
	}
	keyPEM, err := os.ReadFile(r.keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %s with --tls-key %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert.Store(&cert)
	return cert.Leaf, nil
}

func (r *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cert.Load(), nil
}

// config is the TLS configuration of the node's listeners: TLS 1.2 or
// newer with Go's default cipher suites, the current certificate.
func (r *certReloader) config() *tls.Config {
	if r == nil {
		return nil
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.getCertificate}
}

// watchSIGHUP reloads the certificate on every SIGHUP until stop is
// called; without TLS it notes that there is nothing to reload. Either
// way SIGHUP never stops the node.
func watchSIGHUP(r *certReloader, logger *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				r.reloadLogged(logger)
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		cancel()
		<-done
	}
}

// reloadLogged reloads on SIGHUP and logs the outcome: the file names and
// the certificate's names and expiry, never key material.
func (r *certReloader) reloadLogged(logger *slog.Logger) {
	if r == nil {
		logger.Info("SIGHUP: no TLS certificate to reload (no --tls-cert)")
		return
	}
	leaf, err := r.reload()
	if err != nil {
		logger.Error("TLS certificate reload failed; still serving the previous one", "err", err)
		return
	}
	logger.Info("TLS certificate reloaded", "cert", r.certFile, "subject", leaf.Subject.String(),
		"dns", leaf.DNSNames, "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
}

// loopbackOnly reports whether addr (host:port) listens on a loopback
// address only: "localhost", 127.0.0.0/8 or ::1.
func loopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// serveHTTP serves hs on ln, over TLS when hs has a TLS configuration.
func serveHTTP(hs *http.Server, ln net.Listener) error {
	if hs.TLSConfig != nil {
		return hs.ServeTLS(ln, "", "")
	}
	return hs.Serve(ln)
}
