package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// Attacks a second red team tried from outside against the running system (make run-local),
// reproduced here with the webhooks registered in a real API server.

// transferClaim moves claim h to namespace ns, as a cluster admin does.
func transferClaim(t *testing.T, h, ns string) {
	t.Helper()
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c, err := getClaim(h)
		if err != nil {
			return err
		}
		c.Spec.Namespace = ns
		return k8s.Update(context.Background(), c)
	}))
}

// After a transfer, the former owner's own Gateway and Ingress still list the hostname. No pool
// listener keeps them off their own ALBs, and LBC finds the certificate of an own Gateway or
// Ingress by hostname, so they may carry the new owner's certificate. The claim used to say "no
// route of another namespace lists" the hostname; it names them now, and not the pool's Gateway
// whose listener serves the new owner.
func TestRedteam2AFormerOwnersOwnLoadBalancersAreNamedAsStrays(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	former, owner := tenant(t), tenant(t)
	h := "own-moved." + z.Spec.Domain
	gw := createOwnGateway(t, former, h)
	ing := ingress(former, "alb", h)
	require.NoError(t, k8s.Create(ctx, ing))
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), ing) })
	require.Eventually(t, func() bool {
		c, err := getClaim(h)
		return err == nil && condition(c, v1alpha1.ConditionClaimed).Status == metav1.ConditionTrue &&
			condition(c, v1alpha1.ConditionStrayRoutes).Reason == v1alpha1.ReasonNoStrayRoutes
	}, 30*time.Second, 100*time.Millisecond, "the former owner's objects are no strays while it owns %s", h)

	transferClaim(t, h, owner)

	var c *v1alpha1.DomainClaim
	require.Eventually(t, func() bool {
		var err error
		c, err = getClaim(h)
		return err == nil && c.Status.Gateway != nil && condition(c, v1alpha1.ConditionStrayRoutes).Status == metav1.ConditionTrue
	}, 30*time.Second, 100*time.Millisecond, "the claim, seated for its new owner, names the former owner's load balancers")
	stray := condition(c, v1alpha1.ConditionStrayRoutes)
	assert.Equal(t, v1alpha1.ReasonForeignRoutes, stray.Reason)
	assert.Contains(t, stray.Message, "load balancers of other namespaces list "+h+": Gateway "+former+"/"+gw.Name+", Ingress "+former+"/"+ing.Name)
	assert.Contains(t, stray.Message, "their namespaces must remove it", "the message says what to do")
	assert.NotContains(t, stray.Message, p.Spec.Namespace+"/", "the pool's own Gateway is no stray")
}
