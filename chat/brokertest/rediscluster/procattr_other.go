//go:build !linux

package rediscluster

import "syscall"

// procAttr: elsewhere than on Linux, a redis-server outlives a test binary
// killed before its cleanups run.
func procAttr() *syscall.SysProcAttr { return nil }
