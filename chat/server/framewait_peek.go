//go:build linux || darwin || freebsd

package server

import "syscall"

const canPeek = true

// peekEmpty reports whether the non-blocking socket fd has nothing to
// read now (the look leaves what is there in place).
func peekEmpty(fd uintptr) bool {
	var b [1]byte
	_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
}
