package gatewaypool

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/crdschema"
)

func TestPacerSpacesAPoolsReconcilesByItsSize(t *testing.T) {
	end := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		claims int           // in the last reconcile of pool "public"; -1 for none
		at     time.Duration // when the event arrives, after that reconcile ended
		pool   string
		want   time.Duration
	}{
		{name: "a pool never reconciled waits the coalescing window", claims: -1, pool: "public", want: coalesceWindow},
		{name: "a small pool waits the coalescing window", claims: 10, pool: "public", want: coalesceWindow},
		{name: "a pool of 100 claims rests 0.3 s", claims: 100, pool: "public", want: 300 * time.Millisecond},
		{name: "a pool of 1,000 claims rests 3 s", claims: 1000, pool: "public", want: 3 * time.Second},
		{name: "an event later in the rest waits only for what is left of it", claims: 1000, at: 2 * time.Second, pool: "public", want: time.Second},
		{name: "once the rest is over the coalescing window is back", claims: 1000, at: 5 * time.Second, pool: "public", want: coalesceWindow},
		{name: "a huge pool rests no longer than the cap", claims: 100000, pool: "public", want: maxPaceWait},
		{name: "another pool keeps its own pace", claims: 1000, pool: "private", want: coalesceWindow},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p pacer
			if tc.claims >= 0 {
				p.done("public", tc.claims, end)
			}
			assert.Equal(t, tc.want, p.wait(tc.pool, end.Add(tc.at)))
		})
	}
	t.Run("a deleted pool's pace is forgotten", func(t *testing.T) {
		var p pacer
		p.done("public", 1000, end)
		p.forget("public")
		assert.Equal(t, coalesceWindow, p.wait("public", end))
	})
}

func TestPlanWritesTheMostUrgentClaimStatusFirst(t *testing.T) {
	// Claims 1 and 2 are settled on public-1; then claim 1's stray-route report changes (a refresh),
	// claim 2's Gateway gets its load balancer (progress), and claim 3 arrives (a new seat).
	pool := testPool(1, 10)
	s := settle(t, snapshot(pool, []string{"public-1"}, testClaim(1), testClaim(2)))
	for i := range s.Claims {
		s.Claims[i].Claim = s.Claims[i].Claim.DeepCopy()
	}
	s.Claims[0].Strays = []string{"HTTPRoute team-b/copycat"}
	s.Claims[1].Claim.Status.LoadBalancerHostname = ""
	meta.RemoveStatusCondition(&s.Claims[1].Claim.Status.Conditions, v1alpha1.ConditionLoadBalancerReady)
	s.Claims = append(s.Claims, ClaimState{Claim: testClaim(3), Need: oneRoute("h0003", 1)})

	p := Plan(s)
	var order []string
	for _, ch := range p.Claims {
		order = append(order, ch.Claim.Name)
	}
	assert.Equal(t, []string{"h0003.example.com", "h0002.example.com", "h0001.example.com"}, order,
		"the new seat, then the load balancer, then the report")
	assert.Equal(t, []int{urgentSeat, urgentProgress, urgentRefresh}, []int{urgency(p.Claims[0]), urgency(p.Claims[1]), urgency(p.Claims[2])})
}

