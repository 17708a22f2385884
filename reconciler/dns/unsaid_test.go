package dns

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
)

func unsaidCount(r *Reconciler) int {
	n := 0
	r.unsaid.Range(func(any, any) bool { n++; return true })
	return n
}

// TestTheNoteOfAQueuedChangeGoesWithItsClaim: a claim whose first change was queued unsaid and
// that is gone before its condition is written leaves no note behind; a claim made again under
// its name is not taken for it.
func TestTheNoteOfAQueuedChangeGoesWithItsClaim(t *testing.T) {
	ctx := context.Background()
	r, _, _ := setup(t, claim(), map[bool]dnsbatch.State{false: dnsbatch.Pending})
	_, c := reconcileOnce(t, r)
	require.Equal(t, 1, unsaidCount(r), "the queued first change is noted")

	again := c.DeepCopy()
	again.UID = "uid-2"
	assert.False(t, r.queued(again), "a claim made again under the name is not the one whose change was queued")

	c.Finalizers = nil
	require.NoError(t, r.Client.Update(ctx, c))
	require.NoError(t, r.Client.Delete(ctx, c))
	_, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: client.ObjectKey{Name: host}})
	require.NoError(t, err)
	assert.Zero(t, unsaidCount(r), "the reconcile of the claim's deletion drops its note")
}

// TestDeletingASeatedClaimWithoutConditionOrLoadBalancerRemovesItsRecords is the state a crash
// can leave: the claim's first change was queued unsaid, the pool moved its seat (clearing the
// load balancer until the new Gateway's is known), and the note that a record may exist was
// lost with the process. The seat says a record may exist: it is removed before the claim goes.
func TestDeletingASeatedClaimWithoutConditionOrLoadBalancerRemovesItsRecords(t *testing.T) {
	r, rec, applies := setup(t, claim(func(c *v1alpha1.DomainClaim) {
		c.DeletionTimestamp = &metav1.Time{Time: time.Now()}
		c.Status.LoadBalancerHostname, c.Status.LoadBalancerZoneID = "", ""
		c.Status.Gateway = &v1alpha1.ObjectRef{Namespace: "gateways", Name: "gw-2"}
	}), map[bool]dnsbatch.State{true: dnsbatch.Done})
	require.False(t, claim(func(c *v1alpha1.DomainClaim) {
		c.Status.LoadBalancerHostname = ""
		c.Status.Gateway = &v1alpha1.ObjectRef{Namespace: "gateways", Name: "gw-2"}
	}).AliasRecordsGone())
	_, c := reconcileOnce(t, r)
	require.Len(t, rec.asked, 2, "A and AAAA")
	assert.True(t, rec.asked[0].Absent)
	assert.Equal(t, 1, *applies)
	assert.Equal(t, v1alpha1.ReasonRecordsRemoved, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord).Reason)
	assert.True(t, c.AliasRecordsGone())
}
