package gatewaypool

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// Builders for plan tests.

func testPool(minGateways, maxGateways int32) *v1alpha1.GatewayPool {
	return &v1alpha1.GatewayPool{
		ObjectMeta: metav1.ObjectMeta{Name: "public", UID: "pool-uid", Generation: 1},
		Spec: v1alpha1.GatewayPoolSpec{GatewayClassName: "alb", Namespace: "gateway-system", MaxCertificatesPerGateway: 25,
			MaxRulesPerGateway: 100, MinGateways: minGateways, MaxGateways: maxGateways},
	}
}

var epoch = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

type claimOpt func(*v1alpha1.DomainClaim)

// testClaim is the n-th claim (created n seconds after the epoch), Claimed and with an ISSUED
// certificate.
func testClaim(n int, opts ...claimOpt) *v1alpha1.DomainClaim {
	host := fmt.Sprintf("h%04d.example.com", n)
	c := &v1alpha1.DomainClaim{
		ObjectMeta: metav1.ObjectMeta{Name: host, UID: types.UID("uid-" + host), Generation: 1, ResourceVersion: nextResourceVersion(),
			CreationTimestamp: metav1.NewTime(epoch.Add(time.Duration(n) * time.Second))},
		Spec:   v1alpha1.DomainClaimSpec{Hostname: host, Namespace: "team-a"},
		Status: v1alpha1.DomainClaimStatus{CertificateARN: "arn:aws:acm:us-east-1:123456789012:certificate/" + host, ManagedZone: "example-com"},
	}
	meta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionClaimed, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonClaimed})
	meta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionCertificateIssued, Status: metav1.ConditionTrue, Reason: "Issued"})
	meta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionBound, Status: metav1.ConditionTrue, Reason: "Bound"})
	for _, o := range opts {
		o(c)
	}
	return c
}

func seatedOn(gw string) claimOpt {
	return func(c *v1alpha1.DomainClaim) {
		c.Status.Gateway = &v1alpha1.ObjectRef{Namespace: "gateway-system", Name: gw}
	}
}

func deleting(c *v1alpha1.DomainClaim) {
	c.DeletionTimestamp = ptr.To(metav1.NewTime(epoch.Add(time.Hour)))
	c.Finalizers = []string{"gateway.opendi.com/aws-cleanup"}
}

func dnsRecord(status metav1.ConditionStatus, reason string) claimOpt {
	return func(c *v1alpha1.DomainClaim) {
		meta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionDNSRecord, Status: status, Reason: reason})
	}
}

func withLoadBalancer(c *v1alpha1.DomainClaim) { c.Status.LoadBalancerHostname = "alb.example" }

func notIssued(c *v1alpha1.DomainClaim) {
	meta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionCertificateIssued, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonPending})
}

// snapshot builds a snapshot of claims (each needing one rule and one target group of its own)
// and empty Gateways; converge then makes it what applying its plans would.
func snapshot(pool *v1alpha1.GatewayPool, gateways []string, claims ...*v1alpha1.DomainClaim) *Snapshot {
	s := &Snapshot{Pool: pool}
	for _, name := range gateways {
		gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: pool.Spec.Namespace, Name: name, UID: types.UID("uid-" + name), ResourceVersion: nextResourceVersion()}}
		s.Gateways = append(s.Gateways, GatewayState{Gateway: gw, LoadBalancerHost: "alb-" + name + ".example", LoadBalancerZone: "Z1"})
	}
	for _, c := range claims {
		s.Claims = append(s.Claims, ClaimState{Claim: c, Need: oneRoute(c.Name, 1)})
	}
	return s
}

// oneRoute is the need of a hostname served by one route with one rule per target group.
func oneRoute(route string, targetGroups int) Seat {
	need := Seat{Certificates: 1, Rules: int32(max(1, targetGroups)), Routes: []string{"HTTPRoute team-a/" + route}}
	for i := 0; i < targetGroups; i++ {
		need.TargetGroups = append(need.TargetGroups, TargetGroupKey("HTTPRoute", "team-a", route, "team-a", fmt.Sprintf("svc-%d", i), 80))
	}
	return need
}