func TestApplyWritesAtMostMaxClaimWritesAndSaysMoreAreLeft(t *testing.T) {
	s := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(s))
	tc, err := crdschema.TypeConverter()
	require.NoError(t, err)
	pool := testPool(1, 10)
	var claims []*v1alpha1.DomainClaim
	var objs []client.Object
	for n := 1; n <= maxClaimWrites+20; n++ {
		c := testClaim(n)
		claims = append(claims, c)
		objs = append(objs, c.DeepCopy())
	}
	var applies atomic.Int32
	k := fake.NewClientBuilder().WithScheme(s).WithTypeConverters(tc).WithObjects(objs...).WithStatusSubresource(&v1alpha1.DomainClaim{}).
		WithInterceptorFuncs(interceptor.Funcs{SubResourceApply: func(ctx context.Context, cl client.Client, sub string, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
			applies.Add(1)
			return cl.SubResource(sub).Apply(ctx, obj, opts...)
		}}).Build()
	r := &Reconciler{Client: k}

	// A plan of claim writes only (no Gateway, no pool status), as after a restart.
	plan := &PoolPlan{}
	for _, c := range claims {
		st := c.Status.DeepCopy()
		setStrays(st, c, nil)
		plan.Claims = append(plan.Claims, ClaimChange{Claim: c, Status: *st})
	}
	out, err := r.apply(context.Background(), &Snapshot{Pool: pool}, plan)
	require.NoError(t, err)
	assert.True(t, out.more, "claim writes are left for the next reconcile")
	assert.False(t, out.retry)
	assert.Equal(t, int32(maxClaimWrites), applies.Load())

	written := 0
	for _, c := range claims {
		got := &v1alpha1.DomainClaim{}
		require.NoError(t, k.Get(context.Background(), client.ObjectKeyFromObject(c), got))
		if meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionStrayRoutes) != nil {
			written++
			assert.LessOrEqual(t, c.Name, fmt.Sprintf("h%04d.example.com", maxClaimWrites), "the plan's first claims are written")
		}
	}
	assert.Equal(t, maxClaimWrites, written)
}

func TestOnlyLBCsVerdictOnAGatewayWakesThePoolAheadOfItsPace(t *testing.T) {
	programmed := func(gw *gwv1.Gateway) {
		gw.Status.Addresses = []gwv1.GatewayStatusAddress{{Type: ptr.To(gwv1.HostnameAddressType), Value: "alb-public-1.example"}}
		meta.SetStatusCondition(&gw.Status.Conditions, metav1.Condition{Type: string(gwv1.GatewayConditionProgrammed), Status: metav1.ConditionTrue, Reason: "Programmed"})
		meta.SetStatusCondition(&gw.Status.Conditions, metav1.Condition{Type: string(gwv1.GatewayConditionAccepted), Status: metav1.ConditionTrue, Reason: "Accepted"})
	}
	base := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "gateway-system", Name: "public-1", Generation: 1}}
	cases := []struct {
		name   string
		before func(*gwv1.Gateway)
		change func(*gwv1.Gateway)
		urgent bool
	}{
		{name: "the first address of a new Gateway's load balancer is urgent", change: programmed, urgent: true},
		{name: "the pool's own listeners coming back are not", before: programmed, change: func(gw *gwv1.Gateway) {
			gw.Generation++
			gw.Spec.Listeners = Listeners([]Seated{{Claim: "h0001.example.com", Hostname: "h0001.example.com", Namespace: "team-a"}}, false)
		}},
		{name: "LBC confirming a new generation is not", before: programmed, change: func(gw *gwv1.Gateway) {
			gw.Generation++
			for i := range gw.Status.Conditions {
				gw.Status.Conditions[i].ObservedGeneration = gw.Generation
			}
		}},
		{name: "LBC refusing the Gateway is urgent", before: programmed, change: func(gw *gwv1.Gateway) {
			meta.SetStatusCondition(&gw.Status.Conditions, metav1.Condition{Type: string(gwv1.GatewayConditionAccepted), Status: metav1.ConditionFalse, Reason: "Invalid"})
		}, urgent: true},
		{name: "a Gateway being deleted is urgent", before: programmed, change: func(gw *gwv1.Gateway) {
			gw.DeletionTimestamp = ptr.To(metav1.NewTime(epoch))
		}, urgent: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := base.DeepCopy()
			if tc.before != nil {
				tc.before(old)
			}
			cur := old.DeepCopy()
			tc.change(cur)
			assert.Equal(t, tc.urgent, lbcVerdictChanged(old, cur))
		})
	}
}
