// Package integration runs the orchestrator against a real kube-apiserver and etcd, with its
// webhooks registered in the API server, and tests what users see.
package integration

import (
	"context"
	"os"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
	"github.com/opendi/gateway-orchestrator/test/builders"
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

var (
	env *testenv.Env
	k8s client.Client
)

// The object builders the suites share (see package builders).
var (
	unique = builders.Unique
	route  = builders.Route
	pool   = builders.Pool
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.Level(zapLevel()))))
	os.Exit(testenv.Run(m, testenv.Options{
		AWS: &awsfake.Options{},
		// Client-side limits well above the defaults, so that tests of hundreds of claims do
		// not wait minutes for ACM's real 5 requests a second (the throttling test uses faults).
		AWSRates: map[string]float64{"acm:RequestCertificate": 200, "acm:DescribeCertificate": 200, "acm:ListCertificates": 50, "acm:*": 200, "route53:*": 200},
	}, func(e *testenv.Env) { env, k8s = e, e.Client }))
}

// adminClaim is an admin's claim that provisions at once (spec.provision: Always), as the
// tests of the AWS side need; bound_test.go covers one without it.
func adminClaim(h, ns string) *v1alpha1.DomainClaim {
	return builders.AdminClaim(h, ns, builders.ProvisionAlways)
}

// newNamespace creates a namespace with labels.
func newNamespace(t testing.TB, labels map[string]string) string {
	t.Helper()
	ns := builders.Namespace(unique("ns"), labels)
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	return ns.Name
}

// tenant creates a namespace that every test zone allows by label.
func tenant(t testing.TB) string {
	return newNamespace(t, builders.TenantLabels())
}

// newZone creates a ManagedZone for a fresh domain under test, allowing namespaces labelled
// tenant=true, and returns its domain.
func newZone(t testing.TB, mutate ...func(*v1alpha1.ManagedZone)) *v1alpha1.ManagedZone {
	t.Helper()
	z := builders.Zone(unique("zone"), mutate...)
	if z.Spec.HostedZoneID == "" {
		z.Spec.HostedZoneID = env.AWS.Route53.AddZone(z.Spec.Domain)
	}
	if err := k8s.Create(context.Background(), z); err != nil {
		t.Fatalf("creating ManagedZone: %v", err)
	}
	waitForZone(t, z.Spec.Domain)
	return z
}

// waitForZone waits until the orchestrator's cache has the zone.
func waitForZone(t testing.TB, domain string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var l v1alpha1.ManagedZoneList
		if err := env.Manager.GetCache().List(context.Background(), &l); err == nil {
			for _, z := range l.Items {
				if z.Spec.Domain == domain {
					return
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("zone %s never reached the cache", domain)
}

// updateLatest reads obj, applies mutate and updates it, again from the latest version while the
// update conflicts with another writer (a reconciler or the stand-in). Any other error, such as a
// denial, is returned as it is.
func updateLatest(ctx context.Context, obj client.Object, mutate func()) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		mutate()
		return k8s.Update(ctx, obj)
	})
}

func getClaim(name string) (*v1alpha1.DomainClaim, error) {
	c := &v1alpha1.DomainClaim{}
	return c, k8s.Get(context.Background(), client.ObjectKey{Name: name}, c)
}

func zapLevel() int8 {
	if os.Getenv("TEST_VERBOSE_LOGS") != "" {
		return -1
	}
	return 4 // errors only
}
