package gatewaypool

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/event"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

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
	t.Run("DNS confirming the ALIAS at another load balancer wakes the pool (a seat kept for it is given back)", func(t *testing.T) {
		old := base.DeepCopy()
		aliasAt("alb-public-1.example")(old)
		old.Status.LoadBalancerHostname = "own.example"
		cur := old.DeepCopy()
		cur.Status.AliasTarget.DNSName = "own.example" // the condition as it was: only the field moved
		assert.True(t, claimInputsChanged.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: cur}))
	})
	t.Run("DNS filling in the field of a claim of an older version wakes the pool", func(t *testing.T) {
		old := base.DeepCopy()
		aliasAt("own.example")(old)
		old.Status.AliasTarget = nil
		cur := old.DeepCopy()
		aliasAt("own.example")(cur)
		assert.True(t, claimInputsChanged.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: cur}))
	})
	t.Run("DNS re-confirming the same target (a refresh) does not wake the pool", func(t *testing.T) {
		old := base.DeepCopy()
		aliasAt("own.example")(old)
		cur := old.DeepCopy()
		cur.Status.AliasTarget.Since = metav1.Now()
		assert.False(t, claimInputsChanged.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: cur}))
	})
	t.Run("the ALIAS records of a deleting claim going away wakes the pool", func(t *testing.T) {
		old := base.DeepCopy()
		deleting(old)
		cur := old.DeepCopy()
		meta.SetStatusCondition(&cur.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionDNSRecord, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonRecordsRemoved})
		assert.True(t, claimInputsChanged.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: cur}))
	})
}

func TestLBCVerdictChanged(t *testing.T) {
	refused := func(gen int64, reason, msg string) *gwv1.Gateway {
		gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "web", Generation: gen}}
		gw.Status.Conditions = []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionFalse, ObservedGeneration: gen, Reason: reason, Message: msg}}
		return gw
	}
	accepted := func(gen int64) *gwv1.Gateway {
		gw := refused(gen, "Accepted", "")
		gw.Status.Conditions[0].Status = metav1.ConditionTrue
		return gw
	}
	assert.False(t, lbcVerdictChanged(refused(1, "Invalid", "no certificate"), refused(1, "Invalid", "no certificate")), "nothing new")
	assert.True(t, lbcVerdictChanged(refused(1, "Invalid", "no certificate"), refused(2, "Invalid", "no certificate")),
		"a refusal re-stamped for a new generation")
	assert.True(t, lbcVerdictChanged(refused(1, "Invalid", "no certificate"), refused(1, "Invalid", "too many rules")), "a refusal in other words")
	assert.True(t, lbcVerdictChanged(refused(1, "Invalid", "no certificate"), accepted(1)), "accepted again")
	assert.False(t, lbcVerdictChanged(accepted(1), accepted(2)), "an acceptance re-stamped after a write changes nothing")
}

func TestRouteInputsChanged(t *testing.T) {
	rt := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "shop", Generation: 1}}
	rt.Spec.ParentRefs = []gwv1.ParentReference{{Namespace: ptr.To(gwv1.Namespace("team-b")), Name: "web"}}
	cur := rt.DeepCopy()
	cur.Status.Parents = []gwv1.RouteParentStatus{{ParentRef: rt.Spec.ParentRefs[0], ControllerName: "example.com/other",
		Conditions: []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue}}}}
	assert.False(t, routeInputsChanged.Update(event.UpdateEvent{ObjectOld: rt, ObjectNew: cur}), "another controller's verdict")
	next := cur.DeepCopy()
	next.Status.Parents[0].ControllerName = "gateway.k8s.aws/alb"
	assert.True(t, routeInputsChanged.Update(event.UpdateEvent{ObjectOld: cur, ObjectNew: next}),
		"LBC accepting the route on another namespace's Gateway can make it the ALIAS target")
	spec := next.DeepCopy()
	spec.Generation++
	assert.True(t, routeInputsChanged.Update(event.UpdateEvent{ObjectOld: next, ObjectNew: spec}), "a spec change")

	ls := &gwv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "extra", Generation: 1}}
	lsCur := ls.DeepCopy()
	lsCur.Status.Conditions = []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, ObservedGeneration: 1}}
	assert.True(t, ownLoadBalancerChanged.Update(event.UpdateEvent{ObjectOld: ls, ObjectNew: lsCur}), "a ListenerSet accepted by its Gateway")
	lsSame := lsCur.DeepCopy()
	lsSame.Status.Conditions = append(lsSame.Status.Conditions, metav1.Condition{Type: "Programmed", Status: metav1.ConditionTrue})
	assert.False(t, ownLoadBalancerChanged.Update(event.UpdateEvent{ObjectOld: lsCur, ObjectNew: lsSame}), "nothing that changes its load balancer")
}

func TestATenantsPoolLabelMakesNoPoolGateway(t *testing.T) {
	poolNS := map[string]bool{"gateway-system": true}
	fake := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "web", Labels: map[string]string{LabelPool: "public"}}}
	assert.False(t, isPoolGateway(fake, poolNS), "the label alone proves nothing: any tenant can set it")
	own := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "gateway-system", Name: "public-1", Labels: map[string]string{LabelPool: "public"}}}
	assert.True(t, isPoolGateway(own, poolNS))

	old := fake.DeepCopy()
	cur := fake.DeepCopy()
	cur.Status.Addresses = []gwv1.GatewayStatusAddress{{Type: ptr.To(gwv1.HostnameAddressType), Value: "own.example"}}
	assert.True(t, ownLoadBalancerChanged.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: cur}),
		"a labelled tenant Gateway's new address still wakes the pools")
}
