package gatewaypool

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

func TestClaimInputsChanged(t *testing.T) {
	base := testClaim(1, seatedOn("public-1"), withLoadBalancer, dnsRecord(metav1.ConditionFalse, v1alpha1.ReasonPending))
	cases := []struct {
		name   string
		change func(*v1alpha1.DomainClaim)
		wakes  bool
	}{
		{name: "a write of a field the plan does not read is ignored", change: func(c *v1alpha1.DomainClaim) {
			meta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionValidationRecord, Status: metav1.ConditionTrue, Reason: "Created"})
		}},
		{name: "the pool's own seat coming back is ignored", change: func(c *v1alpha1.DomainClaim) { c.Status.Gateway.Name = "public-2" }},
		{name: "the pool's own conditions coming back are ignored (it counted them as it planned them)", change: func(c *v1alpha1.DomainClaim) {
			meta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionLoadBalancerReady, Status: metav1.ConditionTrue, Reason: "Programmed"})
			meta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionGatewayAssigned, Status: metav1.ConditionTrue, Reason: "Assigned"})
		}},
		{name: "an issued certificate wakes the pool", change: notIssued, wakes: true},
		{name: "a deletion wakes the pool", change: deleting, wakes: true},
		{name: "a counted condition turning True wakes the pool (its status counts it)", change: dnsRecord(metav1.ConditionTrue, "Created"), wakes: true},
		{name: "a transfer wakes the pool", change: func(c *v1alpha1.DomainClaim) { c.Spec.Namespace = "team-b"; c.Generation++ }, wakes: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cur := base.DeepCopy()
			tc.change(cur)
			assert.Equal(t, tc.wakes, claimInputsChanged.Update(event.UpdateEvent{ObjectOld: base, ObjectNew: cur}))
		})
	}
	t.Run("the ALIAS records of a deleting claim going away wakes the pool", func(t *testing.T) {
		old := base.DeepCopy()
		deleting(old)
		cur := old.DeepCopy()
		meta.SetStatusCondition(&cur.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionDNSRecord, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonRecordsRemoved})
		assert.True(t, claimInputsChanged.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: cur}))
	})
}
