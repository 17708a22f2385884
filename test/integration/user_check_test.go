package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// kubectl get gatewaypools shows how many Gateways a pool has, not only the first one's name.
func TestPoolTableCountsEveryGateway(t *testing.T) {
	ctx := context.Background()
	_, p := servedZone(t, func(p *v1alpha1.GatewayPool) { p.Spec.MinGateways = 3 })
	require.Eventually(t, func() bool {
		return k8s.Get(ctx, client.ObjectKeyFromObject(p), p) == nil && len(p.Status.Gateways) == 3
	}, 15*time.Second, 100*time.Millisecond, "the pool's status lists its 3 Gateways")
	assert.Equal(t, int32(3), p.Status.GatewayCount)
	row, err := table("gatewaypools", p.Name)
	require.NoError(t, err)
	assert.EqualValues(t, 3, row["Gateways"], "the Gateways column counts them all")
}

// A claim's certificate is checked for renewal when it is issued, before any load balancer
// uses it; once the claim's load balancer is ready the claim says ACM renews it, without
// waiting for the next periodic check (12 hours).
func TestAServedClaimsCertificateIsReportedRenewable(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	h := "renewable." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(tenant(t), h)))
	ready(t, h, 30*time.Second)
	var last *metav1.Condition
	require.Eventually(t, func() bool {
		c, err := getClaim(h)
		if err != nil {
			return false
		}
		last = meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionRenewal)
		return last != nil && last.Reason == v1alpha1.ReasonRenewable
	}, 10*time.Second, 100*time.Millisecond, "a Ready claim's certificate is used by its load balancer, so ACM renews it")
	t.Logf("%+v", last)
}
