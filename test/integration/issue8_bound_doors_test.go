package integration

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// TestIngressesAndGatewayListenersBindTheirClaimsByUID: an LBC Ingress and a tenant's Gateway
// listener bind the claims admission made for them once they exist in the API server (their
// UIDs match), and the Bound condition names them; the same objects refused by the API server
// after admission (their names exist) leave claims unbound.
func TestIngressesAndGatewayListenersBindTheirClaimsByUID(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	ns := tenant(t)

	ing := ingress(ns, "alb", "ing."+z.Spec.Domain)
	require.NoError(t, k8s.Create(ctx, ing))
	gw := tenantGateway(ns, "gw."+z.Spec.Domain)
	require.NoError(t, k8s.Create(ctx, gw))
	for h, by := range map[string]string{"ing." + z.Spec.Domain: "Ingress " + ns + "/" + ing.Name, "gw." + z.Spec.Domain: "Gateway " + ns + "/" + gw.Name} {
		c := waitCondition(t, h, v1alpha1.ConditionBound, metav1.ConditionTrue)
		bound := condition(c, v1alpha1.ConditionBound)
		assert.Equal(t, v1alpha1.ReasonObjectExists, bound.Reason, h)
		assert.Equal(t, "bound by "+by, bound.Message, h)
	}
	assert.Equal(t, string(ing.UID), mustClaim(t, "ing."+z.Spec.Domain).Annotations[v1alpha1.AnnotationClaimedForUID])
	assert.Equal(t, string(gw.UID), mustClaim(t, "gw."+z.Spec.Domain).Annotations[v1alpha1.AnnotationClaimedForUID])

	dupIng := ingress(ns, "alb", "ing-dup."+z.Spec.Domain)
	dupIng.Name = ing.Name
	require.True(t, apierrors.IsAlreadyExists(k8s.Create(ctx, dupIng)))
	dupGw := tenantGateway(ns, "gw-dup."+z.Spec.Domain)
	dupGw.Name = gw.Name
	require.True(t, apierrors.IsAlreadyExists(k8s.Create(ctx, dupGw)))
	for _, h := range []string{"ing-dup." + z.Spec.Domain, "gw-dup." + z.Spec.Domain} {
		c := waitCondition(t, h, v1alpha1.ConditionBound, metav1.ConditionFalse)
		assert.Equal(t, v1alpha1.ReasonUnbound, condition(c, v1alpha1.ConditionBound).Reason, h)
		assert.Zero(t, env.AWS.ACM.Requests(h), "nothing is requested for %s", h)
	}
}

func mustClaim(t *testing.T, name string) *v1alpha1.DomainClaim {
	t.Helper()
	c, err := getClaim(name)
	require.NoError(t, err)
	return c
}
