package bench

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
	"github.com/opendi/gateway-orchestrator/test/builders"
	"github.com/opendi/gateway-orchestrator/webhook"
)

// benchZone is shared by the benchmarks: claims made for one size stay for the next.
var (
	benchOnce   sync.Once
	benchDomain string
	benchOwner  string
	benchOther  string
	benchClaims atomic.Int64
	// heapPerClaim is how much this process's heap (the manager's cache and indexes, mostly)
	// grew per claim while the claims of one size were added.
	heapPerClaim = map[int]float64{}
)

func benchSetup(b *testing.B) {
	benchOnce.Do(func() {
		z := newZone(b)
		benchDomain, benchOwner, benchOther = z.Spec.Domain, tenant(b), tenant(b)
	})
}

// fillClaims creates claims owned by benchOwner until there are n, 64 at a time through the API
// server, then waits until the orchestrator's cache has them all.
func fillClaims(b *testing.B, n int) {
	ctx := context.Background()
	start := time.Now()
	from := int(benchClaims.Load())
	if from < n {
		var next atomic.Int64
		next.Store(int64(from))
		var wg sync.WaitGroup
		for w := 0; w < 64; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1) - 1
					if i >= int64(n) {
						return
					}
					h := fmt.Sprintf("host-%d.%s", i, benchDomain)
					if err := k8s.Create(ctx, builders.AdminClaim(h, benchOwner)); err != nil {
						b.Errorf("creating claim %s: %v", h, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		benchClaims.Store(int64(n))
	}
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var l v1alpha1.DomainClaimList
		if err := env.Manager.GetCache().List(ctx, &l, client.UnsafeDisableDeepCopy); err != nil {
			b.Fatal(err)
		}
		if len(l.Items) >= n {
			b.Logf("%d claims in the cache (%d new in %s)", len(l.Items), n-from, time.Since(start).Round(time.Second))
			return
		}
	}
	b.Fatalf("claims never reached the cache")
}

// BenchmarkRouteDecision measures the HTTPRoute validating webhook's decision, in process, against
// the manager's informer cache holding 1k, 10k and 100k claims. The route is a server-side
// dry-run so nothing is written; it has one hostname owned by its namespace, one taken by another
// namespace, and one free, so each op decides all three paths.
func BenchmarkRouteDecision(b *testing.B) {
	benchSetup(b)
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("claims=%d", n), func(b *testing.B) {
			if _, ok := heapPerClaim[n]; !ok {
				from := benchClaims.Load()
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				fillClaims(b, n)
				runtime.GC()
				runtime.ReadMemStats(&after)
				heapPerClaim[n] = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(int64(n)-from)
			}
			v := &webhook.RouteValidator{
				View: ownership.CacheView{Reader: env.Manager.GetCache()},
				Claimer: &webhook.Claimer{Client: env.Manager.GetClient(), APIReader: env.Manager.GetAPIReader(), Cache: env.Manager.GetCache(),
					View: ownership.CacheView{Reader: env.Manager.GetCache()}},
			}
			ctx := admission.NewContextWithRequest(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{DryRun: ptr.To(true)}})
			durations := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				owned := fmt.Sprintf("host-%d.%s", i%n, benchDomain)
				r := builders.Route(benchOwner, owned, fmt.Sprintf("free-%d.%s", i, benchDomain))
				taken := builders.Route(benchOther, owned)
				t := time.Now()
				if _, err := v.ValidateCreate(ctx, r); err != nil {
					b.Fatalf("owner denied: %v", err)
				}
				if _, err := v.ValidateCreate(ctx, taken); err == nil {
					b.Fatal("other namespace admitted")
				}
				durations = append(durations, time.Since(t)/2)
			}
			b.StopTimer()
			reportQuantiles(b, durations)
			// Reported after the timed loop: ResetTimer discards metrics reported before it.
			b.ReportMetric(heapPerClaim[n], "heap-B/claim")
			b.Logf("heap grew %.0f bytes per claim while the claims of this size were added", heapPerClaim[n])
		})
	}
}

// BenchmarkAdmissionThroughAPIServer creates routes through the real API server with 50
// concurrent creators and 10,000 claims in place: routes for hostnames their namespace already
// owns, and routes that make a new claim. It reports client-side latency quantiles and the
// webhook's own, from its histogram.
func BenchmarkAdmissionThroughAPIServer(b *testing.B) {
	benchSetup(b)
	if benchClaims.Load() < 10000 {
		fillClaims(b, 10000)
	}
	for _, tc := range []struct {
		kind    string
		workers int
	}{{"owned", 50}, {"new-claim", 50}, {"owned", 4}, {"new-claim", 4}} {
		kind, workers := tc.kind, tc.workers
		b.Run(fmt.Sprintf("%s/creators=%d", kind, workers), func(b *testing.B) {
			before, ownBefore := webhookBuckets(b), ownHandlerBuckets(b)
			durations := createConcurrently(b, workers, func(i int) client.Object {
				h := fmt.Sprintf("host-%d.%s", i%10000, benchDomain)
				if kind == "new-claim" {
					h = fmt.Sprintf("%s-%d-%d-%d.%s", kind, workers, b.N, i, benchDomain)
				}
				return builders.Route(benchOwner, h)
			})
			reportQuantiles(b, durations)
			reportWebhookShare(b, before, webhookBuckets(b))
			reportOwnHandler(b, ownBefore, ownHandlerBuckets(b))
		})
	}
}

