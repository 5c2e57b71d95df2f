//go:build !(linux || darwin || freebsd)

package server

// Elsewhere a session's reader waits inside the WebSocket library.
const canPeek = false

func peekEmpty(uintptr) bool { return false }
