package gatewaypool

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/ownlb"
)

// withoutTimes is p with its conditions' transition times zeroed (a plan sets a new condition's to
// now), on copies: the memo's statuses are shared.
func withoutTimes(p *PoolPlan) *PoolPlan {
	out := &PoolPlan{Gateways: p.Gateways, Delete: p.Delete}
	zero := func(conds []metav1.Condition) {
		for i := range conds {
			conds[i].LastTransitionTime = metav1.Time{}
		}
	}
	for _, ch := range p.Claims {
		st := ch.Status.DeepCopy()
		zero(st.Conditions)
		out.Claims = append(out.Claims, ClaimChange{Claim: ch.Claim, Status: *st})
	}
	if p.Status != nil {
		out.Status = p.Status.DeepCopy()
		zero(out.Status.Conditions)
	}
	return out
}

// settleWithMemo plans s with memo, requires the plan Plan makes without one, and converges until
// nothing changes.
func settleWithMemo(t *testing.T, s *Snapshot, memo *planMemo) *Snapshot {
	t.Helper()
	for i := 0; i < 6; i++ {
		p := planWith(s, memo)
		require.Equal(t, withoutTimes(Plan(s)), withoutTimes(p), "round %d", i)
		if len(p.Gateways) == 0 && len(p.Claims) == 0 && len(p.Delete) == 0 && p.Status == nil {
			return s
		}
		s = converge(s, p)
	}
	require.Fail(t, "the plan does not settle")
	return nil
}

// changeClaim replaces claim n of s by a copy changed by opts, with a new resourceVersion.
func changeClaim(s *Snapshot, host string, opts ...claimOpt) {
	for i := range s.Claims {
		if s.Claims[i].Claim.Name != host {
			continue
		}
		c := s.Claims[i].Claim.DeepCopy()
		for _, o := range opts {
			o(c)
		}
		c.ResourceVersion = nextResourceVersion()
		s.Claims[i].Claim = c
	}
}

// changeGateway replaces Gateway name's state by a copy changed by change, with a new resourceVersion.
func changeGateway(s *Snapshot, name string, change func(*GatewayState)) {
	st := gatewayState(s, name)
	st.Gateway = st.Gateway.DeepCopy()
	change(st)
	st.Gateway.ResourceVersion = nextResourceVersion()
}

func TestPlanWithMemoEqualsPlanWithout(t *testing.T) {
	steps := []struct {
		name   string
		change func(s *Snapshot)
	}{
		{name: "a certificate is issued", change: func(s *Snapshot) {
			changeClaim(s, "h0003.example.com", func(c *v1alpha1.DomainClaim) {
				meta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionCertificateIssued, Status: metav1.ConditionTrue, Reason: "Issued"})
			})
		}},
		{name: "a Gateway's load balancer gets a new address", change: func(s *Snapshot) {
			changeGateway(s, "public-1", func(g *GatewayState) { g.LoadBalancerHost = "alb-new.example" })
		}},
		{name: "LBC refuses a Gateway", change: func(s *Snapshot) {
			changeGateway(s, "public-2", func(g *GatewayState) { g.Refusal = "too many rules" })
		}},
		{name: "LBC accepts it again", change: func(s *Snapshot) {
			changeGateway(s, "public-2", func(g *GatewayState) { g.Refusal = "" })
		}},
		{name: "another owner writes a condition the pool counts", change: func(s *Snapshot) {
			changeClaim(s, "h0004.example.com", dnsRecord(metav1.ConditionTrue, "Created"))
		}},
		{name: "routes outgrow a Gateway", change: func(s *Snapshot) {
			s.Claims[0].Need = oneRoute("big-1", 60)
			s.Claims[1].Need = oneRoute("big-2", 60)
		}},
		{name: "a claim is being deleted while its ALIAS exists", change: func(s *Snapshot) {
			changeClaim(s, "h0005.example.com", deleting, withLoadBalancer, dnsRecord(metav1.ConditionTrue, "Created"))
		}},
		{name: "its ALIAS records are gone", change: func(s *Snapshot) {
			changeClaim(s, "h0005.example.com", dnsRecord(metav1.ConditionFalse, v1alpha1.ReasonRecordsRemoved))
		}},
		{name: "a claim is transferred to another namespace", change: func(s *Snapshot) {
			changeClaim(s, "h0006.example.com", func(c *v1alpha1.DomainClaim) { c.Spec.Namespace = "team-b"; c.Generation++ })
		}},
		{name: "a Gateway is being deleted", change: func(s *Snapshot) {
			changeGateway(s, "public-1", func(g *GatewayState) { g.Gateway.DeletionTimestamp = ptr.To(metav1.NewTime(epoch)) })
		}},
		{name: "a seated claim's route moves to its own Gateway, which has no address yet", change: func(s *Snapshot) {
			s.Claims[7].Own = OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Waiting, Objects: []string{"Gateway team-a/web"}}}
		}},
		{name: "the own Gateway gets an address (the claim itself does not change)", change: func(s *Snapshot) {
			s.Claims[7].Own = OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Own, Address: "own-alb.example", Objects: []string{"Gateway team-a/web"}}, Zone: "ZOWN"}
		}},
		{name: "the own Gateway's address changes", change: func(s *Snapshot) {
			s.Claims[7].Own = OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Own, Address: "own-alb-2.example", Objects: []string{"Gateway team-a/web"}}, Zone: "ZOWN"}
		}},
		{name: "DNS points at the own load balancer: the seat is given back", change: func(s *Snapshot) {
			changeClaim(s, s.Claims[7].Claim.Name, aliasAt("own-alb-2.example"))
		}},
		{name: "the route moves back to the pool, next to an Ingress of its own", change: func(s *Snapshot) {
			s.Claims[7].Own = OwnTarget{Decision: ownlb.Decision{Kind: ownlb.Pool, Objects: []string{"Ingress team-a/shop"}}}
		}},
		{name: "the pool's template asks for HTTP listeners", change: func(s *Snapshot) {
			s.Pool = s.Pool.DeepCopy()
			s.Pool.Spec.Template.HTTPListener = true
			s.Pool.Generation++
		}},
	}
	var claims []*v1alpha1.DomainClaim
	for i := 1; i <= 40; i++ {
		if i%10 == 3 {
			claims = append(claims, testClaim(i, notIssued))
		} else {
			claims = append(claims, testClaim(i))
		}
	}
	memo := newPlanMemo()
	s := settleWithMemo(t, snapshot(testPool(1, 10), nil, claims...), memo)
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			step.change(s)
			s = settleWithMemo(t, s, memo)
			assert.Empty(t, withoutTimes(planWith(s, memo)).Claims, "desired equals current gives no change, with the memo too")
		})
	}
}

