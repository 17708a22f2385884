package claim

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func routeClaim(mutate ...func(*v1alpha1.DomainClaim)) *v1alpha1.DomainClaim {
	c := &v1alpha1.DomainClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "shop.example.com", CreationTimestamp: metav1.NewTime(t0)},
		Spec:       v1alpha1.DomainClaimSpec{Hostname: "shop.example.com", Namespace: "a", ClaimedBy: v1alpha1.ClaimedByRoute},
	}
	for _, m := range mutate {
		m(c)
	}
	return c
}

func zone(retention, unused time.Duration) *v1alpha1.ManagedZone {
	return &v1alpha1.ManagedZone{Spec: v1alpha1.ManagedZoneSpec{
		ClaimRetention:       &metav1.Duration{Duration: retention},
		UnusedClaimRetention: &metav1.Duration{Duration: unused},
	}}
}

func wasUsed(at time.Time) func(*v1alpha1.DomainClaim) {
	return func(c *v1alpha1.DomainClaim) {
		mt := metav1.NewTime(at)
		c.Status.LastReferencedTime = &mt
		c.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionInUse, Status: metav1.ConditionTrue}}
	}
}

func releaseAt(at time.Time) func(*v1alpha1.DomainClaim) {
	return func(c *v1alpha1.DomainClaim) {
		mt := metav1.NewTime(at)
		c.Status.ReleaseTime = &mt
	}
}

// admitted is admission's mark on a claim it admitted an object for at time at.
func admitted(at time.Time) func(*v1alpha1.DomainClaim) {
	return func(c *v1alpha1.DomainClaim) {
		c.Annotations = map[string]string{v1alpha1.AnnotationLastAdmitted: at.UTC().Format(time.RFC3339)}
	}
}

