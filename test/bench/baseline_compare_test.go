package bench

import (
	"flag"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/builders"
	"github.com/opendi/gateway-orchestrator/webhook"
)

// BenchmarkRouteCreateVsBaseline creates objects that carry a hostname, each with a new hostname,
// through the real API server, side by side in one run: the baseline in kube-system (which the
// webhooks' namespaceSelector excludes: the API server and etcd alone) and ours in a tenant
// namespace (the webhooks and the claim each new hostname makes), with 0, 1,000 and 10,000 claims
// in place, 1 and 10 concurrent creators, and three kinds: HTTPRoute, GRPCRoute and an Ingress of
// LBC's class. The two sides take turns (rounds), so that a change in the machine's load weighs
// on both alike. It reports each side's p50 and creates per second, the p50 ratio (ours /
// baseline), our share of the baseline's throughput, each side's API server requests per
// create (all verbs but WATCH, from apiserver_request_total: noise-free, unlike the timings), and
// each side's CPU per create in the API server, etcd and this process (side-apiserver-cpu-ms...;
// far less disturbed by other work on the machine than the timings, and what bounds the rate
// of a saturated API server).
// A third side, the floor, creates in each step the claim admission would make and then the
// object, both from the client and with no webhook called: the cost of one extra write per new
// hostname, which no admission that claims at create time can go below. It reports the floor
// against the baseline (floor-p50-ratio, floor-%-of-base-rate) and ours against the floor
// (p50-ratio-to-floor, %-of-floor-rate).
// b.N is the number of creates per side and step; run it alone so that the first step really
// has no claims. To compare one kind: -bench 'RouteCreateVsBaseline/.*/kind=Ingress'.
func BenchmarkRouteCreateVsBaseline(b *testing.B) {
	benchSetup(b)
	for _, claims := range []int{0, 1000, 10000} {
		// A step that -test.bench leaves out makes no claims (10,000 cost minutes).
		if int(benchClaims.Load()) < claims && benchSelects(1, fmt.Sprintf("claims=%d", claims)) {
			fillClaims(b, claims)
			// The API server's work for the fill (watch fan-out, garbage collection) ends before
			// the first side starts, or the first side's CPU and timings carry it.
			time.Sleep(settle)
		}
		for _, creators := range []int{1, 10} {
			for _, kind := range []string{"HTTPRoute", "GRPCRoute", "Ingress"} {
				b.Run(fmt.Sprintf("claims=%d/creators=%d/kind=%s", claims, creators, kind), func(b *testing.B) {
					total := max(b.N, creators*rounds)
					tag := builders.Unique("cmp")
					reqs := requestCounter(b)
					timers := newServerTimers(b)
					var base, ours, floor []time.Duration
					var baseWall, oursWall, floorWall time.Duration
					baseReqs, oursReqs := requests{}, requests{}
					baseCPU, oursCPU, floorCPU := newCPUMeter(b), newCPUMeter(b), newCPUMeter(b)
					// The sides take turns, a quarter of the creates at a time, so that a change in
					// the machine's load (other work on shared cores) weighs on both alike.
					for r := 0; r < rounds; r++ {
						n := total/rounds + boolInt(r < total%rounds)
						baseCPU.start()
						d, wall := timeCreates(b, creators, n, func(i int) client.Object {
							return hostObject(kind, "kube-system", fmt.Sprintf("%s-%d-%d.baseline.example.com", tag, r, i))
						})
						baseCPU.stop()
						base, baseWall = append(base, d...), baseWall+wall
						baseReqs.add(reqs())
						oursCPU.start()
						d, wall = timeCreates(b, creators, n, func(i int) client.Object {
							return hostObject(kind, benchOwner, fmt.Sprintf("%s-%d-%d.%s", tag, r, i, benchDomain))
						})
						oursCPU.stop()
						ours, oursWall = append(ours, d...), oursWall+wall
						oursReqs.add(reqs())
						// The floor: the object and the one claim admission makes for it, both
						// created by the client with no webhook called (kube-system; the claim
						// carries the owner label that keeps the DomainClaim webhooks away).
						floorCPU.start()
						d, wall = timeSteps(b, creators, n, func(i int) []client.Object {
							h := fmt.Sprintf("%s-%d-%d.floor.%s", tag, r, i, benchDomain)
							return []client.Object{admissionClaim(h, kind), hostObject(kind, "kube-system", fmt.Sprintf("%s-%d-%d.floor.example.com", tag, r, i))}
						})
						floorCPU.stop()
						floor, floorWall = append(floor, d...), floorWall+wall
						reqs()
					}
					bp50, op50 := p50(base), p50(ours)
					b.ReportMetric(float64(bp50.Microseconds()), "base-p50-µs")
					b.ReportMetric(float64(op50.Microseconds()), "ours-p50-µs")
					b.ReportMetric(float64(op50)/float64(bp50), "p50-ratio")
					bRate, oRate := float64(total)/baseWall.Seconds(), float64(total)/oursWall.Seconds()
					b.ReportMetric(bRate, "base-creates/s")
					b.ReportMetric(oRate, "ours-creates/s")
					b.ReportMetric(100*oRate/bRate, "%-of-base-rate")
					// Ours against the floor that one extra write per new hostname sets, and where that
					// floor itself sits against the baseline.
					fp50, fRate := p50(floor), float64(total)/floorWall.Seconds()
					b.ReportMetric(float64(fp50.Microseconds()), "floor-p50-µs")
					b.ReportMetric(float64(fp50)/float64(bp50), "floor-p50-ratio")
					b.ReportMetric(100*fRate/bRate, "floor-%-of-base-rate")
					b.ReportMetric(float64(op50)/float64(fp50), "p50-ratio-to-floor")
					b.ReportMetric(100*oRate/fRate, "%-of-floor-rate")
					floorCPU.report("floor", total)
					b.ReportMetric(baseReqs.total()/float64(total), "base-reqs/create")
					b.ReportMetric(oursReqs.total()/float64(total), "ours-reqs/create")
					b.Logf("API server requests per create, ours: %s", oursReqs.per(total))
					// On a machine whose CPU is the limit, as it is with 10 creators, the rate follows the
					// CPU per create: our share of the baseline's rate by CPU, which other work on the
					// machine disturbs far less than the timed rate.
					if ours := oursCPU.report("ours", total); ours > 0 {
						b.ReportMetric(100*baseCPU.report("base", total)/ours, "%-of-base-rate-by-cpu")
					}
					// Where ours spends its time, as means from the API server's own histograms: the
					// validating webhook call as the API server waits for it, and within it, the
					// claim create as the API server serves it.
					hook, claim := timers.webhook(kind), timers.claimCreate()
					b.ReportMetric(hook*1000, "webhook-ms")
					b.ReportMetric(claim*1000, "claim-create-ms")
					b.ReportMetric(timers.apfWait()*1000, "apf-wait-ms")
					// Every webhook call but the kind's validating one is avoidable for these
					// objects (normalized hostnames, no parentRefs; the claim carries the owner
					// label): the mutating route webhooks' matchConditions and the DomainClaim
					// webhooks' objectSelector must keep them away.
					b.ReportMetric(timers.otherCalls(kind)/float64(total), "other-webhook-calls/create")
					if handler := timers.handler(); handler > 0 {
						b.ReportMetric(handler*1000, "handler-ms")
					}
				})
			}
		}
	}
}

