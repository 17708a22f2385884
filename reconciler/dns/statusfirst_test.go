package dns

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
)

// TestAClaimWhoseRecordsWentSaysSoNoLongerBeforeItsRecordsAreQueued: a claim whose records were
// removed because nothing served it (NoLoadBalancer) and that gets a load balancer again first
// writes DNSRecordReady=False/Pending, and only the next reconcile queues the records. Had they
// been queued first, the pool clearing the load balancer again and a delete would let the
// certificate's finalizer go (AliasRecordsGone) before the batcher created a record nothing
// would ever delete.
func TestAClaimWhoseRecordsWentSaysSoNoLongerBeforeItsRecordsAreQueued(t *testing.T) {
	r, rec, applies := setup(t, claim(withUID("status-first"), func(c *v1alpha1.DomainClaim) {
		c.Status.Conditions = append(c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionDNSRecord, Status: metav1.ConditionFalse,
			Reason: v1alpha1.ReasonNoLoadBalancer, LastTransitionTime: metav1.Now()})
	}), map[bool]dnsbatch.State{false: dnsbatch.Pending})

	_, c := reconcileOnce(t, r)
	assert.Empty(t, rec.asked, "nothing is queued before the status says records may exist")
	assert.Equal(t, 1, *applies)
	cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord)
	require.NotNil(t, cond)
	assert.Equal(t, v1alpha1.ReasonPending, cond.Reason)
	assert.Contains(t, cond.Message, "alb-1.elb.amazonaws.com")

	unseated := c.DeepCopy()
	unseated.Status.LoadBalancerHostname, unseated.Status.LoadBalancerZoneID, unseated.Status.Gateway = "", "", nil
	assert.False(t, unseated.AliasRecordsGone(), "the load balancer going again leaves a claim whose records must be removed before it goes")

	_, _ = reconcileOnce(t, r)
	require.Len(t, rec.asked, 1, "then the records are queued")
	assert.False(t, rec.asked[0].Absent)
}