func TestAConvergedPoolIsPlannedFromTheMemo(t *testing.T) {
	memo := newPlanMemo()
	s := settleWithMemo(t, snapshot(testPool(1, 10), nil, testClaim(1), testClaim(2), testClaim(3, notIssued)), memo)
	gateway, claim := memo.gateways["public-1"], memo.claims["h0001.example.com"]
	require.NotNil(t, gateway)
	require.NotNil(t, claim)
	planWith(s, memo)
	assert.Same(t, gateway, memo.gateways["public-1"], "the Gateway is not planned again")
	assert.Same(t, claim, memo.claims["h0001.example.com"], "nor is the claim")

	changeClaim(s, "h0003.example.com", func(c *v1alpha1.DomainClaim) {
		meta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionCertificateIssued, Status: metav1.ConditionTrue, Reason: "Issued"})
	})
	p := planWith(s, memo)
	assert.NotSame(t, gateway, memo.gateways["public-1"], "a new seat plans the Gateway again")
	assert.Same(t, claim, memo.claims["h0001.example.com"], "but not the other claims")
	require.Len(t, p.Claims, 1)
	assert.Equal(t, "h0003.example.com", p.Claims[0].Claim.Name)

	s.Claims = s.Claims[:2]
	planWith(s, memo)
	assert.NotContains(t, memo.claims, "h0003.example.com", "a claim gone is forgotten")
}

func TestARemembereredNeedLastsUntilItsClaimOrRoutesChange(t *testing.T) {
	var m memos
	c := testClaim(1)
	need := oneRoute("web", 2)

	_, ok, epoch := m.need("public", c, false)
	require.False(t, ok)
	m.rememberNeed("public", c, need, false, epoch)
	got, ok, _ := m.need("public", c, false)
	require.True(t, ok)
	assert.Equal(t, need, got)
	_, ok, _ = m.need("private", c, false)
	assert.False(t, ok, "each pool remembers its own")
	_, ok, _ = m.need("public", c, true)
	assert.False(t, ok, "a need counted without the HTTP listener is counted again with it: HTTPRoutes' rules count on both listeners")

	changed := c.DeepCopy()
	changed.Generation++
	_, ok, _ = m.need("public", changed, false)
	assert.False(t, ok, "a new spec is looked up again")

	m.routesChanged([]string{"other.example.com"})
	_, ok, _ = m.need("public", c, false)
	assert.True(t, ok, "a route of another hostname changes nothing")
	m.routesChanged([]string{"h0001.example.com", "*.example.com"})
	_, ok, epoch = m.need("public", c, false)
	assert.False(t, ok, "a route listing the hostname drops it")

	m.routesChanged([]string{"other.example.com"})
	m.rememberNeed("public", c, need, false, epoch)
	_, ok, _ = m.need("public", c, false)
	assert.False(t, ok, "a need looked up across a route event is not remembered: the event may have dropped it before")

	_, _, epoch = m.need("public", c, false)
	m.rememberNeed("public", c, need, false, epoch)
	m.pruneNeeds("public", nil)
	_, ok, _ = m.need("public", c, false)
	assert.False(t, ok, "a claim gone from the pool is forgotten")
}