func gatewayState(s *Snapshot, name string) *GatewayState {
	for i := range s.Gateways {
		if s.Gateways[i].Gateway.Name == name {
			return &s.Gateways[i]
		}
	}
	return nil
}

// resourceVersions numbers the objects the tests write, as the API server would.
var resourceVersions atomic.Int64

func nextResourceVersion() string { return strconv.FormatInt(resourceVersions.Add(1), 10) }

// converge is the snapshot after p is applied (and the cache has seen it): every object written has
// a new resourceVersion.
func converge(s *Snapshot, p *PoolPlan) *Snapshot {
	out := &Snapshot{Pool: s.Pool.DeepCopy(), ClassProblem: s.ClassProblem}
	if p.Status != nil {
		out.Pool.Status = *p.Status.DeepCopy()
	}
	deleted := map[string]bool{}
	for _, d := range p.Delete {
		deleted[d] = true
	}
	for _, g := range s.Gateways {
		if !deleted[g.Gateway.Name] {
			out.Gateways = append(out.Gateways, g)
		}
	}
	for _, ch := range p.Gateways {
		st := gatewayState(out, ch.Name)
		if st == nil {
			out.Gateways = append(out.Gateways, GatewayState{})
			st = &out.Gateways[len(out.Gateways)-1]
		}
		if ch.Gateway != nil {
			st.Gateway = ch.Gateway.DeepCopy()
			st.Gateway.UID = types.UID("uid-" + ch.Name)
			st.Gateway.ResourceVersion = nextResourceVersion()
		}
		if ch.Config != nil {
			st.Config = ch.Config.DeepCopy()
			st.Config.ResourceVersion = nextResourceVersion()
		}
	}
	changed := map[string]v1alpha1.DomainClaimStatus{}
	for _, ch := range p.Claims {
		changed[ch.Claim.Name] = ch.Status
	}
	for _, cs := range s.Claims {
		if st, ok := changed[cs.Claim.Name]; ok {
			cs.Claim = cs.Claim.DeepCopy()
			cs.Claim.Status = *st.DeepCopy()
			cs.Claim.ResourceVersion = nextResourceVersion()
		}
		out.Claims = append(out.Claims, cs)
	}
	return out
}

// settle plans and converges until nothing changes (at most a few rounds).
func settle(t *testing.T, s *Snapshot) *Snapshot {
	t.Helper()
	for i := 0; i < 5; i++ {
		p := Plan(s)
		if len(p.Gateways) == 0 && len(p.Claims) == 0 && len(p.Delete) == 0 && p.Status == nil {
			return s
		}
		s = converge(s, p)
	}
	require.Fail(t, "the plan does not settle")
	return nil
}

func listenerNames(gw *gwv1.Gateway) []string {
	var out []string
	for _, l := range gw.Spec.Listeners {
		out = append(out, string(l.Name))
	}
	return out
}

func claimChange(p *PoolPlan, name string) *ClaimChange {
	for i := range p.Claims {
		if p.Claims[i].Claim.Name == name {
			return &p.Claims[i]
		}
	}
	return nil
}

func gatewayChange(p *PoolPlan, name string) *GatewayChange {
	for i := range p.Gateways {
		if p.Gateways[i].Name == name {
			return &p.Gateways[i]
		}
	}
	return nil
}

func TestPlanDesiredEqualsCurrentGivesNoChange(t *testing.T) {
	s := snapshot(testPool(1, 10), nil, testClaim(1), testClaim(2), testClaim(3, notIssued))
	s = settle(t, s)
	p := Plan(s)
	assert.Empty(t, p.Gateways, "no Gateway or configuration to write")
	assert.Empty(t, p.Claims, "no claim status to write")
	assert.Empty(t, p.Delete)
	assert.Nil(t, p.Status, "the pool's status is as it should be")
	gw := gatewayState(s, "public-1")
	require.NotNil(t, gw)
	assert.Equal(t, []string{"h0001.example.com", "h0002.example.com"}, listenerNames(gw.Gateway), "a listener per seated hostname; none for a certificate not issued")
	assert.Equal(t, "arn:aws:acm:us-east-1:123456789012:certificate/h0001.example.com", CertificatesOf(gw.Config).DefaultCertificate)
}

