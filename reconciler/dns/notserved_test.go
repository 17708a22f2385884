package dns

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
)

// assigned sets the claim's GatewayAssigned condition, turned to status at since.
func assigned(status metav1.ConditionStatus, reason string, since time.Time) func(*v1alpha1.DomainClaim) {
	return func(c *v1alpha1.DomainClaim) {
		c.Status.Conditions = append(c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionGatewayAssigned, Status: status, Reason: reason,
			Message: "why " + reason, LastTransitionTime: metav1.NewTime(since)})
	}
}

// noLoadBalancer is a claim whose status names no load balancer and no seat, whose records were
// confirmed at alb-1.
func noLoadBalancer(c *v1alpha1.DomainClaim) {
	c.Status.LoadBalancerHostname, c.Status.LoadBalancerZoneID, c.Status.Gateway = "", "", nil
	c.Status.AliasTarget = &v1alpha1.AliasTarget{DNSName: "alb-1.elb.amazonaws.com", HostedZoneID: "ZALB", RecordTypes: []string{"A"}}
	c.Status.Conditions = append(c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionDNSRecord, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonCreated})
}

func TestNotServed(t *testing.T) {
	now := time.Date(2026, 11, 27, 20, 0, 0, 0, time.UTC)
	grace := 15 * time.Second
	long := now.Add(-time.Minute)
	seatMoving := func(c *v1alpha1.DomainClaim) {
		c.Status.Gateway = &v1alpha1.ObjectRef{Namespace: "gw", Name: "public-2"}
	}
	cases := []struct {
		name       string
		claim      *v1alpha1.DomainClaim
		since      time.Time // first seen served by nothing; long ago unless given
		wantRemove bool
		wantWait   time.Duration
	}{
		{name: "a claim with a load balancer keeps its records",
			claim: claim(assigned(metav1.ConditionTrue, v1alpha1.ReasonAssigned, long))},
		{name: "a zone that lost its pool removes the records once the grace has passed",
			claim: claim(noLoadBalancer, assigned(metav1.ConditionFalse, v1alpha1.ReasonNoGatewayPool, long)), wantRemove: true},
		{name: "a zone naming a pool that does not exist removes them too",
			claim: claim(noLoadBalancer, assigned(metav1.ConditionFalse, v1alpha1.ReasonGatewayPoolNotFound, long)), wantRemove: true},
		{name: "a claim no Gateway of its full pool can seat removes them",
			claim: claim(noLoadBalancer, assigned(metav1.ConditionFalse, v1alpha1.ReasonPoolExhausted, long)), wantRemove: true},
		{name: "a claim whose routes name only Gateways that do not exist removes them",
			claim: claim(noLoadBalancer, assigned(metav1.ConditionFalse, v1alpha1.ReasonLoadBalancerNotFound, long)), wantRemove: true},
		{name: "an unbound claim removes them",
			claim: claim(noLoadBalancer, assigned(metav1.ConditionFalse, v1alpha1.ReasonUnbound, long)), wantRemove: true},
		{name: "within the grace the records stay, and the claim is looked at again when it ends",
			claim: claim(noLoadBalancer, assigned(metav1.ConditionFalse, v1alpha1.ReasonNoGatewayPool, now.Add(-5*time.Second))),
			since: now.Add(-5 * time.Second), wantWait: 10 * time.Second},
		{name: "the grace runs from when the claim was first seen served by nothing, not from GatewayAssigned's last transition",
			claim: claim(noLoadBalancer, assigned(metav1.ConditionFalse, v1alpha1.ReasonPoolExhausted, now.Add(-time.Hour))),
			since: now, wantWait: grace},
		{name: "a seat that moves (its new Gateway's load balancer not known yet) never removes them",
			claim: claim(noLoadBalancer, seatMoving, assigned(metav1.ConditionTrue, v1alpha1.ReasonAssigned, long))},
		{name: "a seat that moves keeps them even if GatewayAssigned said a terminal reason before",
			claim: claim(noLoadBalancer, seatMoving, assigned(metav1.ConditionFalse, v1alpha1.ReasonPoolExhausted, long))},
		{name: "a claim waiting for its certificate before a seat keeps them",
			claim: claim(noLoadBalancer, assigned(metav1.ConditionFalse, v1alpha1.ReasonPending, long))},
		{name: "a claim waiting for its team's own load balancer's address keeps them",
			claim: claim(noLoadBalancer, assigned(metav1.ConditionTrue, v1alpha1.ReasonOwnLoadBalancer, long))},
		{name: "a claim the pool has not written yet keeps them",
			claim: claim(noLoadBalancer)},
		{name: "a load balancer name without its zone is not served by nothing",
			claim: claim(noLoadBalancer, func(c *v1alpha1.DomainClaim) { c.Status.LoadBalancerZoneID = "ZALB" },
				assigned(metav1.ConditionFalse, v1alpha1.ReasonNoGatewayPool, long))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			since := tc.since
			if since.IsZero() {
				since = long
			}
			w := NotServed(tc.claim, since, now, grace)
			assert.Equal(t, tc.wantRemove, w.Remove)
			assert.Equal(t, tc.wantWait, w.Wait)
			switch {
			case tc.wantWait > 0:
				assert.Contains(t, w.Message, "no load balancer serves "+host+" (GatewayAssigned=False/")
				assert.Contains(t, w.Message, "removed at "+since.Add(grace).Format(time.RFC3339))
			case tc.wantRemove:
				reason := meta.FindStatusCondition(tc.claim.Status.Conditions, v1alpha1.ConditionGatewayAssigned).Reason
				assert.Contains(t, w.Message, "no load balancer serves "+host+" any more (GatewayAssigned=False/"+reason+": why "+reason+")")
				assert.Contains(t, w.Message, "its ALIAS records were removed rather than left pointing at alb-1.elb.amazonaws.com")
			default:
				assert.Empty(t, w.Message)
			}
		})
	}
}

