//go:build linux

package main

import "syscall"

// ipBindAddressNoPort is Linux's IP_BIND_ADDRESS_NO_PORT (not in package
// syscall).
const ipBindAddressNoPort = 24

// bindNoPort lets a socket bound to a source address (--sources) choose its
// port at connect time, per destination, instead of at bind time from the
// whole ephemeral range; without it each source address is limited to one
// range's worth of ports over all nodes together.
func bindNoPort(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
