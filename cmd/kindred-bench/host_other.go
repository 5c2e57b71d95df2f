//go:build !linux

package main

// hostCPU is not measured here.
func hostCPU() (busy, total float64, ok bool) { return 0, 0, false }

// cpuAffinity is not known here.
func cpuAffinity() string { return "" }
