package integration

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// webhookSeries reads, from the API server's metrics, the count and the sum (seconds) of
// apiserver_admission_webhook_admission_duration_seconds by "webhook name/operation", and the
// matchCondition evaluations that kept a webhook away by webhook name ("name/eval", and their
// time in seconds, "name/evalsum": the API server times only those).
func webhookSeries(t *testing.T, cs *kubernetes.Clientset) map[string]float64 {
	t.Helper()
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	require.NoError(t, err)
	out := map[string]float64{}
	for _, line := range strings.Split(string(raw), "\n") {
		var key string
		switch {
		case strings.HasPrefix(line, webhookCallsMetric+"{"):
			key = metricLabel(line, "name") + "/" + metricLabel(line, "operation") + "/count"
		case strings.HasPrefix(line, "apiserver_admission_webhook_admission_duration_seconds_sum{"):
			key = metricLabel(line, "name") + "/" + metricLabel(line, "operation") + "/sum"
		case strings.HasPrefix(line, matchConditionsMetric+"{"):
			key = metricLabel(line, "name") + "/eval"
		case strings.HasPrefix(line, "apiserver_admission_match_condition_evaluation_seconds_sum{"):
			key = metricLabel(line, "name") + "/evalsum"
		default:
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		require.NoError(t, err)
		out[key] += v
	}
	return out
}

func metricLabel(line, name string) string {
	i := strings.Index(line, name+`="`)
	if i < 0 {
		return ""
	}
	rest := line[i+len(name)+2:]
	return rest[:strings.IndexByte(rest, '"')]
}

// hooksOnCreate are the names of the webhooks the API server has that a create of any of
// resources reaches (matchConditions and objectSelectors aside).
func hooksOnCreate(t *testing.T, cs *kubernetes.Clientset, resources ...schema.GroupResource) map[string]bool {
	t.Helper()
	ctx := context.Background()
	out := map[string]bool{}
	add := func(name string, rules []admissionregistrationv1.RuleWithOperations) {
		for _, r := range rules {
			for _, gr := range resources {
				if anyOf(r.Operations, admissionregistrationv1.Create, admissionregistrationv1.OperationAll) &&
					anyOf(r.APIGroups, gr.Group, "*") && anyOf(r.Resources, gr.Resource, "*") {
					out[name] = true
				}
			}
		}
	}
	ms, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	for _, c := range ms.Items {
		for _, w := range c.Webhooks {
			add(w.Name, w.Rules)
		}
	}
	vs, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	for _, c := range vs.Items {
		for _, w := range c.Webhooks {
			add(w.Name, w.Rules)
		}
	}
	return out
}

func anyOf[T comparable](have []T, want ...T) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}

