package routes

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

const ns = "team-a"

var (
	g1 = v1alpha1.ObjectRef{Namespace: "gateway-system", Name: "public-1"}
	g2 = v1alpha1.ObjectRef{Namespace: "gateway-system", Name: "public-2"}
)

// claim builds a claim of namespace owner for h; seat, when set, seats it there.
func claim(h, owner string, seat *v1alpha1.ObjectRef, mutate ...func(*v1alpha1.DomainClaim)) *v1alpha1.DomainClaim {
	c := &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: h}, Spec: v1alpha1.DomainClaimSpec{Hostname: h, Namespace: owner}}
	c.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionClaimed, Status: metav1.ConditionTrue}}
	if seat != nil {
		c.Status.Gateway = seat
		c.Status.Conditions = append(c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionGatewayAssigned, Status: metav1.ConditionTrue})
	}
	for _, m := range mutate {
		m(c)
	}
	return c
}

func host(h string, c *v1alpha1.DomainClaim) Hostname { return Hostname{Name: h, Claim: c} }

var marked = map[string]string{v1alpha1.AnnotationAutoAttach: "true"}

func TestPlanRoute(t *testing.T) {
	now := metav1.Now()
	tests := []struct {
		name  string
		route Route
		want  Plan
	}{
		{name: "a route without parentRefs whose seated hostname its namespace owns is marked and attached in one write",
			route: Route{Namespace: ns, Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1))}},
			want:  Plan{Mark: true, Add: []v1alpha1.ObjectRef{g1}}},
		{name: "a route whose hostname has no seat yet is left unmarked until one has",
			route: Route{Namespace: ns, Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, nil))}}},
		{name: "an assigned Gateway without GatewayAssigned=True is no seat",
			route: Route{Namespace: ns, Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, nil, func(c *v1alpha1.DomainClaim) { c.Status.Gateway = &g1 }))}}},
		{name: "a route with one hostname of another namespace is not marked and is told",
			route: Route{Namespace: ns, Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1)), host("b.example.com", claim("b.example.com", "team-b", &g2))}},
			want:  Plan{NotOwned: []string{"b.example.com belongs to namespace team-b (DomainClaim b.example.com): this route does not serve it; remove it from spec.hostnames"}}},
		{name: "a route with a hostname without any claim is not marked",
			route: Route{Namespace: ns, Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1)), host("c.example.com", nil)}}},
		{name: "a hostless route is never marked",
			route: Route{Namespace: ns}},
		{name: "a route with parentRefs of its own is left alone",
			route: Route{Namespace: ns, ParentRefs: []gwv1.ParentReference{{Name: "mine"}}, Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1))}}},
		{name: "a route that opted out is left alone",
			route: Route{Namespace: ns, Annotations: map[string]string{v1alpha1.AnnotationAutoAttach: "false"}, Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1))}}},
		{name: "desired equals current gives no change",
			route: Route{Namespace: ns, Annotations: marked, ParentRefs: []gwv1.ParentReference{v1alpha1.ParentRef(g1)}, Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1))}}},
		{name: "an opted-in route gets the Gateway of a newly seated hostname and is told about the spread",
			route: Route{Namespace: ns, Annotations: marked, Pool: "public", ParentRefs: []gwv1.ParentReference{v1alpha1.ParentRef(g1)},
				Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1)), host("b.example.com", claim("b.example.com", ns, &g2))}},
			want: Plan{Add: []v1alpha1.ObjectRef{g2}, Spread: "this route's hostnames are spread over 2 Gateways of pool public, one parentRef each: " +
				"Gateway gateway-system/public-1 serves a.example.com; Gateway gateway-system/public-2 serves b.example.com"}},
		{name: "an opted-in route loses the legacy section on its seat's Gateway only",
			route: Route{Namespace: ns, Annotations: marked, ParentRefs: []gwv1.ParentReference{
				{Name: "other", SectionName: ptr.To(gwv1.SectionName(LegacySection))},
				{Namespace: ptr.To(gwv1.Namespace(g1.Namespace)), Name: gwv1.ObjectName(g1.Name), SectionName: ptr.To(gwv1.SectionName(LegacySection))}},
				Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1))}},
			want: Plan{DropSection: []int{1}}},
		{name: "a hostname whose claim is being deleted is told and not attached",
			route: Route{Namespace: ns, Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1, func(c *v1alpha1.DomainClaim) { c.DeletionTimestamp = &now }))}},
			want:  Plan{NotOwned: []string{"DomainClaim a.example.com is being deleted: no Gateway serves a.example.com any more"}}},
		{name: "a claim that lost an overlap owns nothing",
			route: Route{Namespace: ns, Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1, func(c *v1alpha1.DomainClaim) {
				c.Status.Conditions[0].Status = metav1.ConditionFalse
			}))}}},
		{name: "a name under its namespace's seated wildcard is attached to the wildcard's Gateway",
			route: Route{Namespace: ns, Hostnames: []Hostname{host("x.w.example.com", claim("*.w.example.com", ns, &g2))}},
			want:  Plan{Mark: true, Add: []v1alpha1.ObjectRef{g2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, PlanRoute(tc.route))
		})
	}
}

func TestApplyWritesTheMarkAndTheParentRefsTogether(t *testing.T) {
	var annotations map[string]string
	refs := []gwv1.ParentReference{{Name: "x", SectionName: ptr.To(gwv1.SectionName(LegacySection))}}
	Plan{Mark: true, Add: []v1alpha1.ObjectRef{g1}, DropSection: []int{0}}.Apply(&annotations, &refs)
	assert.Equal(t, "true", annotations[v1alpha1.AnnotationAutoAttach])
	assert.Equal(t, []gwv1.ParentReference{{Name: "x"}, v1alpha1.ParentRef(g1)}, refs)
}
