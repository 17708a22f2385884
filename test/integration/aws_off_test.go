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
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

// With AWS off (--aws=false) nothing is provisioned, and Ready needs only Claimed: the readiness
// reconciler is the one writer of Ready and does not depend on the AWS reconcilers (issue 9).
func TestWithAWSOffAClaimedHostnameIsReadyAndNothingIsProvisioned(t *testing.T) {
	ctx := context.Background()
	restartManager(ctx, t, testenv.Options{AWSRates: testRates, NoAWS: true})
	z := newZone(t)
	h := "offline." + z.Spec.Domain
	r := route(tenant(t), h)
	require.NoError(t, k8s.Create(ctx, r))
	t.Cleanup(func() {
		// Gone before the manager with AWS comes back (cleanups run last first), which would
		// otherwise provision the claim while later tests count AWS calls.
		require.NoError(t, k8s.Delete(ctx, r))
		require.NoError(t, client.IgnoreNotFound(k8s.Delete(ctx, &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: h}})))
		waitGone(t, h, 10*time.Second)
	})

	c := waitCondition(t, h, v1alpha1.ConditionReady, metav1.ConditionTrue)
	assert.Equal(t, v1alpha1.ReasonReady, condition(c, v1alpha1.ConditionReady).Reason)
	assert.True(t, meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionClaimed))
	for _, typ := range []string{v1alpha1.ConditionCertificateRequested, v1alpha1.ConditionDNSRecord} {
		assert.Nil(t, meta.FindStatusCondition(c.Status.Conditions, typ), "no AWS step runs: %s", typ)
	}
	// The pool reconciler runs without AWS too: for a zone without a GatewayPool it says so
	// (NoGatewayPool), before or after Ready depending on the write budget's turns; it seats nothing.
	if g := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionGatewayAssigned); g != nil {
		assert.Equal(t, v1alpha1.ReasonNoGatewayPool, g.Reason, "no seat without a pool")
	}
	assert.Empty(t, c.Finalizers, "nothing in AWS to clean up, so admission puts no finalizer on the claim")
	assert.Never(t, func() bool { return env.AWS.ACM.Requests(h) > 0 }, time.Second, 50*time.Millisecond, "no certificate is requested")
}
