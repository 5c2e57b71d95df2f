package main

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"
)

// minMetricsToken is the shortest --metrics-token-file content accepted.
const minMetricsToken = 16

// opsFlags are where the node's operator-only endpoints are served: pprof
// and the Prometheus metrics, never on the public port unless a metrics
// token guards them.
type opsFlags struct {
	debugAddr        string
	metricsAddr      string
	metricsTokenFile string
}

func addOpsFlags(fs *flagSet) *opsFlags {
	o := &opsFlags{}
	fs.StringVar(&o.debugAddr, "debug-addr", "", "serve Go's pprof profiles on this separate address (e.g. 127.0.0.1:6060); never expose it publicly")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "serve the Prometheus metrics at /metrics on this separate address (e.g. 127.0.0.1:9090, or the --debug-addr),\n"+
		"unauthenticated: only monitoring should reach it. Without it and --metrics-token-file, no metrics are served")
	fs.StringVar(&o.metricsTokenFile, "metrics-token-file", "", fmt.Sprintf("also serve /metrics on the public --addr, to requests with \"Authorization: Bearer <token>\",\n"+
		"the token being this file's content (at least %d bytes, surrounding white space ignored)", minMetricsToken))
	return o
}

// metricsToken reads the bearer token of /metrics on the public port; ""
// when none is configured.
func (o *opsFlags) metricsToken() (string, error) {
	if o.metricsTokenFile == "" {
		return "", nil
	}
	data, err := os.ReadFile(o.metricsTokenFile)
	if err != nil {
		return "", fmt.Errorf("metrics token: %w", err)
	}
	tok := string(bytes.TrimSpace(data))
	if len(tok) < minMetricsToken {
		return "", fmt.Errorf("metrics token in %s: %d bytes, at least %d are required", o.metricsTokenFile, len(tok), minMetricsToken)
	}
	return tok, nil
}

// serve starts the operator listeners: pprof on --debug-addr, metrics on
// --metrics-addr (one listener when both are the same address). With
// tlsConfig (--tls-cert), a listener that is not loopback-only serves
// HTTPS. stop closes them.
func (o *opsFlags) serve(metrics http.Handler, tlsConfig *tls.Config, logger *slog.Logger) (stop func(), err error) {
	muxes := map[string]*http.ServeMux{}
	mux := func(addr string) *http.ServeMux {
		if muxes[addr] == nil {
			muxes[addr] = http.NewServeMux()
		}
		return muxes[addr]
	}
	if o.debugAddr != "" {
		m := mux(o.debugAddr)
		m.HandleFunc("/debug/pprof/", pprof.Index)
		m.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		m.HandleFunc("/debug/pprof/profile", pprof.Profile)
		m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		m.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	if o.metricsAddr != "" {
		mux(o.metricsAddr).Handle("GET /metrics", metrics)
	}
	var servers []*http.Server
	stop = func() {
		for _, hs := range servers {
			hs.Close()
		}
	}
	for addr, m := range muxes {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			stop()
			return nil, fmt.Errorf("operator address %s: %w", addr, err)
		}
		hs := &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second}
		overTLS := tlsConfig != nil && !loopbackOnly(addr)
		if overTLS {
			hs.TLSConfig = tlsConfig
		}
		servers = append(servers, hs)
		go func() {
			if err := serveHTTP(hs, ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("operator listener", "addr", ln.Addr().String(), "err", err)
			}
		}()
		logger.Info("operator endpoints listening", "addr", ln.Addr().String(),
			"tls", overTLS, "pprof", addr == o.debugAddr, "metrics", addr == o.metricsAddr)
	}
	return stop, nil
}
