package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/internal/ownership"
	"github.com/opendi/gateway-orchestrator/test/builders"
	"github.com/opendi/gateway-orchestrator/webhook"
)

// BenchmarkClaimProtocol measures, side by side in one run with 10,000 claims in place and one
// creator, what admission's claim step costs through the real API server:
//   - create-only: the claim create alone, which is all the step did before wildcards were made
//     race-free (the baseline);
//   - exact: Claimer.Claim for a new exact name (the create, then one live GET per wildcard that
//     could cover it);
//   - wildcard: Claimer.Claim for a new wildcard (the create, a label-selected live list of the
//     claims below it, the GETs above it, and the write that confirms it).
func BenchmarkClaimProtocol(b *testing.B) {
	benchSetup(b)
	if benchClaims.Load() < 10000 {
		fillClaims(b, 10000)
	}
	ctx := context.Background()
	c := &webhook.Claimer{Client: env.Manager.GetClient(), APIReader: env.Manager.GetAPIReader(), Cache: env.Manager.GetCache(),
		View: ownership.CacheView{Reader: env.Manager.GetCache()}}
	for _, kind := range []string{"create-only", "exact", "wildcard"} {
		b.Run(kind, func(b *testing.B) {
			durations := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				h := fmt.Sprintf("%s-%d-%d.%s", kind, b.N, i, benchDomain)
				if kind == "wildcard" {
					h = fmt.Sprintf("*.%s-%d-%d.%s", kind, b.N, i, benchDomain)
				}
				t := time.Now()
				if kind == "create-only" {
					if err := c.Client.Create(ctx, webhook.NewClaim(h, benchOwner, "bench")); err != nil {
						b.Fatal(err)
					}
				} else {
					ds, err := c.ClaimAll(ctx, []ownership.Decision{{Verdict: ownership.Claim, Hostname: h}}, benchOwner, "bench")
					if err != nil || ds[0].Verdict != ownership.Allow {
						b.Fatalf("claiming %s: %v %v", h, ds, err)
					}
				}
				durations = append(durations, time.Since(t))
			}
			b.StopTimer()
			reportQuantiles(b, durations)
		})
	}
}

// BenchmarkRouteCreateExactVsWildcard creates routes through the API server and both webhooks,
// one creator, 10,000 claims in place, each route with a new exact name or a new wildcard.
func BenchmarkRouteCreateExactVsWildcard(b *testing.B) {
	benchSetup(b)
	if benchClaims.Load() < 10000 {
		fillClaims(b, 10000)
	}
	for _, kind := range []string{"exact", "wildcard"} {
		b.Run(kind, func(b *testing.B) {
			durations := createConcurrently(b, 1, func(i int) client.Object {
				h := fmt.Sprintf("route-%s-%d-%d.%s", kind, b.N, i, benchDomain)
				if kind == "wildcard" {
					h = "*." + h
				}
				return builders.Route(benchOwner, h)
			})
			reportQuantiles(b, durations)
		})
	}
}