// benchSelects reports whether the -test.bench pattern's element at level (0 is the benchmark's
// own name, 1 its first sub-benchmark level) matches name, as the testing package matches a
// sub-benchmark's name (the pattern split at "/"); a pattern with fewer elements selects it.
func benchSelects(level int, name string) bool {
	parts := strings.Split(flag.Lookup("test.bench").Value.String(), "/")
	if level >= len(parts) {
		return true
	}
	re, err := regexp.Compile(parts[level])
	return err != nil || re.MatchString(name)
}

// admissionClaim is the DomainClaim admission makes for hostname h of an object of kind, as
// BenchmarkObjectCreateCost's DomainClaim-admission: owner label, the annotations naming the
// object and its UID, and the AWS cleanup finalizer.
func admissionClaim(h, kind string) *v1alpha1.DomainClaim {
	c := webhook.NewClaim(h, benchOwner, kind+" "+benchOwner+"/"+builders.Unique("floor"), v1alpha1.FinalizerAWSCleanup)
	c.Annotations[v1alpha1.AnnotationClaimedForUID] = string(uuid.NewUUID())
	return c
}

// hostObject is an object of kind (HTTPRoute, GRPCRoute or an Ingress of LBC's class) carrying
// hostname h, without parentRefs.
func hostObject(kind, ns, h string) client.Object {
	switch kind {
	case "GRPCRoute":
		return &gwv1.GRPCRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: builders.Unique("grpc")}, Spec: gwv1.GRPCRouteSpec{Hostnames: []gwv1.Hostname{gwv1.Hostname(h)}}}
	case "Ingress":
		return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: builders.Unique("ing")}, Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To("alb"),
			Rules: []networkingv1.IngressRule{{Host: h, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: ptr.To(networkingv1.PathTypePrefix), Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}}},
			}}}},
		}}
	}
	return builders.Route(ns, h)
}