func TestPlanRelease(t *testing.T) {
	z := zone(24*time.Hour, 5*time.Minute)
	cases := []struct {
		name        string
		claim       *v1alpha1.DomainClaim
		usage       Usage
		wantInUse   bool
		wantAt      time.Time
		wantNow     bool
		wantReason  string
		wantLastRef time.Time
	}{
		{name: "a used claim is kept and remembers when it went into use", claim: routeClaim(),
			usage: Usage{Routes: []string{"a/shop"}, Zone: z, Now: t0.Add(time.Minute)}, wantInUse: true,
			wantReason: v1alpha1.ReasonRouteFound, wantLastRef: t0.Add(time.Minute)},
		{name: "a claim still in use keeps its first reference time", claim: routeClaim(wasUsed(t0)),
			usage: Usage{Routes: []string{"a/shop"}, Zone: z, Now: t0.Add(time.Hour)}, wantInUse: true,
			wantReason: v1alpha1.ReasonRouteFound, wantLastRef: t0},
		{name: "a claim used again after a pause cancels its release", claim: routeClaim(wasUsed(t0), releaseAt(t0.Add(24*time.Hour))),
			usage: Usage{Routes: []string{"a/shop"}, Zone: z, Now: t0.Add(time.Hour)}, wantInUse: true,
			wantReason: v1alpha1.ReasonRouteFound, wantLastRef: t0.Add(time.Hour)},
		{name: "a claim never used is released the unused retention after creation", claim: routeClaim(),
			usage: Usage{Zone: z, Now: t0.Add(time.Minute)}, wantAt: t0.Add(5 * time.Minute), wantReason: v1alpha1.ReasonNoRoutes},
		{name: "a claim never used is released once that time has come", claim: routeClaim(),
			usage: Usage{Zone: z, Now: t0.Add(5 * time.Minute)}, wantAt: t0.Add(5 * time.Minute), wantNow: true, wantReason: v1alpha1.ReasonNoRoutes},
		{name: "a claim whose routes went is kept for the zone's retention from now", claim: routeClaim(wasUsed(t0)),
			usage: Usage{Zone: z, Now: t0.Add(time.Hour)}, wantAt: t0.Add(25 * time.Hour), wantReason: v1alpha1.ReasonNoRoutes, wantLastRef: t0},
		{name: "a scheduled release keeps its time", claim: routeClaim(wasUsed(t0), releaseAt(t0.Add(3*time.Hour))),
			usage: Usage{Zone: z, Now: t0.Add(2 * time.Hour)}, wantAt: t0.Add(3 * time.Hour), wantReason: v1alpha1.ReasonNoRoutes, wantLastRef: t0},
		{name: "a scheduled release happens when due", claim: routeClaim(wasUsed(t0), releaseAt(t0.Add(3*time.Hour))),
			usage: Usage{Zone: z, Now: t0.Add(3 * time.Hour)}, wantAt: t0.Add(3 * time.Hour), wantNow: true, wantReason: v1alpha1.ReasonNoRoutes, wantLastRef: t0},
		{name: "the claim's own retention overrides the zone's", claim: routeClaim(func(c *v1alpha1.DomainClaim) { c.Spec.Retention = &metav1.Duration{Duration: time.Hour} }),
			usage: Usage{Zone: z, Now: t0}, wantAt: t0.Add(time.Hour), wantReason: v1alpha1.ReasonNoRoutes},
		{name: "without a zone the defaults apply", claim: routeClaim(),
			usage: Usage{Now: t0}, wantAt: t0.Add(DefaultUnusedRetention), wantReason: v1alpha1.ReasonNoRoutes},
		{name: "an admin claim is never released", claim: routeClaim(func(c *v1alpha1.DomainClaim) { c.Spec.ClaimedBy = v1alpha1.ClaimedByAdmin }),
			usage: Usage{Zone: z, Now: t0.Add(1000 * time.Hour)}, wantReason: v1alpha1.ReasonAdminClaim},
		{name: "a TLSRoute listing the hostname keeps the claim in use when its other users went", claim: routeClaim(wasUsed(t0)),
			usage: Usage{TLSRoutes: []string{"TLSRoute a/db"}, Zone: z, Now: t0.Add(time.Hour)}, wantInUse: true,
			wantReason: v1alpha1.ReasonRouteFound, wantLastRef: t0},
		{name: "a TLSRoute cancels a scheduled release", claim: routeClaim(wasUsed(t0), releaseAt(t0.Add(3*time.Hour))),
			usage: Usage{TLSRoutes: []string{"TLSRoute a/db"}, Zone: z, Now: t0.Add(3 * time.Hour)}, wantInUse: true,
			wantReason: v1alpha1.ReasonRouteFound, wantLastRef: t0.Add(3 * time.Hour)},
		{name: "a claim whose TLSRoute went is kept for the zone's retention from now", claim: routeClaim(wasUsed(t0)),
			usage: Usage{Zone: z, Now: t0.Add(2 * time.Hour)}, wantAt: t0.Add(26 * time.Hour), wantReason: v1alpha1.ReasonNoRoutes, wantLastRef: t0},
		{name: "a release due now waits the retention from admission's mark, made for an object not yet seen",
			claim:  routeClaim(wasUsed(t0), releaseAt(t0.Add(3*time.Hour)), admitted(t0.Add(3*time.Hour))),
			usage:  Usage{Zone: zone(30*time.Second, time.Second), Now: t0.Add(3 * time.Hour)},
			wantAt: t0.Add(3*time.Hour + 30*time.Second), wantReason: v1alpha1.ReasonNoRoutes, wantLastRef: t0},
		{name: "a claim whose routes went waits the retention from a mark made later than now's reconcile",
			claim: routeClaim(wasUsed(t0), admitted(t0.Add(2*time.Hour))),
			usage: Usage{Zone: z, Now: t0.Add(time.Hour)}, wantAt: t0.Add(26 * time.Hour), wantReason: v1alpha1.ReasonNoRoutes, wantLastRef: t0},
		{name: "a mark older than the scheduled release's own start changes nothing",
			claim: routeClaim(wasUsed(t0), releaseAt(t0.Add(3*time.Hour)), admitted(t0.Add(time.Minute))),
			usage: Usage{Zone: zone(time.Hour, time.Minute), Now: t0.Add(2 * time.Hour)}, wantAt: t0.Add(3 * time.Hour), wantReason: v1alpha1.ReasonNoRoutes, wantLastRef: t0},
		{name: "a claim never used waits the unused retention from the mark",
			claim: routeClaim(admitted(t0.Add(4 * time.Minute))),
			usage: Usage{Zone: z, Now: t0.Add(5 * time.Minute)}, wantAt: t0.Add(9 * time.Minute), wantReason: v1alpha1.ReasonNoRoutes},
		{name: "a mark holds the claim at least as long as admission takes to store its object, whatever the retention",
			claim:  routeClaim(wasUsed(t0), releaseAt(t0.Add(time.Hour)), admitted(t0.Add(time.Hour))),
			usage:  Usage{Zone: zone(time.Second, time.Second), Now: t0.Add(time.Hour + time.Second)},
			wantAt: t0.Add(time.Hour + routeGrace), wantReason: v1alpha1.ReasonNoRoutes, wantLastRef: t0},
		{name: "a mark that is not a time is ignored", claim: routeClaim(wasUsed(t0), releaseAt(t0.Add(3*time.Hour)),
			func(c *v1alpha1.DomainClaim) {
				c.Annotations = map[string]string{v1alpha1.AnnotationLastAdmitted: "soon"}
			}),
			usage: Usage{Zone: z, Now: t0.Add(3 * time.Hour)}, wantAt: t0.Add(3 * time.Hour), wantNow: true, wantReason: v1alpha1.ReasonNoRoutes, wantLastRef: t0},
		{name: "an admin claim with a mark is still never released", claim: routeClaim(admitted(t0),
			func(c *v1alpha1.DomainClaim) { c.Spec.ClaimedBy = v1alpha1.ClaimedByAdmin }),
			usage: Usage{Zone: z, Now: t0.Add(1000 * time.Hour)}, wantReason: v1alpha1.ReasonAdminClaim},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := PlanRelease(tc.claim, tc.usage)
			if tc.wantInUse {
				for _, u := range append(slices.Clip(tc.usage.Routes), tc.usage.TLSRoutes...) {
					assert.Contains(t, got.Message, u, "InUse names its users")
				}
			}
			assert.Equal(t, tc.wantInUse, got.InUse)
			assert.Equal(t, tc.wantReason, got.Reason)
			assert.Equal(t, tc.wantNow, got.ReleaseNow)
			if tc.wantAt.IsZero() {
				assert.Nil(t, got.ReleaseAt)
			} else if assert.NotNil(t, got.ReleaseAt) {
				assert.Equal(t, tc.wantAt, got.ReleaseAt.UTC())
			}
			if tc.wantLastRef.IsZero() {
				assert.Nil(t, got.LastReferenced)
			} else if assert.NotNil(t, got.LastReferenced) {
				assert.Equal(t, tc.wantLastRef, got.LastReferenced.UTC())
			}
		})
	}
}

