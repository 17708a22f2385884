package integration

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/cmd/gateway-orchestrator/app"
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

// TestAnotherNamespacesClaimIsClaimedWithinSecondsOfABurstUnderTheWriteBudget runs the
// orchestrator with its default write budget (50 writes a second): while the reconcilers still
// write the status of an admin's 1,000 new claims in namespace A (hundreds not yet Claimed), a
// new claim of namespace B is Claimed within a few seconds, not after A's backlog (the claims'
// work queues and the budget take turns between namespaces).
func TestAnotherNamespacesClaimIsClaimedWithinSecondsOfABurstUnderTheWriteBudget(t *testing.T) {
	ctx := context.Background()
	const burst, workers = 1000, 8
	restartManager(ctx, t, testenv.Options{AWSRates: testRates,
		App: app.Config{ReconcilerWrites: app.DefaultReconcilerWrites, ReconcilerWriteBurst: app.DefaultReconcilerWriteBurst}})
	z := newZone(t)
	a, b := tenant(t), tenant(t)

	// Unbound admin claims: no AWS, only the reconcilers' status writes (about 3 each).
	var hosts []string
	for i := range burst {
		hosts = append(hosts, fmt.Sprintf("fair%d.%s", i, z.Spec.Domain))
	}
	parallel := func(do func(h string)) {
		var wg sync.WaitGroup
		next := make(chan string)
		for range workers {
			wg.Go(func() {
				for h := range next {
					do(h)
				}
			})
		}
		for _, h := range hosts {
			next <- h
		}
		close(next)
		wg.Wait()
	}
	t.Cleanup(func() {
		parallel(func(h string) { assert.NoError(t, deleteClaim(ctx, h)) })
		for _, h := range hosts {
			waitGone(t, h, time.Minute)
		}
	})
	parallel(func(h string) { assert.NoError(t, k8s.Create(ctx, adminClaim(h, a))) })

	hb := "fair-b." + z.Spec.Domain
	created := time.Now()
	require.NoError(t, k8s.Create(ctx, adminClaim(hb, b)))
	t.Cleanup(func() { assert.NoError(t, deleteClaim(ctx, hb)) })
	require.Eventually(t, func() bool {
		c, err := getClaim(hb)
		return err == nil && meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionClaimed)
	}, 3*time.Second, 20*time.Millisecond, "B's claim is Claimed within 3 s of its create")
	took := time.Since(created)

	var l v1alpha1.DomainClaimList
	require.NoError(t, k8s.List(ctx, &l))
	waiting := 0
	for _, c := range l.Items {
		if c.Spec.Namespace == a && !meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionClaimed) {
			waiting++
		}
	}
	assert.GreaterOrEqual(t, waiting, 100, "A's backlog was still being written when B's claim was Claimed")
	t.Logf("B's claim Claimed %s after its create, with %d of A's %d claims not yet Claimed", took.Round(time.Millisecond), waiting, burst)
}