func reportQuantiles(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	q := func(p float64) float64 { return float64(d[int(p*float64(len(d)-1))].Microseconds()) }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(float64(d[len(d)-1].Microseconds()), "max-µs")
}

// webhookBuckets reads the API server's own histogram of how long it waited for the HTTPRoute
// validating webhook: cumulative counts by bucket upper bound ("le").
func webhookBuckets(b *testing.B) map[string]float64 {
	out := map[string]float64{}
	for _, line := range apiServerMetrics(b, nil) {
		if !strings.HasPrefix(line, "apiserver_admission_webhook_admission_duration_seconds_bucket{") ||
			!strings.Contains(line, `name="vhttproute.gateway.opendi.com"`) || !strings.Contains(line, `operation="CREATE"`) {
			continue
		}
		i := strings.Index(line, `le="`)
		le := line[i+4 : i+4+strings.IndexByte(line[i+4:], '"')]
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			out[le] += v
		}
	}
	return out
}

// reportWebhookShare reports, from the API server's histogram, the share of admissions that took
// at most 5 ms and at most 25 ms (its finest buckets) between two readings.
func reportWebhookShare(b *testing.B, before, after map[string]float64) {
	total := after["+Inf"] - before["+Inf"]
	if total == 0 {
		return
	}
	b.ReportMetric(100*(after["0.005"]-before["0.005"])/total, "%<=5ms(apiserver)")
	b.ReportMetric(100*(after["0.025"]-before["0.025"])/total, "%<=25ms(apiserver)")
}

// ownHandlerBuckets reads the webhook's own histogram of its handler time (decision plus any
// DomainClaim create), cumulative counts by upper bound in seconds.
func ownHandlerBuckets(b *testing.B) map[float64]float64 {
	families, err := metrics.Registry.Gather()
	if err != nil {
		b.Fatal(err)
	}
	out := map[float64]float64{}
	for _, f := range families {
		if f.GetName() != "gateway_orchestrator_admission_route_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			h := m.GetHistogram()
			for _, bk := range h.GetBucket() {
				out[bk.GetUpperBound()] += float64(bk.GetCumulativeCount())
			}
			out[math.Inf(1)] += float64(h.GetSampleCount())
		}
	}
	return out
}

// reportOwnHandler reports the p99 upper bound of the webhook's own handler time between two
// readings: the smallest bucket bound that holds 99 % of the admissions.
func reportOwnHandler(b *testing.B, before, after map[float64]float64) {
	total := after[math.Inf(1)] - before[math.Inf(1)]
	if total == 0 {
		return
	}
	bounds := make([]float64, 0, len(after))
	for k := range after {
		bounds = append(bounds, k)
	}
	sort.Float64s(bounds)
	for _, le := range bounds {
		if (after[le]-before[le])/total >= 0.99 {
			b.ReportMetric(le*1e6, "p99<=µs(handler)")
			return
		}
	}
}

// createConcurrently creates b.N × workers objects from that many goroutines, timing each create.
func createConcurrently(b *testing.B, workers int, object func(i int) client.Object) []time.Duration {
	b.ResetTimer()
	durations, _ := timeCreates(b, workers, b.N*workers, object)
	b.StopTimer()
	return durations
}

// timeCreates creates total objects from workers goroutines and returns each create's latency and
// the wall time of them all.
func timeCreates(b *testing.B, workers, total int, object func(i int) client.Object) ([]time.Duration, time.Duration) {
	return timeSteps(b, workers, total, func(i int) []client.Object { return []client.Object{object(i)} })
}

// timeSteps is timeCreates for steps of several creates, made one after the other: each step's
// duration is that of all its creates.
func timeSteps(b *testing.B, workers, total int, step func(i int) []client.Object) ([]time.Duration, time.Duration) {
	ctx := context.Background()
	var next atomic.Int64
	durations := make([]time.Duration, total)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < total; i = int(next.Add(1) - 1) {
				objs := step(i)
				t := time.Now()
				for _, obj := range objs {
					if err := k8s.Create(ctx, obj); err != nil {
						b.Errorf("create: %v", err)
						return
					}
				}
				durations[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	return durations, time.Since(start)
}

// apiServerMetrics reads the API server's /metrics, through cs when given (a client made once
// and read often) or a new client, and returns its lines.
func apiServerMetrics(b *testing.B, cs *kubernetes.Clientset) []string {
	if cs == nil {
		var err error
		if cs, err = kubernetes.NewForConfig(env.Config); err != nil {
			b.Fatal(err)
		}
	}
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return strings.Split(string(raw), "\n")
}
