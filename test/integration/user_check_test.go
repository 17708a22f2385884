package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
