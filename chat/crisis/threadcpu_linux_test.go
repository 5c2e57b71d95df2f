package crisis

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time the calling OS thread has used (lock the
// goroutine to its thread around a measurement).
func threadCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
