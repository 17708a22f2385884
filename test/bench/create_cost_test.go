package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/uuid"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/builders"
	"github.com/opendi/gateway-orchestrator/webhook"
)

// BenchmarkObjectCreateCost answers what one create costs the API server, by the kind of object,
// with no webhook called: one creator, the kinds taking turns, reporting the client's p50 and the
// CPU per create of the API server, etcd and this process (the manager's cache sees every one).
// Kinds: a ConfigMap (built-in, tiny), an object of a trivial CRD (no schema, no rules), a
// DomainClaim with only its spec and its owner label (which keeps the DomainClaim webhooks away:
// without it the create costs two webhook calls), the DomainClaim admission makes in production
// (webhook.NewClaim: also the annotations naming its object and the object's UID, and the AWS
// cleanup finalizer; the difference is what they cost), and an HTTPRoute in kube-system (the
// baseline of BenchmarkRouteCreateVsBaseline).
func BenchmarkObjectCreateCost(b *testing.B) {
	benchSetup(b)
	trivial := trivialCRD(b)
	kinds := []string{"ConfigMap", "TrivialCRD", "DomainClaim-owner", "DomainClaim-admission", "HTTPRoute"}
	object := func(kind string, i int) client.Object {
		tag := fmt.Sprintf("cost-%d-%d-%d", len(kind), b.N, i)
		h := tag + "." + benchDomain
		switch kind {
		case "ConfigMap":
			return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: tag}}
		case "TrivialCRD":
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(trivial)
			u.SetName(tag)
			return u
		case "DomainClaim-owner":
			return &v1alpha1.DomainClaim{
				ObjectMeta: metav1.ObjectMeta{Name: h, Labels: map[string]string{webhook.LabelOwner: benchOwner}},
				Spec:       v1alpha1.DomainClaimSpec{Hostname: h, Namespace: benchOwner, ClaimedBy: v1alpha1.ClaimedByRoute},
			}
		case "DomainClaim-admission":
			c := webhook.NewClaim(h, benchOwner, "HTTPRoute "+benchOwner+"/"+tag, v1alpha1.FinalizerAWSCleanup)
			c.Annotations[v1alpha1.AnnotationClaimedForUID] = string(uuid.NewUUID())
			return c
		}
		return builders.Route("kube-system", tag+".baseline.example.com")
	}
	meters := map[string]*cpuMeter{}
	times := map[string][]time.Duration{}
	for _, k := range kinds {
		meters[k] = newCPUMeter(b)
	}
	for r := 0; r < rounds; r++ {
		for _, k := range kinds {
			n := b.N/rounds + boolInt(r < b.N%rounds)
			meters[k].start()
			d, _ := timeCreates(b, 1, n, func(i int) client.Object { return object(k, r*b.N+i) })
			meters[k].stop()
			times[k] = append(times[k], d...)
		}
	}
	for _, k := range kinds {
		b.ReportMetric(float64(p50(times[k]).Microseconds()), k+"-p50-µs")
		meters[k].report(k, b.N)
	}
}

// trivialCRD installs a cluster-scoped CRD without schema or rules and returns its kind.
func trivialCRD(b *testing.B) schema.GroupVersionKind {
	gvk := schema.GroupVersionKind{Group: "bench.opendi.com", Version: "v1", Kind: "Item"}
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": "items.bench.opendi.com"},
		"spec": map[string]any{
			"group": gvk.Group,
			"names": map[string]any{"kind": gvk.Kind, "plural": "items", "singular": "item", "listKind": "ItemList"},
			"scope": "Cluster",
			"versions": []any{map[string]any{
				"name": gvk.Version, "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
			}},
		},
	}}
	ctx := context.Background()
	if err := k8s.Create(ctx, crd); err != nil && !apierrors.IsAlreadyExists(err) {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		u := &unstructured.UnstructuredList{}
		u.SetGroupVersionKind(gvk.GroupVersion().WithKind("ItemList"))
		if err := k8s.List(ctx, u); err == nil {
			return gvk
		}
	}
	b.Fatal("the trivial CRD was never served")
	return gvk
}
