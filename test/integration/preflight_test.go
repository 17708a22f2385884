package integration

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/opendi/gateway-orchestrator/internal/preflight"
)

func TestStartupCheckOfLBCKindsAgainstTheAPIServersDiscovery(t *testing.T) {
	ctx := context.Background()
	p := pool(unique("preflight"))
	require.NoError(t, k8s.Create(ctx, p))
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), p) })
	reader, mapper := env.Manager.GetAPIReader(), env.Manager.GetRESTMapper()

	require.NoError(t, preflight.LBC(ctx, reader, mapper), "LBC's LoadBalancerConfiguration CRD is installed in the test API server")

	err := preflight.KindsForPools(ctx, reader, mapper, schema.GroupVersionKind{Group: "gateway.k8s.aws", Version: "v1beta1", Kind: "ListenerRuleConfiguration"})
	require.Error(t, err, "a kind whose CRD is not installed is reported")
	assert.Contains(t, err.Error(), "does not serve ListenerRuleConfiguration (gateway.k8s.aws/v1beta1)")
}
