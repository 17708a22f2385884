package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
)

// BenchmarkAPIServerCPU answers where the API server's time goes when 10 creators make routes with
// new hostnames: for the baseline (kube-system, no webhook), for ours, and for "owned" (ours for
// hostnames the namespace already owns: the webhook call without the claim create, which tells
// the webhook's own share from the claim's), it creates routes from
// 10 goroutines for a fixed window while taking a CPU profile of kube-apiserver itself
// (/debug/pprof/profile), and reports creates per second. With APISERVER_PROFILE_DIR set, the
// profiles are written there as baseline.pprof and ours.pprof, to read with
// `go tool pprof -top -cum <kube-apiserver binary> <profile>`, together with this process's own
// over the same window (baseline-self.pprof, ...; read them with the test binary). Run it after
// 10,000 claims exist (it fills them itself) and alone: b.N is ignored.
func BenchmarkAPIServerCPU(b *testing.B) {
	benchSetup(b)
	if benchClaims.Load() < 10000 {
		fillClaims(b, 10000)
	}
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		b.Fatal(err)
	}
	const window = 8
	dir := os.Getenv("APISERVER_PROFILE_DIR")
	for _, side := range []string{"baseline", "ours", "owned"} {
		b.Run(side, func(b *testing.B) {
			tag := unique("prof")
			ctx, cancel := context.WithCancel(context.Background())
			var n atomic.Int64
			var wg sync.WaitGroup
			for w := 0; w < 10; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ctx.Err() == nil {
						i := n.Add(1)
						r := route(benchOwner, fmt.Sprintf("%s-%d.%s", tag, i, benchDomain))
						switch side {
						case "baseline":
							r = route("kube-system", fmt.Sprintf("%s-%d.baseline.example.com", tag, i))
						case "owned":
							r = route(benchOwner, fmt.Sprintf("host-%d.%s", i%10000, benchDomain))
						}
						if err := k8s.Create(ctx, r); err != nil && ctx.Err() == nil {
							b.Errorf("create: %v", err)
							return
						}
					}
				}()
			}
			// This process (the webhooks, the manager's cache and the creators' client) is profiled
			// over the same window.
			var self bytes.Buffer
			if dir != "" {
				if err := pprof.StartCPUProfile(&self); err != nil {
					b.Fatalf("profiling this process (run without -cpuprofile): %v", err)
				}
			}
			start := time.Now()
			raw, err := cs.RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", fmt.Sprint(window)).DoRaw(context.Background())
			elapsed := time.Since(start)
			if dir != "" {
				pprof.StopCPUProfile()
			}
			cancel()
			wg.Wait()
			if err != nil {
				b.Fatalf("profiling kube-apiserver: %v", err)
			}
			b.ReportMetric(float64(n.Load())/elapsed.Seconds(), "creates/s")
			if dir != "" {
				if err := os.WriteFile(filepath.Join(dir, side+".pprof"), raw, 0o644); err != nil {
					b.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, side+"-self.pprof"), self.Bytes(), 0o644); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
