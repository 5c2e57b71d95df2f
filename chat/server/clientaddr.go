package server

import (
	"net"
	"net/http"
)

// clientAddr is the address a request comes from: the connection limits
// count by it.
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