func TestARouteMadeClaimWaitsBrieflyForItsRouteBeforeItsFirstStatus(t *testing.T) {
	created := time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)
	claim := func(by v1alpha1.ClaimSource, conds ...metav1.Condition) *v1alpha1.DomainClaim {
		return &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(created)},
			Spec: v1alpha1.DomainClaimSpec{ClaimedBy: by}, Status: v1alpha1.DomainClaimStatus{Conditions: conds}}
	}
	inUse := metav1.Condition{Type: v1alpha1.ConditionInUse, Status: metav1.ConditionFalse}
	for _, tc := range []struct {
		name   string
		c      *v1alpha1.DomainClaim
		routes []string
		age    time.Duration
		want   time.Duration
	}{
		{name: "a new route-made claim without its route yet waits", c: claim(v1alpha1.ClaimedByRoute), age: time.Second, want: 4 * time.Second},
		{name: "its route is there: no wait", c: claim(v1alpha1.ClaimedByRoute), routes: []string{"HTTPRoute team/shop"}, age: time.Second},
		{name: "past the grace the route is not coming", c: claim(v1alpha1.ClaimedByRoute), age: 6 * time.Second, want: -time.Second},
		{name: "an admin's claim never waits", c: claim(v1alpha1.ClaimedByAdmin), age: time.Second},
		{name: "a claim with its status written never waits", c: claim(v1alpha1.ClaimedByRoute, inUse), age: time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := routeWait(tc.c, tc.routes, created.Add(tc.age))
			if tc.want <= 0 {
				assert.LessOrEqual(t, got, time.Duration(0))
				return
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
