package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat: 100
// on every Linux architecture Go supports (the kernel's CONFIG_HZ does not
// change it).
const clockTicks = 100

// procMem holds the memory fields of /proc/PID/status, in bytes.
type procMem struct {
	RSS  uint64 // VmRSS
	HWM  uint64 // VmHWM, peak RSS since the process started
	Swap uint64 // VmSwap
}

// parseStatus reads VmRSS, VmHWM and VmSwap from /proc/PID/status text.
func parseStatus(b []byte) (procMem, error) {
	var m procMem
	found := 0
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *uint64
		switch name {
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.HWM
		case "VmSwap":
			dst = &m.Swap
		default:
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return m, fmt.Errorf("status: empty %s", name)
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("status: %s: %w", name, err)
		}
		mult := uint64(1)
		if len(f) > 1 && strings.EqualFold(f[1], "kB") {
			mult = 1024
		}
		*dst = n * mult
		found++
	}
	if m.RSS == 0 && m.HWM == 0 {
		return m, fmt.Errorf("status: no VmRSS/VmHWM (kernel thread or zombie?)")
	}
	return m, nil
}

// procStat holds the fields of /proc/PID/stat that are used.
type procStat struct {
	PPID  int
	Utime uint64 // clock ticks
	Stime uint64 // clock ticks
	// Cutime and Cstime are the times of the children the process has
	// waited for: a PostgreSQL backend that exits during the window (a
	// connection closed) is gone from the tree, its CPU is in the
	// postmaster's Cutime and Cstime.
	Cutime uint64
	Cstime uint64
}

// CPUSeconds is user plus system time, its own and that of the children it
// has reaped.
func (s procStat) CPUSeconds() float64 {
	return float64(s.Utime+s.Stime+s.Cutime+s.Cstime) / clockTicks
}

// parseStat parses /proc/PID/stat. The command name (field 2) is in
// parentheses and may hold spaces and parentheses itself, so the fields are
// counted from the last ')'.
func parseStat(b []byte) (procStat, error) {
	var s procStat
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return s, fmt.Errorf("stat: no ')'")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); ppid is field 4, utime 14, stime 15, cutime
	// 16, cstime 17.
	if len(f) < 15 {
		return s, fmt.Errorf("stat: %d fields after the command", len(f))
	}
	var err error
	if s.PPID, err = strconv.Atoi(f[1]); err != nil {
		return s, fmt.Errorf("stat: ppid: %w", err)
	}
	if s.Utime, err = strconv.ParseUint(f[11], 10, 64); err != nil {
		return s, fmt.Errorf("stat: utime: %w", err)
	}
	if s.Stime, err = strconv.ParseUint(f[12], 10, 64); err != nil {
		return s, fmt.Errorf("stat: stime: %w", err)
	}
	// cutime and cstime are signed in proc(5) (clock_t) but never negative.
	if s.Cutime, err = strconv.ParseUint(f[13], 10, 64); err != nil {
		return s, fmt.Errorf("stat: cutime: %w", err)
	}
	if s.Cstime, err = strconv.ParseUint(f[14], 10, 64); err != nil {
		return s, fmt.Errorf("stat: cstime: %w", err)
	}
	return s, nil
}

// proc reads one process, or a process and its descendants, under root
// (normally /proc).
type proc struct {
	root string
	pid  int
	tree bool // include descendants (a start script's node, a wrapper's child)
}

// pids returns the process and, with tree, its live descendants.
func (p proc) pids() []int {
	if !p.tree {
		return []int{p.pid}
	}
	children := map[int][]int{}
	ents, _ := os.ReadDir(p.root)
	for _, e := range ents {
		id, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(p.root, e.Name(), "stat"))
		if err != nil {
			continue
		}
		st, err := parseStat(b)
		if err != nil {
			continue
		}
		children[st.PPID] = append(children[st.PPID], id)
	}
	out := []int{p.pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// sample is one reading of the process (tree): memory summed over the
// processes, CPU seconds summed likewise.
type sample struct {
	Mem   procMem
	CPU   float64
	Procs int
}

// read samples the process (tree). The main process must exist;
// descendants that vanish meanwhile are skipped.
func (p proc) read() (sample, error) {
	var s sample
	for i, id := range p.pids() {
		dir := filepath.Join(p.root, strconv.Itoa(id))
		sb, err := os.ReadFile(filepath.Join(dir, "status"))
		if err == nil {
			var m procMem
			if m, err = parseStatus(sb); err == nil {
				s.Mem.RSS += m.RSS
				s.Mem.HWM += m.HWM
				s.Mem.Swap += m.Swap
			}
		}
		if err != nil {
			if i == 0 {
				return s, fmt.Errorf("pid %d: %w", id, err)
			}
			continue
		}
		tb, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			if i == 0 {
				return s, fmt.Errorf("pid %d: %w", id, err)
			}
			continue
		}
		st, err := parseStat(tb)
		if err != nil {
			return s, fmt.Errorf("pid %d: %w", id, err)
		}
		s.CPU += st.CPUSeconds()
		s.Procs++
	}
	return s, nil
}
