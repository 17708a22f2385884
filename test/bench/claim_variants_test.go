package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/builders"
	"github.com/opendi/gateway-orchestrator/webhook"
)

// claimVariants are copies of the DomainClaim CRD under their own API groups, each with less of
// the schema, installed only by the benchmark, so that BenchmarkObjectCreateCost can tell what
// each part of the real CRD costs a create: a copy (the same schema, but no webhook rule and no
// informer of ours matches it), then without the CEL rules (x-kubernetes-validations), then also
// without the OpenAPI checks (pattern, length, enum, format), then also without the status schema
// and the printer columns; and a namespaced copy of the full schema.
var claimVariants = []string{"copy", "nocel", "noregex", "bare", "namespaced"}

// claimVariantCRD installs variant's CRD and returns its kind.
func claimVariantCRD(b *testing.B, variant string) schema.GroupVersionKind {
	_, here, _, _ := runtime.Caller(0)
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(here), "..", "..", "deploy", "crd", "gateway.opendi.com_domainclaims.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	crd := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(raw, &crd.Object); err != nil {
		b.Fatal(err)
	}
	group := variant + ".bench.opendi.com"
	crd.SetName("domainclaims." + group)
	crd.SetAnnotations(nil)
	spec := crd.Object["spec"].(map[string]any)
	spec["group"] = group
	delete(spec["names"].(map[string]any), "shortNames")
	delete(spec["names"].(map[string]any), "categories")
	if variant == "namespaced" {
		spec["scope"] = "Namespaced"
	}
	version := spec["versions"].([]any)[0].(map[string]any)
	root := version["schema"].(map[string]any)["openAPIV3Schema"].(map[string]any)
	if variant != "copy" && variant != "namespaced" {
		strip(root, "x-kubernetes-validations")
	}
	if variant == "noregex" || variant == "bare" {
		strip(root, "pattern", "maxLength", "minLength", "enum", "format", "minimum")
	}
	if variant == "bare" {
		delete(root["properties"].(map[string]any), "status")
		delete(version, "additionalPrinterColumns")
		delete(version, "subresources")
	}
	if err := k8s.Create(context.Background(), crd); err != nil && !apierrors.IsAlreadyExists(err) {
		b.Fatal(err)
	}
	gvk := schema.GroupVersionKind{Group: group, Version: "v1alpha1", Kind: "DomainClaim"}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		u := &unstructured.UnstructuredList{}
		u.SetGroupVersionKind(gvk.GroupVersion().WithKind("DomainClaimList"))
		if err := k8s.List(context.Background(), u); err == nil {
			return gvk
		}
	}
	b.Fatalf("the %s CRD was never served", variant)
	return gvk
}

// strip deletes the keys from every schema node under node.
func strip(node any, keys ...string) {
	switch n := node.(type) {
	case map[string]any:
		for _, k := range keys {
			delete(n, k)
		}
		for k, v := range n {
			if !strings.HasPrefix(k, "x-kubernetes-list") {
				strip(v, keys...)
			}
		}
	case []any:
		for _, v := range n {
			strip(v, keys...)
		}
	}
}

// BenchmarkClaimCreateProfile answers where the API server's time goes when a DomainClaim is
// created (with its owner label, so no webhook is called), compared with the same object in the
// copy of its CRD that no webhook or informer of ours matches, in the bare copy (no CEL rules,
// OpenAPI checks, status schema or printer columns), and in the trivial CRD (no schema at all):
// for each, 4 creators create for a fixed window while kube-apiserver is profiled. It reports
// the CPU per create (as BenchmarkObjectCreateCost does); with APISERVER_PROFILE_DIR set the
// profiles are written there as <side>.pprof (read them with `go tool pprof -top -cum
// <kube-apiserver binary> <profile>`). Run it alone: b.N is ignored.
func BenchmarkClaimCreateProfile(b *testing.B) {
	benchSetup(b)
	kinds := map[string]schema.GroupVersionKind{"copy": claimVariantCRD(b, "copy"), "bare": claimVariantCRD(b, "bare"), "trivial": trivialCRD(b)}
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		b.Fatal(err)
	}
	dir := os.Getenv("APISERVER_PROFILE_DIR")
	for _, side := range []string{"claim", "copy", "bare", "trivial"} {
		b.Run(side, func(b *testing.B) {
			tag := builders.Unique("cprof")
			ctx, cancel := context.WithCancel(context.Background())
			var n atomic.Int64
			var wg sync.WaitGroup
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ctx.Err() == nil {
						h := fmt.Sprintf("%s-%d.%s", tag, n.Add(1), benchDomain)
						var o client.Object = &v1alpha1.DomainClaim{
							ObjectMeta: metav1.ObjectMeta{Name: h, Labels: map[string]string{webhook.LabelOwner: benchOwner}},
							Spec:       v1alpha1.DomainClaimSpec{Hostname: h, Namespace: benchOwner, ClaimedBy: v1alpha1.ClaimedByRoute},
						}
						if gvk, ok := kinds[side]; ok {
							u := claimBody(h)
							u.SetGroupVersionKind(gvk)
							o = u
						}
						if err := k8s.Create(ctx, o); err != nil && ctx.Err() == nil {
							b.Errorf("create: %v", err)
							return
						}
					}
				}()
			}
			meter := newCPUMeter(b)
			meter.start()
			raw, err := cs.RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", "8").DoRaw(context.Background())
			meter.stop()
			cancel()
			wg.Wait()
			if err != nil {
				b.Fatalf("profiling kube-apiserver: %v", err)
			}
			meter.report(side, int(n.Load()))
			if dir != "" {
				if err := os.WriteFile(filepath.Join(dir, side+".pprof"), raw, 0o644); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
