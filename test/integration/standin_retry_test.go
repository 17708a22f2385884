package integration

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// TestATenantGatewayRefusedForWantOfACertificateIsDeployedOnceTheCertificateIsIssued: like LBC,
// the stand-in retries a failed deploy. A tenant's own Gateway created before its hostname's
// certificate is issued is refused ("no certificate found for host"), and is deployed when the
// certificate is issued, with no change to the Gateway.
func TestATenantGatewayRefusedForWantOfACertificateIsDeployedOnceTheCertificateIsIssued(t *testing.T) {
	z, _ := servedZone(t)
	ns := tenant(t)
	h := "held." + z.Spec.Domain
	env.AWS.ACM.Hold(h)
	released := false
	t.Cleanup(func() {
		if !released {
			env.AWS.ACM.Release(h)
		}
	})
	gw := createOwnGateway(t, ns, h)

	require.Eventually(t, func() bool {
		return slices.ContainsFunc(env.StandIn.Refusals(ns, gw.Name), func(v string) bool {
			return strings.Contains(v, "no certificate found for host: "+h)
		})
	}, 60*time.Second, 100*time.Millisecond, "the stand-in refuses the Gateway while no certificate is issued")
	before := &gwv1.Gateway{}
	require.NoError(t, k8s.Get(context.Background(), client.ObjectKeyFromObject(gw), before))

	env.AWS.ACM.Release(h)
	released = true
	require.Eventually(t, func() bool {
		got := &gwv1.Gateway{}
		if k8s.Get(context.Background(), client.ObjectKeyFromObject(gw), got) != nil {
			return false
		}
		return meta.IsStatusConditionTrue(got.Status.Conditions, string(gwv1.GatewayConditionAccepted))
	}, 60*time.Second, 100*time.Millisecond, "the Gateway is deployed once its certificate is issued")
	after := &gwv1.Gateway{}
	require.NoError(t, k8s.Get(context.Background(), client.ObjectKeyFromObject(gw), after))
	require.Equal(t, before.Generation, after.Generation, "nothing changed the Gateway's spec meanwhile")
	ready(t, h, 60*time.Second)
	c, err := getClaim(h)
	require.NoError(t, err)
	require.Equal(t, v1alpha1.ReasonOwnLoadBalancer, condition(c, v1alpha1.ConditionGatewayAssigned).Reason)
}
