package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// clockTicks is the kernel's USER_HZ, the unit of utime and stime in /proc/<pid>/stat; 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// cpuParts are the processes whose CPU time a side-by-side comparison accounts for: the API
// server, etcd, and this process (the creators' client, the manager's cache and the webhooks).
var cpuParts = []string{"kube-apiserver", "etcd", "self"}

// cpuTimes reads the CPU time (user and system, in seconds) used so far by each of cpuParts. The
// control plane's processes are this process's children (envtest starts them); on a system
// without /proc every reading is 0.
func cpuTimes(b *testing.B) map[string]float64 {
	out := map[string]float64{"self": procCPU(b, "self")}
	self := strconv.Itoa(os.Getpid())
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		raw, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		comm, fields, ok := statFields(string(raw))
		if !ok || fields[1] != self { // fields[1] is the parent's pid
			continue
		}
		for _, p := range cpuParts[:2] {
			if comm == p {
				out[p] += procCPU(b, filepath.Base(d))
			}
		}
	}
	return out
}

// procCPU is utime+stime of process pid ("self" for this one), in seconds.
func procCPU(b *testing.B, pid string) float64 {
	raw, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return 0
	}
	_, fields, ok := statFields(string(raw))
	if !ok {
		b.Fatalf("unreadable /proc/%s/stat", pid)
	}
	// utime and stime are fields 14 and 15 of proc(5); fields here start at field 3 (state).
	u, err1 := strconv.ParseFloat(fields[11], 64)
	s, err2 := strconv.ParseFloat(fields[12], 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("unreadable /proc/%s/stat", pid)
	}
	return (u + s) / clockTicks
}

// statFields splits a /proc/<pid>/stat line into the command name and the fields after it
// (the name is in parentheses and may hold spaces).
func statFields(stat string) (string, []string, bool) {
	open, end := strings.IndexByte(stat, '('), strings.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return "", nil, false
	}
	fields := strings.Fields(stat[end+1:])
	return stat[open+1 : end], fields, len(fields) >= 13
}

// cpuMeter sums, per part, the CPU time used between start and stop calls.
type cpuMeter struct {
	b     *testing.B
	from  map[string]float64
	total map[string]float64
}

func newCPUMeter(b *testing.B) *cpuMeter { return &cpuMeter{b: b, total: map[string]float64{}} }

func (m *cpuMeter) start() { m.from = cpuTimes(m.b) }

func (m *cpuMeter) stop() {
	for k, v := range cpuTimes(m.b) {
		m.total[k] += v - m.from[k]
	}
}

// report adds the CPU milliseconds per create of each part, and their sum, as metrics named
// side-part-cpu-ms, and returns the sum.
func (m *cpuMeter) report(side string, creates int) float64 {
	sum := 0.0
	for _, p := range cpuParts {
		ms := 1000 * m.total[p] / float64(creates)
		sum += ms
		m.b.ReportMetric(ms, side+"-"+strings.TrimPrefix(p, "kube-")+"-cpu-ms")
	}
	m.b.ReportMetric(sum, side+"-cpu-ms")
	return sum
}
