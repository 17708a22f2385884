package bench

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// BenchmarkRouteCreateVsBaseline creates HTTPRoutes, each with a new hostname, through the real
// API server, side by side in one run: the baseline in kube-system (which the webhooks'
// namespaceSelector excludes: the API server and etcd alone) and ours in a tenant namespace
// (both webhooks and the claim each new hostname makes), with 0, 1,000 and 10,000 claims in
// place and 1 and 10 concurrent creators. It reports each side's p50 and creates per second, the
// p50 ratio (ours / baseline) and our share of the baseline's throughput. b.N is the number of
// creates per side and step; run it alone so that the first step really has no claims.
func BenchmarkRouteCreateVsBaseline(b *testing.B) {
	benchSetup(b)
	for _, claims := range []int{0, 1000, 10000} {
		if int(benchClaims.Load()) < claims {
			fillClaims(b, claims)
		}
		for _, creators := range []int{1, 10} {
			b.Run(fmt.Sprintf("claims=%d/creators=%d", claims, creators), func(b *testing.B) {
				total := b.N
				if total < creators {
					total = creators
				}
				tag := unique("cmp")
				base, baseWall := timeCreates(b, creators, total, func(i int) client.Object {
					return route("kube-system", fmt.Sprintf("%s-%d.baseline.example.com", tag, i))
				})
				ours, oursWall := timeCreates(b, creators, total, func(i int) client.Object {
					return route(benchOwner, fmt.Sprintf("%s-%d.%s", tag, i, benchDomain))
				})
				bp50, op50 := p50(base), p50(ours)
				b.ReportMetric(float64(bp50.Microseconds()), "base-p50-µs")
				b.ReportMetric(float64(op50.Microseconds()), "ours-p50-µs")
				b.ReportMetric(float64(op50)/float64(bp50), "p50-ratio")
				bRate, oRate := float64(total)/baseWall.Seconds(), float64(total)/oursWall.Seconds()
				b.ReportMetric(bRate, "base-creates/s")
				b.ReportMetric(oRate, "ours-creates/s")
				b.ReportMetric(100*oRate/bRate, "%-of-base-rate")
			})
		}
	}
}

func p50(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
