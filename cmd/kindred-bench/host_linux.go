//go:build linux

package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// hostCPU returns the machine's busy and total CPU seconds so far (all
// cores, from /proc/stat), to tell how much of the machine processes other
// than the server and the tool used during a run: on a shared machine that
// is what makes figures noisy.
func hostCPU() (busy, total float64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, false
	}
	var v [8]float64 // user nice system idle iowait irq softirq steal
	for i := range v {
		v[i], err = strconv.ParseFloat(f[i+1], 64)
		if err != nil {
			return 0, 0, false
		}
	}
	// /proc/stat counts in USER_HZ, which is 100 on every Linux port Go
	// supports.
	const hz = 100
	busy = (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / hz
	return busy, busy + (v[3]+v[4])/hz, true
}

// cpuAffinity lists the CPUs this process may run on (its taskset), as
// "0", "0-1" or "0,2-3"; empty if it cannot tell.
func cpuAffinity() string {
	var mask [16]uint64 // 1,024 CPUs
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask[0])))
	if errno != 0 {
		return ""
	}
	var cpus []int
	for i := range len(mask) * 64 {
		if mask[i/64]&(1<<(i%64)) != 0 {
			cpus = append(cpus, i)
		}
	}
	return cpuList(cpus)
}
