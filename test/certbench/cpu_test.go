package certbench

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/opendi/gateway-orchestrator/reconciler/gatewaypool"
)

var (
	profileOut    = flag.String("cpu-profile", "", "also write the CPU profile the pool reconciler's CPU is read from to this file (go test's own -cpuprofile would leave the profiler busy)")
	poolCPURecord = flag.String("pool-cpu-record", os.Getenv("POOL_CPU_RECORD"), "a file to append each run's pool CPU per claim to; a run of more than 100 claims logs its ratio to the 100-claim runs there "+
		"(POOL_CPU_RECORD=file make bench-ready CLAIMS=100, three times, then CLAIMS=1000)")
	profileHz = flag.Int("profile-hz", 100, "CPU profile samples per second (pprof's own is 100; a 100-claim run then yields some 20 samples of the pool reconciler). "+
		"Faster rates lose samples: compare the profile's total with the process's CPU in the log")
)

// cpuMeter measures CPU while the claims come up: the whole process's (the manager with every
// reconciler and webhook, the AWS test server, the LBC stand-in and the bench itself; the API
// server and etcd run apart), and the pool reconciler's, from a CPU profile of the process whose
// samples the reconciler labels controller=gatewaypool (its own goroutine and those it starts).
type cpuMeter struct {
	profile   bytes.Buffer
	profiling bool // false when the profiler was busy (go test -cpuprofile)
	before    time.Duration
}

func startCPU(b *testing.B) *cpuMeter {
	m := &cpuMeter{before: processCPU(b)}
	if *profileHz != 100 {
		// pprof.StartCPUProfile keeps a rate set before it (the runtime says it cannot set its own),
		// and the profile's period is this rate's.
		runtime.SetCPUProfileRate(*profileHz)
	}
	if err := pprof.StartCPUProfile(&m.profile); err != nil {
		b.Logf("pool reconciler CPU not measured: %v", err)
	} else {
		m.profiling = true
	}
	return m
}

// report stops the meter and reports both CPU times per claim.
func (m *cpuMeter) report(b *testing.B, claims int) {
	process := processCPU(b) - m.before
	b.ReportMetric(float64(process.Milliseconds())/float64(claims), "process-cpu-ms/claim")
	if !m.profiling {
		return
	}
	pprof.StopCPUProfile()
	if *profileOut != "" {
		must(b, os.WriteFile(*profileOut, m.profile.Bytes(), 0o644))
	}
	p, err := profile.Parse(&m.profile)
	must(b, err)
	cpu := -1
	for i, st := range p.SampleType {
		if st.Type == "cpu" && st.Unit == "nanoseconds" {
			cpu = i
		}
	}
	if cpu < 0 {
		b.Fatalf("the CPU profile has no cpu/nanoseconds samples: %v", p.SampleType)
	}
	var pool, writes, profiled time.Duration
	samples := int64(0)
	for _, s := range p.Sample {
		profiled += time.Duration(s.Value[cpu])
		for _, v := range s.Label["controller"] {
			if v == gatewaypool.ControllerName {
				pool += time.Duration(s.Value[cpu])
				samples += s.Value[0]
				if calls(s, claimStatusWrite) {
					writes += time.Duration(s.Value[cpu])
				}
			}
		}
	}
	perClaim := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 / float64(claims) }
	b.ReportMetric(perClaim(pool), "pool-cpu-ms/claim")
	b.ReportMetric(perClaim(writes), "pool-write-cpu-ms/claim")
	b.Logf("CPU while the claims came up: this process %s (%s of it in the profile), of it the pool reconciler %s (%d samples at %d Hz): "+
		"%.2f ms per claim, %.2f ms in its claim status writes and %.2f ms in the rest of its reconciles",
		process.Round(time.Millisecond), profiled.Round(time.Millisecond), pool.Round(time.Millisecond), samples, time.Second/time.Duration(p.Period),
		perClaim(pool), perClaim(writes), perClaim(pool-writes))
	recordPoolCPU(b, claims, perClaim(pool))
}

// claimStatusWrite is the function that writes a claim's status for every owner: the pool's CPU
// in it grows with how often the pool writes each claim, not with the pool's size.
const claimStatusWrite = "github.com/opendi/gateway-orchestrator/internal/claimstatus.(*Writes).Apply"

// calls reports whether function fn is on the sample's stack.
func calls(s *profile.Sample, fn string) bool {
	for _, loc := range s.Location {
		for _, l := range loc.Line {
			if l.Function != nil && l.Function.Name == fn {
				return true
			}
		}
	}
	return false
}

// recordPoolCPU appends this run's pool CPU per claim to -pool-cpu-record and logs its ratio to
// the 100-claim runs recorded there (see poolCPURatio).
func recordPoolCPU(b *testing.B, claims int, ms float64) {
	if *poolCPURecord == "" {
		return
	}
	raw, err := os.ReadFile(*poolCPURecord)
	if err != nil && !os.IsNotExist(err) {
		must(b, err)
	}
	f, err := os.OpenFile(*poolCPURecord, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	must(b, err)
	_, err = fmt.Fprintf(f, "%d %g\n", claims, ms)
	must(b, errors.Join(err, f.Close()))
	if line := poolCPURatio(string(raw), claims, ms); line != "" {
		b.Log(line)
	}
}

// poolCPURatio compares a run of more than 100 claims with the mean of the 100-claim runs in
// record (lines "claims ms-per-claim"): the target is at most 1.5 at 1,000 claims. It is "" for
// a run of 100 claims or fewer, or without a 100-claim run to compare with.
func poolCPURatio(record string, claims int, ms float64) string {
	var base []float64
	for _, line := range strings.Split(record, "\n") {
		var n int
		var v float64
		if _, err := fmt.Sscanf(line, "%d %g", &n, &v); err == nil && n == 100 {
			base = append(base, v)
		}
	}
	if claims <= 100 || len(base) == 0 {
		return ""
	}
	mean := 0.0
	for _, v := range base {
		mean += v
	}
	mean /= float64(len(base))
	return fmt.Sprintf("pool CPU per claim: %.2f ms at %d claims, %.2f ms at 100 (mean of %d runs): %.2fx", ms, claims, mean, len(base), ms/mean)
}

// processCPU is the user and system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	must(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
