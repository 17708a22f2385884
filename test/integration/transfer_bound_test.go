package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/util/retry"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// boundMessage waits until the claim's Bound condition is True with a message ok accepts,
// and returns that message.
func boundMessage(t *testing.T, h string, ok func(string) bool, msg string) string {
	t.Helper()
	var got string
	if !assert.Eventually(t, func() bool {
		c, err := getClaim(h)
		if err != nil {
			return false
		}
		b := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionBound)
		if b == nil || b.Status != "True" {
			return false
		}
		got = b.Message
		return ok(got)
	}, 30*time.Second, 100*time.Millisecond, msg) {
		t.Fatalf("last Bound message: %q", got)
	}
	return got
}

// TestBoundAfterATransferNamesTheNewNamespace transfers a bound claim: it stays Bound, but its
// message no longer names the former owner's route as the binder; once a route of the new owner
// uses the hostname, the message names that route.
func TestBoundAfterATransferNamesTheNewNamespace(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	teamA, teamB := tenant(t), tenant(t)
	h := "bound-moved." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, servingRoute(teamA, "app", "/", h)))
	boundMessage(t, h, func(m string) bool { return m != "" }, "the claim is bound by the route of its first owner")

	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c, err := getClaim(h)
		if err != nil {
			return err
		}
		c.Spec.Namespace = teamB
		return k8s.Update(ctx, c)
	}))
	got := boundMessage(t, h, func(m string) bool { return m == "bound before the transfer to "+teamB },
		"after the transfer the claim says it was bound before it")
	assert.NotContains(t, got, teamA, "the former owner's route is not named as the binder")

	r := servingRoute(teamB, "app", "/", h)
	require.NoError(t, k8s.Create(ctx, r))
	boundMessage(t, h, func(m string) bool { return m == "bound by HTTPRoute "+teamB+"/"+r.Name },
		"the new owner's route is named once it uses the hostname")
}
