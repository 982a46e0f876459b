package main

import (
	"os"
	"path/filepath"
	"testing"
)

const statusText = `Name:	shipmentapp
Umask:	0022
State:	S (sleeping)
Pid:	4242
PPid:	1
VmPeak:	 1300000 kB
VmSize:	 1290000 kB
VmHWM:	   61234 kB
VmRSS:	   48000 kB
RssAnon:	   30000 kB
VmSwap:	       0 kB
Threads:	9
`

// The command name holds a space and a ')' on purpose.
const statText = "4242 (ship app) x) S 1 4242 4242 0 -1 4194560 12345 0 0 0 250 75 30 5 20 0 9 0 123456 1290000000 12000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"

func TestParseStatus(t *testing.T) {
	m, err := parseStatus([]byte(statusText))
	if err != nil {
		t.Fatal(err)
	}
	if m.HWM != 61234*1024 || m.RSS != 48000*1024 || m.Swap != 0 {
		t.Errorf("got %+v", m)
	}
	if _, err := parseStatus([]byte("Name:\tkthreadd\nState:\tS\n")); err == nil {
		t.Error("a kernel thread's status (no Vm lines) should be an error")
	}
	if _, err := parseStatus([]byte("VmRSS:\tlots kB\n")); err == nil {
		t.Error("a malformed number should be an error")
	}
}

func TestParseStat(t *testing.T) {
	s, err := parseStat([]byte(statText))
	if err != nil {
		t.Fatal(err)
	}
	if s.PPID != 1 || s.Utime != 250 || s.Stime != 75 || s.Cutime != 30 || s.Cstime != 5 {
		t.Errorf("got %+v", s)
	}
	if got := s.CPUSeconds(); got != 3.6 {
		t.Errorf("cpu %v s, want 3.6 (its own and its reaped children's)", got)
	}
	if _, err := parseStat([]byte("4242 (x) S 1 2")); err == nil {
		t.Error("a short stat should be an error")
	}
}

func TestProcTree(t *testing.T) {
	root := t.TempDir()
	write := func(pid, ppid string, rssKB, hwmKB string, utime string, cutime ...string) {
		cut := "0"
		if len(cutime) > 0 {
			cut = cutime[0]
		}
		dir := filepath.Join(root, pid)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		st := pid + " (node) S " + ppid + " 1 1 0 -1 0 0 0 0 0 " + utime + " 0 " + cut + " 0 20 0 1 0 1 1 1\n"
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(st), 0o644); err != nil {
			t.Fatal(err)
		}
		sts := "VmHWM:\t" + hwmKB + " kB\nVmRSS:\t" + rssKB + " kB\n"
		if err := os.WriteFile(filepath.Join(dir, "status"), []byte(sts), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("10", "1", "1000", "2000", "100", "50") // the start script (reaped children: 0.5 s)
	write("11", "10", "50000", "60000", "300")
	write("12", "11", "100", "100", "0")
	write("20", "1", "999999", "999999", "999") // unrelated
	if err := os.WriteFile(filepath.Join(root, "self"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	s, err := proc{root: root, pid: 10, tree: true}.read()
	if err != nil {
		t.Fatal(err)
	}
	if s.Procs != 3 || s.Mem.RSS != 51100*1024 || s.Mem.HWM != 62100*1024 || s.CPU != 4.5 {
		t.Errorf("tree: %+v", s)
	}
	s, err = proc{root: root, pid: 10}.read()
	if err != nil {
		t.Fatal(err)
	}
	if s.Procs != 1 || s.Mem.RSS != 1000*1024 || s.CPU != 1.5 {
		t.Errorf("single: %+v", s)
	}
	if _, err := (proc{root: root, pid: 99}).read(); err == nil {
		t.Error("a missing process should be an error")
	}
}

func TestProcSelf(t *testing.T) {
	s, err := proc{root: "/proc", pid: os.Getpid(), tree: true}.read()
	if err != nil {
		t.Skip("no /proc:", err)
	}
	if s.Mem.RSS == 0 || s.Mem.HWM < s.Mem.RSS {
		t.Errorf("self: %+v", s)
	}
}