// rounds is how many turns each side of a side-by-side comparison takes.
const rounds = 4

// settle is how long the comparison waits after filling claims.
const settle = 3 * time.Second

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// requests counts API server requests by "VERB resource" since the last reading.
type requests map[string]float64

func (r requests) add(o requests) {
	for k, v := range o {
		r[k] += v
	}
}

func (r requests) total() float64 {
	n := 0.0
	for _, v := range r {
		n += v
	}
	return n
}

// per lists the requests per create, largest first.
func (r requests) per(creates int) string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return r[keys[i]] > r[keys[j]] })
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if v := r[k] / float64(creates); v >= 0.05 {
			parts = append(parts, fmt.Sprintf("%s %.2f", k, v))
		}
	}
	return strings.Join(parts, ", ")
}

// requestCounter returns a function that reads the API server's apiserver_request_total and
// returns the requests (WATCH excluded) made since its previous call.
func requestCounter(b *testing.B) func() requests {
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		b.Fatal(err)
	}
	read := func() requests {
		out := requests{}
		for _, line := range apiServerMetrics(b, cs) {
			if !strings.HasPrefix(line, "apiserver_request_total{") {
				continue
			}
			verb, resource := label(line, "verb"), label(line, "resource")
			if verb == "WATCH" || resource == "" {
				continue
			}
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err == nil {
				out[verb+" "+resource] += v
			}
		}
		return out
	}
	prev := read()
	return func() requests {
		now := read()
		diff := requests{}
		for k, v := range now {
			if d := v - prev[k]; d > 0 {
				diff[k] = d
			}
		}
		prev = now
		return diff
	}
}

// label reads one label's value from a Prometheus text line.
func label(line, name string) string {
	i := strings.Index(line, name+`="`)
	if i < 0 {
		return ""
	}
	rest := line[i+len(name)+2:]
	return rest[:strings.IndexByte(rest, '"')]
}

