// Package integration runs the orchestrator against a real kube-apiserver and etcd, with its
// webhooks registered in the API server, and tests what users see.
package integration

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

var (
	env *testenv.Env
	k8s client.Client
	seq atomic.Int64
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.Level(zapLevel()))))
	ctx := context.Background()
	var err error
	env, err = testenv.Start(ctx, testenv.Options{
		AWS: &awsfake.Options{},
		// Client-side limits well above the defaults, so that tests of hundreds of claims do
		// not wait minutes for ACM's real 5 requests a second (the throttling test uses faults).
		AWSRates: map[string]float64{"acm:RequestCertificate": 200, "acm:DescribeCertificate": 200, "acm:ListCertificates": 50, "acm:*": 200, "route53:*": 200},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the test control plane:", err)
		os.Exit(1)
	}
	k8s = env.Client
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping the test control plane:", err)
	}
	os.Exit(code)
}

// unique returns a name unique within this test run.
func unique(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, seq.Add(1))
}

// newNamespace creates a namespace with labels.
func newNamespace(t testing.TB, labels map[string]string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: unique("ns"), Labels: labels}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	return ns.Name
}

// tenant creates a namespace that every test zone allows by label.
func tenant(t testing.TB) string {
	return newNamespace(t, map[string]string{"tenant": "true"})
}

// newZone creates a ManagedZone for a fresh domain under test, allowing namespaces labelled
// tenant=true, and returns its domain.
func newZone(t testing.TB, mutate ...func(*v1alpha1.ManagedZone)) *v1alpha1.ManagedZone {
	t.Helper()
	name := unique("zone")
	z := &v1alpha1.ManagedZone{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.ManagedZoneSpec{
			Domain: name + ".example.com",
			AllowedNamespaces: v1alpha1.AllowedNamespaces{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"tenant": "true"}},
			},
		},
	}
	for _, m := range mutate {
		m(z)
	}
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

// route builds an HTTPRoute without parentRefs.
func route(ns string, hostnames ...string) *gwv1.HTTPRoute {
	r := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: unique("route")}}
	for _, h := range hostnames {
		r.Spec.Hostnames = append(r.Spec.Hostnames, gwv1.Hostname(h))
	}
	return r
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