// A create of an HTTPRoute, a GRPCRoute or an Ingress of LBC's class with a new, normalized
// hostname and no parentRefs costs the API server exactly one webhook call: the kind's
// validating webhook, which makes the claim. The mutating route webhooks (their matchConditions)
// and the DomainClaim webhooks (their objectSelector, for the claim admission makes) are never
// called, so no kind pays more than another. WEBHOOK_CALLS_PER_KIND=200 makes it a measurement
// (the log lists every webhook's calls, mean latency and matchCondition evaluations per create).
// Only the webhooks such a create could reach (those of the kind and of DomainClaims) are held to
// zero: reconcilers still busy with earlier tests create pool Gateways and configurations.
func TestEachKindsCreateCallsOnlyItsValidatingWebhook(t *testing.T) {
	ctx := context.Background()
	n := 20
	if v := os.Getenv("WEBHOOK_CALLS_PER_KIND"); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		require.NoError(t, err)
	}
	z := newZone(t)
	ns := tenant(t)
	cs, err := kubernetes.NewForConfig(env.Config)
	require.NoError(t, err)
	hooks := map[string]string{"HTTPRoute": "vhttproute.gateway.opendi.com", "GRPCRoute": "vgrpcroute.gateway.opendi.com", "Ingress": "vingress.gateway.opendi.com"}
	claims := schema.GroupResource{Group: "gateway.opendi.com", Resource: "domainclaims"}
	reach := map[string]map[string]bool{
		"HTTPRoute": hooksOnCreate(t, cs, schema.GroupResource{Group: "gateway.networking.k8s.io", Resource: "httproutes"}, claims),
		"GRPCRoute": hooksOnCreate(t, cs, schema.GroupResource{Group: "gateway.networking.k8s.io", Resource: "grpcroutes"}, claims),
		"Ingress":   hooksOnCreate(t, cs, schema.GroupResource{Group: "networking.k8s.io", Resource: "ingresses"}, claims),
	}
	// The hooks the test holds to zero: if these are not found, it would pass whatever they do.
	for kind, want := range map[string][]string{
		"HTTPRoute": {"vhttproute.gateway.opendi.com", "mhttproute.gateway.opendi.com", "mdomainclaim.gateway.opendi.com", "vdomainclaim.gateway.opendi.com"},
		"GRPCRoute": {"vgrpcroute.gateway.opendi.com", "mgrpcroute.gateway.opendi.com", "mdomainclaim.gateway.opendi.com", "vdomainclaim.gateway.opendi.com"},
		"Ingress":   {"vingress.gateway.opendi.com", "mdomainclaim.gateway.opendi.com", "vdomainclaim.gateway.opendi.com"},
	} {
		for _, name := range want {
			require.True(t, reach[kind][name], "a create of %s reaches %s", kind, name)
		}
		require.False(t, reach[kind]["vgateway.gateway.opendi.com"], "a create of %s reaches no Gateway webhook", kind)
	}
	for _, kind := range []string{"HTTPRoute", "GRPCRoute", "Ingress"} {
		before := webhookSeries(t, cs)
		var took []time.Duration
		for i := 0; i < n; i++ {
			h := fmt.Sprintf("%s-%d.%s", strings.ToLower(kind), i, z.Spec.Domain)
			var obj client.Object
			switch kind {
			case "HTTPRoute":
				obj = route(ns, h)
			case "GRPCRoute":
				obj = grpcRoute(ns, h)
			default:
				obj = ingress(ns, "alb", h)
			}
			start := time.Now()
			require.NoError(t, k8s.Create(ctx, obj))
			took = append(took, time.Since(start))
			_, err := getClaim(h)
			require.NoError(t, err, "admission claimed %s", h)
		}
		after := webhookSeries(t, cs)
		sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
		t.Logf("%s: %d creates, p50 %s", kind, n, took[len(took)/2].Round(10*time.Microsecond))
		var names []string
		for k := range after {
			if after[k] != before[k] {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		for _, k := range names {
			name, rest, _ := strings.Cut(k, "/")
			switch {
			case rest == "eval":
				evals := after[k] - before[k]
				t.Logf("  %-45s skipped by its matchConditions %.2f/create, mean %.0f µs", name, evals/float64(n), 1e6*(after[name+"/evalsum"]-before[name+"/evalsum"])/evals)
			case strings.HasSuffix(rest, "/count"):
				op := strings.TrimSuffix(rest, "/count")
				calls := after[k] - before[k]
				sum := after[name+"/"+op+"/sum"] - before[name+"/"+op+"/sum"]
				t.Logf("  %-45s %-6s calls/create %.2f, mean %.2f ms", name, op, calls/float64(n), 1000*sum/calls)
				if op != "CREATE" {
					continue // a reconciler's update of the objects made here
				}
				if name == hooks[kind] {
					assert.Equal(t, n, int(calls), "%s: the validating webhook is called once per create", kind)
				} else if reach[kind][name] {
					assert.Zero(t, calls, "%s: a create of a normalized %s without parentRefs reached %s", kind, kind, name)
				}
			}
		}
	}
}
