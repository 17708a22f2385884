package integration

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/opendi/gateway-orchestrator/test/testenv"
)

// TestIngressClassesAreCachedBeforeTheFirstIngressIsAdmitted: admission reads IngressClasses from
// the cache (whether LBC serves an Ingress, the group its class imposes), and so does the ALB
// name re-check. Their informer starts and syncs with the manager's others, before the manager
// is ready; the first Ingress admission after a start neither starts it nor waits, within the
// webhook's timeout, for its first list.
func TestIngressClassesAreCachedBeforeTheFirstIngressIsAdmitted(t *testing.T) {
	ctx := context.Background()
	// A new manager, whose cache no test has read an IngressClass from yet.
	restartManager(ctx, t, testenv.Options{AWSRates: testRates})

	// Without blocking: an informer this call had to start could not have listed yet.
	inf, err := env.Manager.GetCache().GetInformer(ctx, &networkingv1.IngressClass{}, cache.BlockUntilSynced(false))
	require.NoError(t, err)
	assert.True(t, inf.HasSynced(), "the IngressClass informer has synced by the time the manager's caches have")
}