func TestPlan(t *testing.T) {
	cases := []struct {
		name  string
		given func() *Snapshot
		check func(t *testing.T, s *Snapshot, p *PoolPlan)
	}{
		{
			name:  "an empty pool creates its minimum of Gateways with their configurations",
			given: func() *Snapshot { return snapshot(testPool(2, 10), nil) },
			check: func(t *testing.T, _ *Snapshot, p *PoolPlan) {
				require.Len(t, p.Gateways, 2)
				for i, g := range p.Gateways {
					assert.Equal(t, GatewayName("public", i+1), g.Name)
					assert.True(t, g.Create)
					assert.True(t, g.CreateConfig)
					assert.Equal(t, []string{HTTPSListener}, listenerNames(g.Gateway), "a Gateway without seats keeps one listener")
					assert.True(t, metav1.IsControlledBy(g.Gateway, &v1alpha1.GatewayPool{ObjectMeta: metav1.ObjectMeta{UID: "pool-uid"}}))
				}
			},
		},
		{
			name: "a new claim is seated on the first Gateway with room, its listener and certificate with it",
			given: func() *Snapshot {
				return converge(snapshot(testPool(1, 10), []string{"public-1", "public-2"}, testClaim(1)), &PoolPlan{})
			},
			check: func(t *testing.T, _ *Snapshot, p *PoolPlan) {
				g := gatewayChange(p, "public-1")
				require.NotNil(t, g)
				assert.Equal(t, []string{"h0001.example.com"}, listenerNames(g.Gateway))
				assert.Equal(t, "arn:aws:acm:us-east-1:123456789012:certificate/h0001.example.com", CertificatesOf(g.Config).DefaultCertificate)
				c := claimChange(p, "h0001.example.com")
				require.NotNil(t, c)
				assert.Equal(t, "public-1", c.Status.Gateway.Name)
				assert.True(t, meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionGatewayAssigned))
				assert.True(t, meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionCertificateAttached))
				assert.True(t, meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionRoutesAllowed))
				assert.Equal(t, []string{"public-2"}, p.Delete, "the empty surplus Gateway goes, last")
			},
		},
		{
			name: "a full Gateway is skipped and a new one created",
			given: func() *Snapshot {
				var claims []*v1alpha1.DomainClaim
				for i := 1; i <= 26; i++ {
					claims = append(claims, testClaim(i))
				}
				return snapshot(testPool(1, 10), []string{"public-1"}, claims...)
			},
			check: func(t *testing.T, _ *Snapshot, p *PoolPlan) {
				g := gatewayChange(p, "public-2")
				require.NotNil(t, g)
				assert.True(t, g.Create)
				assert.Equal(t, []string{"h0026.example.com"}, listenerNames(g.Gateway), "25 certificates fill the first Gateway")
				assert.Len(t, listenerNames(gatewayChange(p, "public-1").Gateway), 25)
			},
		},
		{
			name: "at the pool's maximum a claim that fits nowhere is reported exhausted",
			given: func() *Snapshot {
				var claims []*v1alpha1.DomainClaim
				for i := 1; i <= 26; i++ {
					claims = append(claims, testClaim(i))
				}
				return snapshot(testPool(1, 1), []string{"public-1"}, claims...)
			},
			check: func(t *testing.T, _ *Snapshot, p *PoolPlan) {
				c := claimChange(p, "h0026.example.com")
				require.NotNil(t, c)
				assert.Nil(t, c.Status.Gateway)
				cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionGatewayAssigned)
				require.NotNil(t, cond)
				assert.Equal(t, v1alpha1.ReasonPoolExhausted, cond.Reason)
				assert.Nil(t, gatewayChange(p, "public-2"), "no Gateway past the maximum")
			},
		},
		{
			name: "claims on a Gateway being deleted move, and their load balancer is forgotten",
			given: func() *Snapshot {
				s := snapshot(testPool(1, 10), []string{"public-1", "public-2"},
					testClaim(1, seatedOn("public-1"), withLoadBalancer), testClaim(2, seatedOn("public-2"), withLoadBalancer))
				s = settle(t, s)
				gatewayState(s, "public-1").Gateway.DeletionTimestamp = ptr.To(metav1.NewTime(epoch))
				return s
			},
			check: func(t *testing.T, _ *Snapshot, p *PoolPlan) {
				c := claimChange(p, "h0001.example.com")
				require.NotNil(t, c)
				assert.Equal(t, "public-2", c.Status.Gateway.Name, "a Gateway being deleted is never chosen")
				assert.Equal(t, "alb-public-2.example", c.Status.LoadBalancerHostname)
				assert.Equal(t, []string{HTTPSListener}, listenerNames(gatewayChange(p, "public-1").Gateway), "nothing is served from the Gateway being deleted")
				assert.Empty(t, CertificatesOf(gatewayChange(p, "public-1").Config).DefaultCertificate)
				assert.Empty(t, p.Delete, "a Gateway being deleted is not deleted again")
			},
		},
		{
			name: "a seat the cache has not shown on the claim yet is read from its Gateway's listener",
			given: func() *Snapshot {
				s := settle(t, snapshot(testPool(1, 10), []string{"public-1", "public-2"}, testClaim(1, seatedOn("public-2"))))
				s.Claims[0].Claim = s.Claims[0].Claim.DeepCopy()
				s.Claims[0].Claim.Status.Gateway = nil // the claim's status write is not in the cache yet
				return s
			},
			check: func(t *testing.T, _ *Snapshot, p *PoolPlan) {
				assert.Empty(t, p.Gateways, "the seat stays where it is")
				assert.Empty(t, p.Delete)
				c := claimChange(p, "h0001.example.com")
				require.NotNil(t, c)
				assert.Equal(t, "public-2", c.Status.Gateway.Name)
			},
		},
		{
			name: "a seat whose routes outgrew its Gateway's target groups moves, newest first",
			given: func() *Snapshot {
				s := settle(t, snapshot(testPool(1, 10), nil, testClaim(1), testClaim(2)))
				s.Claims[0].Need = oneRoute("big-1", 60)
				s.Claims[1].Need = oneRoute("big-2", 60)
				return s
			},
			check: func(t *testing.T, _ *Snapshot, p *PoolPlan) {
				c := claimChange(p, "h0002.example.com")
				require.NotNil(t, c)
				assert.Equal(t, "public-2", c.Status.Gateway.Name, "120 target groups do not fit one ALB (100)")
				assert.Nil(t, claimChange(p, "h0001.example.com"), "the older claim stays")
				assert.Equal(t, int32(60), p.Status.Gateways[0].TargetGroups)
				assert.Equal(t, int32(60), p.Status.Gateways[1].TargetGroups)
			},
		},
		{
			name: "target groups two hostnames share through one route count once",
			given: func() *Snapshot {
				s := snapshot(testPool(1, 10), nil, testClaim(1), testClaim(2))
				s.Claims[0].Need = oneRoute("shared", 70)
				s.Claims[1].Need = oneRoute("shared", 70)
				s.Claims[0].Need.Rules, s.Claims[1].Need.Rules = 1, 1
				return s
			},
			check: func(t *testing.T, _ *Snapshot, p *PoolPlan) {
				assert.Len(t, listenerNames(gatewayChange(p, "public-1").Gateway), 2, "both fit: LBC makes one target group per route, Service and port")
				assert.Equal(t, int32(70), p.Status.Gateways[0].TargetGroups)
			},
		},
		{
			name: "a hostname whose routes need more target groups than an ALB holds is reported with its routes",
			given: func() *Snapshot {
				s := snapshot(testPool(1, 10), nil, testClaim(1))
				s.Claims[0].Need = oneRoute("huge", 101)
				s.Claims[0].Need.Rules = 1
				return s
			},
			check: func(t *testing.T, _ *Snapshot, p *PoolPlan) {
				c := claimChange(p, "h0001.example.com")
				require.NotNil(t, c)
				cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionGatewayAssigned)
				require.NotNil(t, cond)
				assert.Equal(t, v1alpha1.ReasonPoolExhausted, cond.Reason)
				assert.Contains(t, cond.Message, "101 target groups")
				assert.Contains(t, cond.Message, "HTTPRoute team-a/huge")
			},
		},
		{
			name: "a claim not bound yet gets no seat and says why",
			given: func() *Snapshot {
				return snapshot(testPool(1, 10), []string{"public-1"}, testClaim(1, func(c *v1alpha1.DomainClaim) {
					meta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionBound, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonUnbound})
				}))
			},
			check: func(t *testing.T, _ *Snapshot, p *PoolPlan) {
				c := claimChange(p, "h0001.example.com")
				require.NotNil(t, c)
				assert.Nil(t, c.Status.Gateway)
				assert.Equal(t, v1alpha1.ReasonUnbound, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionGatewayAssigned).Reason)
				assert.Equal(t, "waiting for the claim to be bound (see Bound): an unbound claim gets no Gateway seat",
					meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionGatewayAssigned).Message)
				g := gatewayChange(p, "public-1")
				require.NotNil(t, g, "the bare Gateway gets its template")
				assert.Equal(t, []string{HTTPSListener}, listenerNames(g.Gateway), "no listener for the claim")
				assert.Empty(t, CertificatesOf(g.Config).DefaultCertificate, "and no certificate")
			},
		},
		{
			name: "the pool's status counts claims by condition and each Gateway's load",
			given: func() *Snapshot {
				return snapshot(testPool(1, 10), nil, testClaim(1), testClaim(2, notIssued), testClaim(3, seatedOn("public-1"), deleting, dnsRecord(metav1.ConditionTrue, "Created")))
			},
			check: func(t *testing.T, _ *Snapshot, p *PoolPlan) {
				require.NotNil(t, p.Status)
				assert.Equal(t, int32(3), p.Status.Claims)
				assert.Equal(t, int32(1), p.Status.DeletingClaims)
				var assigned v1alpha1.ClaimConditionCount
				for _, c := range p.Status.ClaimConditions {
					if c.Type == v1alpha1.ConditionGatewayAssigned {
						assigned = c
					}
				}
				assert.Equal(t, v1alpha1.ClaimConditionCount{Type: v1alpha1.ConditionGatewayAssigned, True: 1, False: 1}, assigned, "as this plan writes them")
				require.Len(t, p.Status.Gateways, 1)
				assert.Equal(t, int32(1), p.Status.Gateways[0].Seats, "the deleting claim is not on public-1's snapshot (no Gateway yet)")
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.given()
			tc.check(t, s, Plan(s))
		})
	}
}

