package certbench

import (
	"bytes"
	"flag"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/opendi/gateway-orchestrator/reconciler/gatewaypool"
)

var (
	profileOut = flag.String("cpu-profile", "", "also write the CPU profile the pool reconciler's CPU is read from to this file (go test's own -cpuprofile would leave the profiler busy)")
	profileHz  = flag.Int("profile-hz", 100, "CPU profile samples per second (pprof's own is 100; a 100-claim run then yields some 20 samples of the pool reconciler). "+
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
	var pool, profiled time.Duration
	samples := int64(0)
	for _, s := range p.Sample {
		profiled += time.Duration(s.Value[cpu])
		for _, v := range s.Label["controller"] {
			if v == gatewaypool.ControllerName {
				pool += time.Duration(s.Value[cpu])
				samples += s.Value[0]
			}
		}
	}
	b.ReportMetric(float64(pool.Microseconds())/1e3/float64(claims), "pool-cpu-ms/claim")
	b.Logf("CPU while the claims came up: this process %s (%s of it in the profile), of it the pool reconciler %s (%d samples at %d Hz)",
		process.Round(time.Millisecond), profiled.Round(time.Millisecond), pool.Round(time.Millisecond), samples, time.Second/time.Duration(p.Period))
}

// processCPU is the user and system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	must(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
