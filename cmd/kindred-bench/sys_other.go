//go:build !unix

package main

// raiseFileLimit has nothing to raise here; 0 means unknown.
func raiseFileLimit() uint64 { return 0 }

// cpuSeconds is not measured here.
func cpuSeconds() float64 { return 0 }