func TestPlanDeletionHandshake(t *testing.T) {
	cases := []struct {
		name  string
		opts  []claimOpt
		keeps bool
	}{
		{name: "a deleting claim whose ALIAS still exists keeps its listener and certificate",
			opts: []claimOpt{withLoadBalancer, dnsRecord(metav1.ConditionTrue, "Created")}, keeps: true},
		{name: "a deleting claim whose ALIAS deletion is pending keeps them",
			opts: []claimOpt{withLoadBalancer, dnsRecord(metav1.ConditionFalse, v1alpha1.ReasonPending)}, keeps: true},
		{name: "a deleting claim whose ALIAS records are gone lets them go",
			opts: []claimOpt{withLoadBalancer, dnsRecord(metav1.ConditionFalse, v1alpha1.ReasonRecordsRemoved)}},
		{name: "a deleting claim whose records went when it lost its hostname lets them go",
			opts: []claimOpt{withLoadBalancer, dnsRecord(metav1.ConditionFalse, v1alpha1.ReasonUnprovisioned)}},
		{name: "a deleting seated claim without a DNS condition or a load balancer keeps them until dns says the records are gone (one may be queued from before a crash)",
			keeps: true},
		{name: "a deleting seated claim whose first change is pending without a load balancer keeps them too",
			opts: []claimOpt{dnsRecord(metav1.ConditionFalse, v1alpha1.ReasonPending)}, keeps: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := settle(t, snapshot(testPool(1, 10), nil, testClaim(1), testClaim(2)))
			require.Len(t, listenerNames(gatewayState(s, "public-1").Gateway), 2)
			c := s.Claims[1].Claim.DeepCopy()
			deleting(c)
			for _, o := range tc.opts {
				o(c)
			}
			s.Claims[1].Claim = c
			p := Plan(s)
			assert.Nil(t, claimChange(p, c.Name), "the pool writes nothing on a claim being deleted")
			g := gatewayChange(p, "public-1")
			if tc.keeps {
				assert.Nil(t, g, "listener and certificate stay")
				return
			}
			require.NotNil(t, g)
			assert.Equal(t, []string{"h0001.example.com"}, listenerNames(g.Gateway))
			assert.NotContains(t, CertificatesOf(g.Config).Certificates, c.Status.CertificateARN)
			assert.NotEqual(t, c.Status.CertificateARN, CertificatesOf(g.Config).DefaultCertificate)
		})
	}
}

