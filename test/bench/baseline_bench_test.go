package bench

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/test/builders"
)

// BenchmarkBaselineWithoutWebhook creates routes and ConfigMaps in kube-system, which the
// webhooks' namespaceSelector excludes, with the same 50 concurrent creators: the cost of the
// API server and etcd alone, to compare admission latency against.
func BenchmarkBaselineWithoutWebhook(b *testing.B) {
	for _, kind := range []string{"httproute", "configmap"} {
		b.Run(kind, func(b *testing.B) {
			durations := createConcurrently(b, 50, func(i int) client.Object {
				if kind == "configmap" {
					return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: builders.Unique("cm")}}
				}
				return builders.Route("kube-system", fmt.Sprintf("baseline-%d-%d.example.com", b.N, i))
			})
			reportQuantiles(b, durations)
		})
	}
}
