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

// A route's certificate is read by ACM at issuance, before its load balancer takes it: the claim
// must not say ACM will not renew it (as it did until the 12-hour renewal check), but that it is
// not known yet, at no extra write.
func TestARoutesNewCertificateIsNotReportedUnrenewable(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	h := "renewable." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(tenant(t), h)))
	ready(t, h, 30*time.Second)
	c, err := getClaim(h)
	require.NoError(t, err)
	cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionRenewal)
	require.NotNil(t, cond, "the renewal condition is written with the issued certificate")
	assert.Equal(t, metav1.ConditionUnknown, cond.Status, "%+v", cond)
	assert.Equal(t, v1alpha1.ReasonAwaitingLoadBalancer, cond.Reason)
	assert.Contains(t, cond.Message, "next renewal check")
}