func TestPlanKeepsASurplusGatewayWhileADeletingClaimHoldsIt(t *testing.T) {
	s := settle(t, snapshot(testPool(1, 10), []string{"public-1", "public-2"}, testClaim(1, seatedOn("public-2"))))
	c := s.Claims[0].Claim.DeepCopy()
	deleting(c)
	withLoadBalancer(c)
	dnsRecord(metav1.ConditionTrue, "Created")(c)
	s.Claims[0].Claim = c
	assert.Empty(t, Plan(s).Delete, "public-2 still serves the deleting claim until its ALIAS is gone")
	dnsRecord(metav1.ConditionFalse, v1alpha1.ReasonRecordsRemoved)(c)
	assert.Equal(t, []string{"public-2"}, Plan(s).Delete)
}

// benchSnapshot is a converged pool of n claims plus one new claim: what a claim event finds.
func benchSnapshot(b *testing.B, n int) *Snapshot {
	pool := testPool(1, 100)
	pool.Spec.MaxRulesPerGateway = 1000
	var claims []*v1alpha1.DomainClaim
	for i := 1; i <= n; i++ {
		claims = append(claims, testClaim(i))
	}
	s := snapshot(pool, nil, claims...)
	for i := 0; i < 5; i++ {
		p := Plan(s)
		if len(p.Gateways) == 0 && len(p.Claims) == 0 && p.Status == nil {
			break
		}
		s = converge(s, p)
	}
	c := testClaim(n + 1)
	s.Claims = append(s.Claims, ClaimState{Claim: c, Need: oneRoute(c.Name, 1)})
	return s
}

// BenchmarkPlan measures one plan of a pool at 100 and 1,000 claims, per claim: wall time, and
// process CPU time (this machine's cores are shared, so wall time alone is noisy).
func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{100, 1000} {
		s := benchSnapshot(b, n)
		b.Run(fmt.Sprintf("claims=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			before := cpuTime(b)
			for b.Loop() {
				Plan(s)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/claim")
			b.ReportMetric(float64((cpuTime(b)-before).Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/claim")
		})
		// What a reconcile pays when the last plan of the pool is remembered: the new claim and its
		// Gateway were planned by the first one.
		b.Run(fmt.Sprintf("claims=%d/memo", n), func(b *testing.B) {
			b.ReportAllocs()
			memo := newPlanMemo()
			planWith(s, memo)
			before := cpuTime(b)
			for b.Loop() {
				planWith(s, memo)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/claim")
			b.ReportMetric(float64((cpuTime(b)-before).Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/claim")
		})
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