func TestRecordsOfAClaimServedByNothingAreRemovedAfterTheGraceAndTheClaimSaysWhy(t *testing.T) {
	ctx := t.Context()
	start := time.Now().Truncate(time.Second) // the API keeps seconds
	r, rec, _ := setup(t, claim(withUID("served-by-nothing")), map[bool]dnsbatch.State{false: dnsbatch.Done, true: dnsbatch.Done})
	clk := r.Clock.(*clocktesting.FakePassiveClock)
	clk.SetTime(start)
	_, c := reconcileOnce(t, r)
	require.NotNil(t, c.Status.AliasTarget, "in place first")

	// The zone loses its pool: the pool's part of the status says nothing serves the name.
	c.Status.LoadBalancerHostname, c.Status.LoadBalancerZoneID = "", ""
	assigned(metav1.ConditionFalse, v1alpha1.ReasonNoGatewayPool, start)(c)
	require.NoError(t, r.Client.Status().Update(ctx, c))
	rec.asked = nil
	res, c := reconcileOnce(t, r)
	assert.Empty(t, rec.asked, "within the grace nothing is removed")
	assert.Equal(t, DefaultNotServedGrace, res.RequeueAfter, "looked at again when the grace ends")
	assert.Equal(t, v1alpha1.ReasonPending, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord).Reason)
	assert.NotNil(t, c.Status.AliasTarget, "the records still point where they did")

	clk.SetTime(start.Add(DefaultNotServedGrace))
	_, c = reconcileOnce(t, r)
	require.Len(t, rec.asked, 2, "A and AAAA are asked gone")
	for _, w := range rec.asked {
		assert.True(t, w.Absent)
		assert.Equal(t, dnsbatch.Exclusive, w.Kind, "only records with our ownership marker go")
	}
	cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord)
	assert.Equal(t, metav1.ConditionFalse, cond.Status)
	assert.Equal(t, v1alpha1.ReasonNoLoadBalancer, cond.Reason)
	assert.Contains(t, cond.Message, "GatewayAssigned=False/NoGatewayPool")
	assert.Nil(t, c.Status.AliasTarget, "the records point at no load balancer")
	assert.True(t, c.AliasRecordsGone(), "a claim deleted now has nothing left to remove")

	rec.asked = nil
	_, _ = reconcileOnce(t, r)
	assert.Empty(t, rec.asked, "removed once: nothing is asked again")
}

