package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/opendi/gateway-orchestrator/internal/ownership"
	"github.com/opendi/gateway-orchestrator/test/builders"
	"github.com/opendi/gateway-orchestrator/webhook"
)

// BenchmarkHandlerByKind measures what each kind's validating webhook costs this process for one
// admission, end to end in process: the AdmissionReview JSON as the API server sends it (a
// server-side dry-run, so nothing is written), its decoding, the Door's decision against the
// informer cache with 1,000 claims, and the response's encoding. Each op admits the same new
// hostname shape in an HTTPRoute, a GRPCRoute or an Ingress of LBC's class, as
// BenchmarkRouteCreateVsBaseline creates them: an Ingress or a GRPCRoute must cost about what an
// HTTPRoute costs. The claim create itself is the API server's (BenchmarkObjectCreateCost).
func BenchmarkHandlerByKind(b *testing.B) {
	benchSetup(b)
	if benchClaims.Load() < 1000 {
		fillClaims(b, 1000)
	}
	cache := env.Manager.GetCache()
	view := ownership.CacheView{Reader: cache}
	door := &webhook.Door{
		View:        view,
		Reader:      cache,
		Claimer:     &webhook.Claimer{Client: env.Manager.GetClient(), APIReader: env.Manager.GetAPIReader(), Cache: cache, View: view},
		ClassParams: true,
		Counter:     view,
	}
	scheme := env.Manager.GetScheme()
	// The webhooks as Register builds them, logging through webhook.RequestLog on the manager's
	// logger; eager: with controller-runtime's admission.DefaultLogConstructor on its global
	// logger instead, whose values copy zap's encoder on every request.
	handler := func(kind string, eager bool) http.Handler {
		var wh *admission.Webhook
		switch kind {
		case "HTTPRoute":
			wh = admission.WithValidator(scheme, (*webhook.RouteValidator)(door))
		case "GRPCRoute":
			wh = admission.WithValidator(scheme, (*webhook.GRPCRouteValidator)(door))
		default:
			wh = admission.WithValidator(scheme, (*webhook.IngressValidator)(door))
		}
		if !eager {
			wh.LogConstructor = webhook.RequestLog(env.Manager.GetLogger(), kind)
		}
		return wh
	}
	resources := map[string]metav1.GroupVersionResource{
		"HTTPRoute": {Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"},
		"GRPCRoute": {Group: "gateway.networking.k8s.io", Version: "v1", Resource: "grpcroutes"},
		"Ingress":   {Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"},
	}
	serve := func(b *testing.B, h http.Handler, kind string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if !bytes.Contains(w.Body.Bytes(), []byte(`"allowed":true`)) {
			b.Fatalf("%s denied: %s", kind, w.Body.String())
		}
	}
	kinds := []string{"HTTPRoute", "GRPCRoute", "Ingress"}
	for _, run := range []struct {
		kind  string
		eager bool
	}{{"HTTPRoute", false}, {"GRPCRoute", false}, {"Ingress", false}, {"HTTPRoute", true}} {
		name := "dryRun/kind=" + run.kind
		if run.eager {
			name += "/log=eager"
		}
		b.Run(name, func(b *testing.B) {
			bodies := make([][]byte, b.N)
			for i := range bodies {
				obj := hostObject(run.kind, benchOwner, fmt.Sprintf("handler-%s-%d.%s", run.kind, i, benchDomain))
				bodies[i] = admissionReview(b, scheme, obj, resources[run.kind], true)
			}
			h := handler(run.kind, run.eager)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				serve(b, h, run.kind, bodies[i])
			}
		})
	}
	// The same with the claim made (through the API server): each op admits one object of
	// every kind, the kinds taking turns in a rotating order so that the machine's load weighs
	// on all alike, and reports each kind's p50.
	b.Run("claim", func(b *testing.B) {
		tag := builders.Unique("handler")
		took := map[string][]time.Duration{}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for j := range kinds {
				kind := kinds[(i+j)%len(kinds)]
				obj := hostObject(kind, benchOwner, fmt.Sprintf("%s-%s-%d.%s", tag, strings.ToLower(kind), i, benchDomain))
				body := admissionReview(b, scheme, obj, resources[kind], false)
				start := time.Now()
				serve(b, handler(kind, false), kind, body)
				took[kind] = append(took[kind], time.Since(start))
			}
		}
		b.StopTimer()
		for _, kind := range kinds {
			b.ReportMetric(float64(p50(took[kind]).Microseconds()), kind+"-p50-µs")
		}
	})
}

// admissionReview is the AdmissionReview of a CREATE of obj (a server-side dry-run or not), as the API
// server sends it: the object with its kind, a UID, the user.
func admissionReview(b *testing.B, scheme *runtime.Scheme, obj client.Object, res metav1.GroupVersionResource, dryRun bool) []byte {
	kinds, _, err := scheme.ObjectKinds(obj)
	if err != nil {
		b.Fatal(err)
	}
	obj.GetObjectKind().SetGroupVersionKind(kinds[0])
	obj.SetUID(types.UID(fmt.Sprintf("uid-%s", obj.GetName())))
	raw, err := json.Marshal(obj)
	if err != nil {
		b.Fatal(err)
	}
	k := kinds[0]
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       types.UID("review-" + obj.GetName()),
			Kind:      metav1.GroupVersionKind{Group: k.Group, Version: k.Version, Kind: k.Kind},
			Resource:  res,
			Name:      obj.GetName(),
			Namespace: obj.GetNamespace(),
			Operation: admissionv1.Create,
			DryRun:    ptr.To(dryRun),
			Object:    runtime.RawExtension{Raw: raw},
		},
	}
	out, err := json.Marshal(review)
	if err != nil {
		b.Fatal(err)
	}
	return out
}
