// Package bench measures admission: the webhook's decision against the informer cache at 1k,
// 10k and 100k claims, heap per cached claim, and latency through the real API server under 50
// concurrent creators, against a baseline without webhooks. Run with `make bench`.
package bench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

var (
	env *testenv.Env
	k8s client.Client
	seq atomic.Int64
)

func TestMain(m *testing.M) {
	flag.Parse()
	if flag.Lookup("test.bench").Value.String() == "" {
		os.Exit(m.Run()) // no benchmark asked for: no control plane needed
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	var err error
	// The reconcilers stay off so that their status writes do not disturb the timings.
	env, err = testenv.Start(context.Background(), testenv.Options{NoReconcilers: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the test control plane:", err)
		os.Exit(1)
	}
	k8s = env.Client
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

func unique(prefix string) string { return fmt.Sprintf("%s-%d", prefix, seq.Add(1)) }

func tenant(b testing.TB) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: unique("ns"), Labels: map[string]string{"tenant": "true"}}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		b.Fatal(err)
	}
	return ns.Name
}

func newZone(b testing.TB) *v1alpha1.ManagedZone {
	name := unique("zone")
	z := &v1alpha1.ManagedZone{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.ManagedZoneSpec{
			Domain: name + ".example.com", HostedZoneID: "Z0123456789ABC",
			AllowedNamespaces: v1alpha1.AllowedNamespaces{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"tenant": "true"}}},
		},
	}
	if err := k8s.Create(context.Background(), z); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		if env.Manager.GetCache().Get(context.Background(), client.ObjectKeyFromObject(z), &v1alpha1.ManagedZone{}) == nil {
			return z
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatal("zone never reached the cache")
	return nil
}

func route(ns string, hostnames ...string) *gwv1.HTTPRoute {
	r := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: unique("route")}}
	for _, h := range hostnames {
		r.Spec.Hostnames = append(r.Spec.Hostnames, gwv1.Hostname(h))
	}
	return r
}

func adminClaim(h, ns string) *v1alpha1.DomainClaim {
	return &v1alpha1.DomainClaim{
		ObjectMeta: metav1.ObjectMeta{Name: h},
		Spec:       v1alpha1.DomainClaimSpec{Hostname: h, Namespace: ns, ClaimedBy: v1alpha1.ClaimedByAdmin},
	}
}