func TestAClaimWhoseRecordsWentForNothingServingItIsNotGoneOnceItHasALoadBalancerAgain(t *testing.T) {
	c := claim(func(c *v1alpha1.DomainClaim) {
		c.Status.Conditions = append(c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionDNSRecord, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonNoLoadBalancer})
	})
	assert.False(t, c.AliasRecordsGone(), "records for its new load balancer may be queued before the condition says so")
	c.Status.LoadBalancerHostname, c.Status.LoadBalancerZoneID = "", ""
	c.Status.Gateway = &v1alpha1.ObjectRef{Namespace: "gw", Name: "public-1"}
	assert.False(t, c.AliasRecordsGone(), "nor with a seat")
	c.Status.Gateway = nil
	assert.True(t, c.AliasRecordsGone())
}

func TestAFirstChangeQueuedUnsaidIsRemovedWhenNothingServesTheClaimAnyMore(t *testing.T) {
	r, rec, _ := setup(t, claim(withUID("unsaid-not-served")), map[bool]dnsbatch.State{false: dnsbatch.Pending, true: dnsbatch.Done})
	_, c := reconcileOnce(t, r)
	require.Nil(t, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord), "queued, not said")

	c.Status.LoadBalancerHostname, c.Status.LoadBalancerZoneID = "", ""
	assigned(metav1.ConditionFalse, v1alpha1.ReasonNoGatewayPool, r.Clock.Now().Add(-time.Minute))(c)
	require.NoError(t, r.Client.Status().Update(t.Context(), c))
	rec.asked = nil
	_, _ = reconcileOnce(t, r) // the grace starts
	clk := r.Clock.(*clocktesting.FakePassiveClock)
	clk.SetTime(clk.Now().Add(DefaultNotServedGrace))
	_, c = reconcileOnce(t, r)
	require.NotEmpty(t, rec.asked, "the records the queued change may create are asked gone")
	for _, w := range rec.asked {
		assert.True(t, w.Absent)
	}
	assert.Equal(t, v1alpha1.ReasonNoLoadBalancer, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord).Reason)
	assert.Zero(t, unsaidCount(r), "said")
}

// TestTheGraceStartsWhenNothingServesTheClaimNotWhenGatewayAssignedLastTurned: a claim that
// waited an hour with GatewayAssigned=False/Pending (a step on its way) and then turns
// False/PoolExhausted keeps its records for the whole grace, although the condition's
// LastTransitionTime is an hour old (it moves only with the status); meanwhile DNSRecordReady
// says when they go, not that a Gateway's load balancer is awaited.
func TestTheGraceStartsWhenNothingServesTheClaimNotWhenGatewayAssignedLastTurned(t *testing.T) {
	ctx := t.Context()
	start := time.Now().Truncate(time.Second)
	hourAgo := start.Add(-time.Hour)
	r, rec, _ := setup(t, claim(withUID("grace-from-reason"), noLoadBalancer, assigned(metav1.ConditionFalse, v1alpha1.ReasonPending, hourAgo)),
		map[bool]dnsbatch.State{false: dnsbatch.Done, true: dnsbatch.Done})
	clk := r.Clock.(*clocktesting.FakePassiveClock)
	clk.SetTime(start)
	_, c := reconcileOnce(t, r)
	assert.Empty(t, rec.asked, "a seat on its way keeps the records")

	meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionGatewayAssigned).Reason = v1alpha1.ReasonPoolExhausted
	require.NoError(t, r.Client.Status().Update(ctx, c))
	clk.SetTime(start.Add(time.Second))
	res, c := reconcileOnce(t, r)
	assert.Empty(t, rec.asked, "the grace starts now")
	assert.Equal(t, DefaultNotServedGrace, res.RequeueAfter)
	cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord)
	assert.Equal(t, v1alpha1.ReasonPending, cond.Reason)
	assert.NotContains(t, cond.Message, "assigned Gateway", "nothing is assigned")
	assert.Contains(t, cond.Message, "GatewayAssigned=False/PoolExhausted")

	clk.SetTime(start.Add(time.Second + DefaultNotServedGrace - time.Millisecond))
	_, _ = reconcileOnce(t, r)
	assert.Empty(t, rec.asked, "still within the grace")

	clk.SetTime(start.Add(time.Second + DefaultNotServedGrace))
	_, c = reconcileOnce(t, r)
	require.Len(t, rec.asked, 2, "A and AAAA go once the grace has passed")
	assert.Equal(t, v1alpha1.ReasonNoLoadBalancer, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord).Reason)
}
