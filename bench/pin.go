package bench

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// PinCPUs restricts this process, every thread it has and so every thread
// it starts later, to the given CPUs, and sets GOMAXPROCS to their number,
// so that a load generator and a server pinned to other CPUs do not
// compete (taskset(1) does the same from outside).
func PinCPUs(cpus []int) error {
	if len(cpus) == 0 {
		return fmt.Errorf("bench: no CPUs to pin to")
	}
	var set unix.CPUSet
	for _, c := range cpus {
		if c < 0 || c >= 1024 {
			return fmt.Errorf("bench: CPU %d does not exist", c)
		}
		set.Set(c)
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("bench: listing this process's threads: %w", err)
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil {
			return fmt.Errorf("bench: pinning thread %d to CPUs %v: %w", tid, cpus, err)
		}
	}
	runtime.GOMAXPROCS(len(cpus))
	return nil
}

// ParseCPUList parses a CPU list as taskset -c takes it: "0", "1,3",
// "0-3".
func ParseCPUList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		lo, hi, isRange := strings.Cut(f, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("bench: CPU list %q: %q is not a CPU number", s, lo)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bench: CPU list %q: bad range %q", s, f)
			}
		}
		if b >= 1024 {
			return nil, fmt.Errorf("bench: CPU list %q: CPU %d is past 1023", s, b)
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}

// ListenerPID returns the process listening on the TCP port of addr
// (host:port or http://host:port) on this machine, found through
// /proc/net/tcp and the processes' socket descriptors, or 0 when it cannot
// be seen (another user's process, or no such listener).
func ListenerPID(addr string) int {
	hp, err := loopbackAddr(addr)
	if err != nil {
		return 0
	}
	_, portStr, _ := strings.Cut(hp[strings.LastIndexByte(hp, ':'):], ":")
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return 0
	}
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			// local_address is field 1 (HEX_IP:HEX_PORT), st field 3
			// (0A is LISTEN), inode field 9.
			if len(fs) < 10 || fs[3] != "0A" {
				continue
			}
			i := strings.LastIndexByte(fs[1], ':')
			if p, err := strconv.ParseUint(fs[1][i+1:], 16, 16); err == nil && p == port {
				inodes["socket:["+fs[9]+"]"] = true
			}
		}
	}
	if len(inodes) == 0 {
		return 0
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		fds, err := os.ReadDir("/proc/" + p.Name() + "/fd")
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if link, err := os.Readlink("/proc/" + p.Name() + "/fd/" + fd.Name()); err == nil && inodes[link] {
				return pid
			}
		}
	}
	return 0
}
