// Package bench measures admission: the webhook's decision against the informer cache at 1k,
// 10k and 100k claims, heap per cached claim, and latency through the real API server under 50
// concurrent creators, against a baseline without webhooks. Run with `make bench`.
package bench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/cmd/gateway-orchestrator/app"
	"github.com/opendi/gateway-orchestrator/internal/claimstatus"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
	"github.com/opendi/gateway-orchestrator/test/builders"
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

var (
	withReconcilers = os.Getenv("BENCH_RECONCILERS") != ""

	env *testenv.Env
	k8s client.Client
)

func TestMain(m *testing.M) {
	flag.Parse()
	if flag.Lookup("test.bench").Value.String() == "" {
		os.Exit(m.Run()) // no benchmark asked for: no control plane needed
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	// The reconcilers stay off so that their status writes do not disturb the timings.
	// BENCH_WEBHOOK_HTTP2=1 serves the webhooks over HTTP/2 too (as --enable-http2), to compare.
	opts := testenv.Options{NoReconcilers: true, WebhookHTTP2: os.Getenv("BENCH_WEBHOOK_HTTP2") != ""}
	// BENCH_RECONCILERS=1 runs the whole orchestrator instead, as `make run-local` does (the AWS
	// test server at AWS's limits, the LBC stand-in, claims' status written as in a cluster):
	// admission then shares the API server with the reconcilers' work on the claims in place.
	if withReconcilers {
		opts = testenv.Options{
			WebhookHTTP2: opts.WebhookHTTP2,
			AWS:          &awsfake.Options{ValidationRecordDelay: time.Second, IssueDelay: 3 * time.Second},
			QuietPeriod:  claimstatus.DefaultQuietPeriod,
		}
		// BENCH_RECONCILER_WRITES sets the reconcilers' write budget (--reconciler-write-qps; 0:
		// none; the binary's default otherwise, as testenv's), to compare.
		if v := os.Getenv("BENCH_RECONCILER_WRITES"); v != "" {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				fmt.Fprintln(os.Stderr, "BENCH_RECONCILER_WRITES:", err)
				os.Exit(2)
			}
			if n == 0 {
				n = -1 // testenv reads zero as the default budget
			}
			opts.App.ReconcilerWrites, opts.App.ReconcilerWriteBurst = n, app.DefaultReconcilerWriteBurst
		}
	}
	os.Exit(testenv.Run(m, opts, func(e *testenv.Env) {
		env, k8s = e, e.Client
		if e.AWS != nil {
			e.AWS.Route53.AddZoneWithID("Z0123456789ABC", "example.com")
		}
	}))
}

func tenant(b testing.TB) string {
	ns := builders.Namespace(builders.Unique("ns"), builders.TenantLabels())
	if err := k8s.Create(context.Background(), ns); err != nil {
		b.Fatal(err)
	}
	return ns.Name
}

func newZone(b testing.TB) *v1alpha1.ManagedZone {
	z := builders.Zone(builders.Unique("zone"), builders.Hosted("Z0123456789ABC"))
	if err := k8s.Create(context.Background(), z); err != nil {
		b.Fatal(err)
	}
	if err := env.WaitForCache(z, 10*time.Second); err != nil {
		b.Fatal(err)
	}
	return z
}
