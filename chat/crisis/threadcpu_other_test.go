//go:build !linux

package crisis

import "time"

// threadCPU reports no per-thread CPU time: Linux only.
func threadCPU() (time.Duration, bool) { return 0, false }
