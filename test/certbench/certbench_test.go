// Package certbench brings many claims to an issued certificate against the AWS test server
// throttled at the real account limits (optionally all scaled up together) and reports AWS calls
// and Kubernetes writes per claim and the wall time against the floor the limits set. Run it
// with `make bench-certificates`.
package certbench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/awsclient"
	"github.com/opendi/gateway-orchestrator/internal/claimstatus"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
	"github.com/opendi/gateway-orchestrator/test/builders"
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

var (
	claims = flag.Int("claims", 1000, "claims to bring to certificate-issued")
	scale  = flag.Float64("scale", 10, "factor applied to every AWS rate limit (server and client alike)")
	delay  = flag.Duration("issue-delay", 5*time.Second, "ACM's validation delay once the CNAME exists")
	until  = flag.String("until", "issued", "what each claim must reach: issued (a certificate) or ready (served on a pool Gateway, through the LBC stand-in)")
)

func TestMain(m *testing.M) {
	flag.Parse()
	if flag.Lookup("test.bench").Value.String() == "" {
		os.Exit(m.Run())
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	os.Exit(m.Run())
}

// The account limits of DESIGN.md that the server enforces, per second.
var accountLimits = map[string]float64{
	"acm:RequestCertificate":  5,
	"acm:DescribeCertificate": 10,
	"acm:ListCertificates":    1,
	"route53:*":               5,
}

// BenchmarkClaimsToGoal brings -claims routes' claims to -until (issued or ready).
func BenchmarkClaimsToGoal(b *testing.B) {
	if b.N > 1 {
		b.Skip("one run is the measurement")
	}
	ctx := context.Background()
	clientRates := map[string]float64{}
	for k, v := range awsclient.DefaultRates {
		clientRates[k] = v * *scale
	}
	env, err := testenv.Start(ctx, testenv.Options{
		AWS:      &awsfake.Options{ValidationRecordDelay: time.Second, IssueDelay: *delay},
		AWSRates: clientRates,
		// The default 2 s window between a zone's batches, scaled like the limits.
		DNSBatchWindow: time.Duration(float64(2*time.Second) / *scale),
		PollInterval:   time.Duration(float64(2*time.Second) / *scale),
		// The default minute in which a new claim's waiting steps are not written, scaled too.
		QuietPeriod: time.Duration(float64(claimstatus.DefaultQuietPeriod) / *scale),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	for op, r := range accountLimits {
		env.AWS.SetRate(op, r**scale, int(r**scale))
	}
	k8s := env.Client
	zoneID := env.AWS.Route53.AddZone("bench.example.com")
	must(b, k8s.Create(ctx, builders.Namespace("team", nil)))
	zone := builders.Zone("bench", builders.Hosted(zoneID), builders.AllowNamespaces("team"))
	goal := v1alpha1.ConditionCertificateIssued
	if *until == "ready" {
		goal = v1alpha1.ConditionReady
		must(b, k8s.Create(ctx, builders.Namespace("gateway-system", nil)))
		must(b, k8s.Create(ctx, builders.Pool("public", func(p *v1alpha1.GatewayPool) {
			p.Spec.MaxGateways = int32(min(100, *claims/25+2)) // room for every claim
		})))
		builders.Served("public")(zone)
	}
	must(b, k8s.Create(ctx, zone))
	time.Sleep(time.Second)
	writesBefore, conflictsBefore := claimWrites(b, env)
	poolSecondsBefore, poolCountBefore := poolReconciles(b)

	cpu := startCPU(b)
	n := *claims
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				if err := k8s.Create(ctx, builders.Route("team", fmt.Sprintf("h%d.bench.example.com", i))); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	created := time.Since(start)

	var done []time.Duration
	for deadline := time.Now().Add(30 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		var l v1alpha1.DomainClaimList
		must(b, env.Manager.GetCache().List(ctx, &l))
		done = done[:0]
		for _, c := range l.Items {
			if cond := meta.FindStatusCondition(c.Status.Conditions, goal); cond != nil && cond.Status == metav1.ConditionTrue {
				done = append(done, cond.LastTransitionTime.Sub(c.CreationTimestamp.Time))
			}
		}
		if len(done) >= n {
			break
		}
	}
	wall := time.Since(start)
	cpu.report(b, n)
	logStages(b, env)
	if len(done) < n {
		b.Fatalf("only %d of %d claims reached %s in %s", len(done), n, goal, wall)
	}
	sort.Slice(done, func(i, j int) bool { return done[i] < done[j] })
	floor := time.Duration(float64(n)/(accountLimits["acm:RequestCertificate"]**scale)*float64(time.Second)) + *delay

	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(floor.Seconds(), "floor-s")
	b.ReportMetric(wall.Seconds()/floor.Seconds(), "wall/floor")
	b.ReportMetric(done[len(done)/2].Seconds(), "p50-claim-to-goal-s")
	b.ReportMetric(done[len(done)*99/100].Seconds(), "p99-claim-to-goal-s")
	b.ReportMetric(done[len(done)-1].Seconds(), "last-claim-to-goal-s")
	total := 0
	var ops []string
	for op, c := range env.AWS.AllCalls() {
		total += c
		ops = append(ops, fmt.Sprintf("%s=%.3f", op, float64(c)/float64(n)))
	}
	sort.Strings(ops)
	b.ReportMetric(float64(total)/float64(n), "aws-calls/claim")
	r53 := 0
	for op, c := range env.AWS.AllCalls() {
		if strings.HasPrefix(op, "route53:") {
			r53 += c
		}
	}
	b.ReportMetric(float64(r53)/float64(n), "route53-calls/claim")
	writes, conflicts := claimWrites(b, env)
	writes, conflicts = writes-writesBefore, conflicts-conflictsBefore
	b.ReportMetric(writes/float64(n), "k8s-writes/claim")
	poolSeconds, poolCount := poolReconciles(b)
	b.ReportMetric((poolSeconds-poolSecondsBefore)*1e3/float64(n), "pool-reconcile-ms/claim")
	b.ReportMetric(float64(poolCount-poolCountBefore)/float64(n), "pool-reconciles/claim")
	b.ReportMetric(conflicts, "k8s-409-conflicts")
	b.Logf("%d claims: routes created in %s; all %s after %s (floor %s at %.0fx the account limits)", n, created.Round(time.Millisecond), goal, wall.Round(time.Millisecond), floor, *scale)
	b.Logf("AWS calls per claim by operation (throttled included): %s", strings.Join(ops, " "))
	b.Logf("throttled by the server: RequestCertificate %d, DescribeCertificate %d, Route53 %d",
		env.AWS.Throttled("acm:RequestCertificate"), env.AWS.Throttled("acm:DescribeCertificate"), env.AWS.Throttled("route53:ChangeResourceRecordSets"))
	b.Logf("Kubernetes writes to DomainClaims (create, update, patch, apply, status included): %.0f, %.2f per claim; 409 conflicts: %.0f",
		writes, writes/float64(n), conflicts)
}

// claimWrites reads the API server's count of mutating requests on domainclaims that succeeded,
// and of those refused with 409 Conflict.
func claimWrites(b *testing.B, env *testenv.Env) (writes, conflicts float64) {
	cs, err := kubernetes.NewForConfig(env.Config)
	must(b, err)
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	must(b, err)
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "apiserver_request_total{") || !strings.Contains(line, `resource="domainclaims"`) {
			continue
		}
		// The API server reports a create as verb POST, an update as PUT, and a server-side apply
		// as APPLY (not PATCH); a no-op apply counts like any other.
		if !writeVerb.MatchString(line) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			continue
		}
		switch {
		case strings.Contains(line, `code="20`):
			writes += v
		case strings.Contains(line, `code="409"`):
			conflicts += v // not writes: the request changed nothing
		}
	}
	return writes, conflicts
}

// writeVerb matches the verb label of the API server's mutating requests but deletes.
var writeVerb = regexp.MustCompile(`verb="(POST|PUT|PATCH|APPLY)"`)

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
