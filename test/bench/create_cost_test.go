package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/builders"
	"github.com/opendi/gateway-orchestrator/webhook"
)

// BenchmarkObjectCreateCost answers what one create costs the API server, by the kind of object,
// with no webhook called: one creator, the kinds taking turns, reporting the client's p50 and the
// CPU per create of the API server, etcd and this process (the manager's cache sees every one).
// Kinds: a ConfigMap (built-in, tiny), an object of a trivial CRD (no schema, no rules), the same
// with a claim's name (a hostname), and with a claim's name, label and spec (what the body costs
// without a schema), a DomainClaim with only its spec and its owner label (which keeps the DomainClaim webhooks away:
// without it the create costs two webhook calls), the DomainClaim admission makes in production
// (webhook.NewClaim: also the annotations naming its object and the object's UID, and the AWS
// cleanup finalizer; the difference is what they cost; -annotated and -finalizer have only the
// one or the other), and an HTTPRoute in kube-system (the
// baseline of BenchmarkRouteCreateVsBaseline), and the DomainClaim-owner claim in each of
// claimVariants (what the parts of the CRD's schema, and our webhook configurations and informer,
// cost). It also reports how many watches the API server has open on domainclaims.
func BenchmarkObjectCreateCost(b *testing.B) {
	benchSetup(b)
	trivial := trivialCRD(b)
	kinds := []string{"ConfigMap", "TrivialCRD", "TrivialCRD-longname", "TrivialCRD-spec", "DomainClaim-owner", "DomainClaim-annotated", "DomainClaim-finalizer", "DomainClaim-admission", "HTTPRoute"}
	variants := map[string]schema.GroupVersionKind{}
	for _, v := range claimVariants {
		variants["Claim-"+v] = claimVariantCRD(b, v)
		kinds = append(kinds, "Claim-"+v)
	}
	object := func(kind string, i int) client.Object {
		tag := fmt.Sprintf("cost-%s-%d-%d", strings.ToLower(kind), b.N, i)
		h := tag + "." + benchDomain
		switch kind {
		case "ConfigMap":
			return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: tag}}
		case "TrivialCRD":
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(trivial)
			u.SetName(tag)
			return u
		case "TrivialCRD-longname":
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(trivial)
			u.SetName(h)
			return u
		case "TrivialCRD-spec":
			u := claimBody(h)
			u.SetGroupVersionKind(trivial)
			return u
		case "DomainClaim-owner":
			return &v1alpha1.DomainClaim{
				ObjectMeta: metav1.ObjectMeta{Name: h, Labels: map[string]string{webhook.LabelOwner: benchOwner}},
				Spec:       v1alpha1.DomainClaimSpec{Hostname: h, Namespace: benchOwner, ClaimedBy: v1alpha1.ClaimedByRoute},
			}
		case "DomainClaim-annotated", "DomainClaim-finalizer":
			c := webhook.NewClaim(h, benchOwner, "HTTPRoute "+benchOwner+"/"+tag, v1alpha1.FinalizerAWSCleanup)
			if kind == "DomainClaim-annotated" {
				c.Annotations[v1alpha1.AnnotationClaimedForUID] = string(uuid.NewUUID())
				c.Finalizers = nil
			} else {
				c.Annotations = nil
			}
			return c
		case "DomainClaim-admission":
			return admissionClaim(h, "HTTPRoute")
		case "HTTPRoute":
			return builders.Route("kube-system", tag+".baseline.example.com")
		}
		u := claimBody(h)
		u.SetGroupVersionKind(variants[kind])
		if kind == "Claim-namespaced" {
			u.SetNamespace(benchOwner)
		}
		return u
	}
	meters := map[string]*cpuMeter{}
	times := map[string][]time.Duration{}
	for _, k := range kinds {
		meters[k] = newCPUMeter(b)
	}
	// Short turns (about 25 creates each) spread the API server's garbage collections and the
	// machine's other load evenly over the kinds.
	turns := max(rounds, b.N/25)
	for r := 0; r < turns; r++ {
		for _, k := range kinds {
			n := b.N/turns + boolInt(r < b.N%turns)
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
	b.ReportMetric(domainClaimWatches(b), "domainclaim-watches")
}

// domainClaimWatches is the number of watches open on domainclaims, as the API server counts
// them (apiserver_longrunning_requests): every watch costs the API server an encoding of each
// event, so one informer per type is the goal.
func domainClaimWatches(b *testing.B) float64 {
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	n := 0.0
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, "apiserver_longrunning_requests{") && strings.Contains(l, `resource="domainclaims"`) && strings.Contains(l, `verb="WATCH"`) {
			b.Log(l)
			f := strings.Fields(l)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			n += v
		}
	}
	return n
}

// claimBody is the DomainClaim-owner claim for hostname h as an unstructured object, for the kinds
// that carry its body under another schema.
func claimBody(h string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"spec": map[string]any{"hostname": h, "namespace": benchOwner, "claimedBy": string(v1alpha1.ClaimedByRoute)},
	}}
	u.SetName(h)
	u.SetLabels(map[string]string{webhook.LabelOwner: benchOwner})
	return u
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
