package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKubectlGetGatewayPoolShowsItsGatewaysAndClaims: `kubectl get gatewaypools` shows the pool's
// Gateways and how many of its claims are seated and Ready, from the status the pool writes.
func TestKubectlGetGatewayPoolShowsItsGatewaysAndClaims(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	ns := tenant(t)
	h := "columns." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(ns, h)))
	seat := ready(t, h, 60*time.Second).Status.Gateway

	var row map[string]any
	require.Eventually(t, func() bool {
		var err error
		row, err = table("gatewaypools", p.Name)
		return err == nil && row["Claims"] == float64(1) && row["Seated"] == float64(1) && row["Claims Ready"] == float64(1)
	}, 30*time.Second, 100*time.Millisecond, "the pool's columns count its one claim, seated and Ready")
	t.Logf("kubectl get gatewaypools: %v", row)
	assert.InDelta(t, 1.0, row["Gateways"], 0, "the Gateways column counts the pool's Gateways (a list in a column shows only its first; here the one the claim sits on, %s)", seat.Name)
}