func p50(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// serverTimers reads means of API server histograms over the creates since it was made.
type serverTimers struct {
	b                        *testing.B
	before                   map[string]float64
	handlerSum, handlerCount float64
}

func newServerTimers(b *testing.B) *serverTimers {
	t := &serverTimers{b: b, before: scrapeSums(b)}
	t.handlerSum, t.handlerCount = handlerTotals(b)
	return t
}

// handlerTotals reads the sum and count of the webhook's own histogram of its handler time
// (the Door's decision and the claim create), over every door.
func handlerTotals(b *testing.B) (sum, count float64) {
	families, err := metrics.Registry.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "gateway_orchestrator_admission_route_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			sum += m.GetHistogram().GetSampleSum()
			count += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum, count
}

// handler is the mean time of the webhook's own handler since the timers were made.
func (t *serverTimers) handler() float64 {
	sum, count := handlerTotals(t.b)
	if count == t.handlerCount {
		return 0
	}
	return (sum - t.handlerSum) / (count - t.handlerCount)
}

// scrapeSums reads the _sum and _count of the webhook and request duration histograms, keyed by
// metric name and the labels that matter here.
func scrapeSums(b *testing.B) map[string]float64 {
	out := map[string]float64{}
	for _, line := range apiServerMetrics(b, nil) {
		var key string
		for _, m := range []string{"apiserver_admission_webhook_admission_duration_seconds", "apiserver_request_duration_seconds", "apiserver_flowcontrol_request_wait_duration_seconds"} {
			for _, suffix := range []string{"_sum{", "_count{"} {
				if strings.HasPrefix(line, m+suffix) {
					key = m + suffix + label(line, "name") + "/" + label(line, "verb") + "/" + label(line, "resource") + "/" + label(line, "operation") + label(line, "priority_level")
				}
			}
		}
		if key == "" {
			continue
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
			out[key] += v
		}
	}
	return out
}

// mean is the mean in seconds of the observations of one histogram key since the timers were made.
func (t *serverTimers) mean(now map[string]float64, metric, key string) float64 {
	n := now[metric+"_count{"+key] - t.before[metric+"_count{"+key]
	if n == 0 {
		return 0
	}
	return (now[metric+"_sum{"+key] - t.before[metric+"_sum{"+key]) / n
}

// webhook is the mean time the API server waited for our validating webhook of kind on CREATE.
func (t *serverTimers) webhook(kind string) float64 {
	return t.mean(scrapeSums(t.b), "apiserver_admission_webhook_admission_duration_seconds", webhookNames[kind]+"///CREATE")
}

// webhookNames are the names of our validating webhooks by the kind they check.
var webhookNames = map[string]string{"HTTPRoute": "vhttproute.gateway.opendi.com", "GRPCRoute": "vgrpcroute.gateway.opendi.com", "Ingress": "vingress.gateway.opendi.com"}

// otherCalls is how many times since the timers were made the API server called, on CREATE, any
// webhook but our validating webhook of kind.
func (t *serverTimers) otherCalls(kind string) float64 {
	const prefix = "apiserver_admission_webhook_admission_duration_seconds_count{"
	mine := prefix + webhookNames[kind] + "///CREATE"
	n := 0.0
	for k, v := range scrapeSums(t.b) {
		if strings.HasPrefix(k, prefix) && strings.HasSuffix(k, "///CREATE") && k != mine {
			n += v - t.before[k]
		}
	}
	return n
}

// claimCreate is the mean time the API server took to serve a DomainClaim create.
func (t *serverTimers) claimCreate() float64 {
	return t.mean(scrapeSums(t.b), "apiserver_request_duration_seconds", "/POST/domainclaims/")
}

// apfWait is the mean time requests of the exempt and other priority levels waited in the API
// server's priority-and-fairness queues (both sides of the step).
func (t *serverTimers) apfWait() float64 {
	now := scrapeSums(t.b)
	var sum, n float64
	for k, v := range now {
		if strings.HasPrefix(k, "apiserver_flowcontrol_request_wait_duration_seconds_sum{") {
			sum += v - t.before[k]
		}
		if strings.HasPrefix(k, "apiserver_flowcontrol_request_wait_duration_seconds_count{") {
			n += v - t.before[k]
		}
	}
	if n == 0 {
		return 0
	}
	return sum / n
}
