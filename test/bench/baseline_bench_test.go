package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// BenchmarkBaselineWithoutWebhook creates routes and ConfigMaps in kube-system, which the
// webhooks' namespaceSelector excludes, with the same 50 concurrent creators: the cost of the
// API server and etcd alone, to compare admission latency against.
func BenchmarkBaselineWithoutWebhook(b *testing.B) {
	for _, kind := range []string{"httproute", "configmap"} {
		b.Run(kind, func(b *testing.B) {
			ctx := context.Background()
			const workers = 50
			total := b.N * workers
			var next atomic.Int64
			durations := make([]time.Duration, total)
			var wg sync.WaitGroup
			b.ResetTimer()
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1) - 1)
						if i >= total {
							return
						}
						var obj client.Object = route("kube-system", fmt.Sprintf("baseline-%d-%d.example.com", b.N, i))
						if kind == "configmap" {
							obj = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: unique("cm")}}
						}
						t := time.Now()
						if err := k8s.Create(ctx, obj); err != nil {
							b.Errorf("create: %v", err)
							return
						}
						durations[i] = time.Since(t)
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			reportQuantiles(b, durations)
		})
	}
}
