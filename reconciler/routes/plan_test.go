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
	g3 = v1alpha1.ObjectRef{Namespace: "gateway-system", Name: "public-3"}
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

// attached is the annotations of an opted-in route whose record names gws.
func attached(gws string) map[string]string {
	return map[string]string{v1alpha1.AnnotationAutoAttach: "true", v1alpha1.AnnotationAttachedTo: gws}
}

func refs(gws ...v1alpha1.ObjectRef) []gwv1.ParentReference {
	out := []gwv1.ParentReference{}
	for _, gw := range gws {
		out = append(out, v1alpha1.ParentRef(gw))
	}
	return out
}

func TestPlanRoute(t *testing.T) {
	now := metav1.Now()
	tests := []struct {
		name  string
		route Route
		want  Plan
	}{
		{name: "a route without parentRefs whose seated hostname its namespace owns is marked and attached in one write",
			route: Route{Namespace: ns, Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1))}},
			want:  Plan{Mark: true, Add: []v1alpha1.ObjectRef{g1}, Record: ptr.To("gateway-system/public-1")}},
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
			route: Route{Namespace: ns, Annotations: attached("gateway-system/public-1"), ParentRefs: refs(g1), Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1))}}},
		{name: "an opted-in route gets the Gateway of a newly seated hostname and is told about the spread",
			route: Route{Namespace: ns, Annotations: attached("gateway-system/public-1"), Pool: "public", ParentRefs: refs(g1),
				Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1)), host("b.example.com", claim("b.example.com", ns, &g2))}},
			want: Plan{Add: []v1alpha1.ObjectRef{g2}, Record: ptr.To("gateway-system/public-1,gateway-system/public-2"), Spread: "this route's hostnames are spread over 2 Gateways of pool public, one parentRef each: " +
				"Gateway gateway-system/public-1 serves a.example.com; Gateway gateway-system/public-2 serves b.example.com"}},
		{name: "an opted-in route loses the legacy section on its seat's Gateway only",
			route: Route{Namespace: ns, Annotations: marked, ParentRefs: []gwv1.ParentReference{
				{Name: "other", SectionName: ptr.To(gwv1.SectionName(LegacySection))},
				{Namespace: ptr.To(gwv1.Namespace(g1.Namespace)), Name: gwv1.ObjectName(g1.Name), SectionName: ptr.To(gwv1.SectionName(LegacySection))}},
				Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1))}},
			want: Plan{DropSection: []int{1}, Record: ptr.To("gateway-system/public-1")}},
		{name: "a hostname whose claim is being deleted is told and not attached",
			route: Route{Namespace: ns, Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1, func(c *v1alpha1.DomainClaim) { c.DeletionTimestamp = &now }))}},
			want:  Plan{NotOwned: []string{"DomainClaim a.example.com is being deleted: no Gateway serves a.example.com any more"}}},
		{name: "a claim that lost an overlap owns nothing",
			route: Route{Namespace: ns, Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1, func(c *v1alpha1.DomainClaim) {
				c.Status.Conditions[0].Status = metav1.ConditionFalse
			}))}}},
		{name: "a name under its namespace's seated wildcard is attached to the wildcard's Gateway",
			route: Route{Namespace: ns, Hostnames: []Hostname{host("x.w.example.com", claim("*.w.example.com", ns, &g2))}},
			want:  Plan{Mark: true, Add: []v1alpha1.ObjectRef{g2}, Record: ptr.To("gateway-system/public-2")}},

		{name: "a route whose Gateway went and whose hostname is seated on another is first detached from the old one, alone",
			route: Route{Namespace: ns, Annotations: attached("gateway-system/public-1"), ParentRefs: refs(g1), Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g2))}},
			want:  Plan{Detach: []int{0}, Record: ptr.To("")}},
		{name: "once detached, the route is attached to the hostname's new Gateway",
			route: Route{Namespace: ns, Annotations: attached(""), ParentRefs: refs(), Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g2))}},
			want:  Plan{Add: []v1alpha1.ObjectRef{g2}, Record: ptr.To("gateway-system/public-2")}},
		{name: "a hostname waiting for a new seat leaves its old Gateway",
			route: Route{Namespace: ns, Annotations: attached("gateway-system/public-1"), ParentRefs: refs(g1), Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, nil))}},
			want:  Plan{Detach: []int{0}, Record: ptr.To("")}},
		{name: "a route whose hostname was transferred to another namespace loses the parentRef the orchestrator added, and is told",
			route: Route{Namespace: ns, Annotations: attached("gateway-system/public-1"), ParentRefs: refs(g1), Hostnames: []Hostname{host("a.example.com", claim("a.example.com", "team-b", &g1))}},
			want: Plan{Detach: []int{0}, Record: ptr.To(""),
				NotOwned: []string{"a.example.com belongs to namespace team-b (DomainClaim a.example.com): this route does not serve it; remove it from spec.hostnames"}}},
		{name: "a route whose claim is being released loses the parentRef the orchestrator added",
			route: Route{Namespace: ns, Annotations: attached("gateway-system/public-1"), ParentRefs: refs(g1),
				Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1, func(c *v1alpha1.DomainClaim) { c.DeletionTimestamp = &now }))}},
			want: Plan{Detach: []int{0}, Record: ptr.To(""), NotOwned: []string{"DomainClaim a.example.com is being deleted: no Gateway serves a.example.com any more"}}},
		{name: "only the stale parentRef goes: the one to the Gateway still seating a hostname stays",
			route: Route{Namespace: ns, Annotations: attached("gateway-system/public-1,gateway-system/public-2"), Pool: "public", ParentRefs: refs(g1, g2),
				Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1)), host("b.example.com", claim("b.example.com", ns, &g3))}},
			want: Plan{Detach: []int{1}, Record: ptr.To("gateway-system/public-1"), Spread: "this route's hostnames are spread over 2 Gateways of pool public, one parentRef each: " +
				"Gateway gateway-system/public-1 serves a.example.com; Gateway gateway-system/public-3 serves b.example.com"}},
		{name: "parentRefs the user wrote stay, to a pool Gateway that seats nothing of the route or to a Gateway of their own",
			route: Route{Namespace: ns, Annotations: attached("gateway-system/public-2"), ParentRefs: append(refs(g1, g2), gwv1.ParentReference{Name: "mine"}),
				Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g3))}},
			want: Plan{Detach: []int{1}, Record: ptr.To("")}},
		{name: "a parentRef the user removed is forgotten by the record while its Gateway seats nothing",
			route: Route{Namespace: ns, Annotations: attached("gateway-system/public-1,gateway-system/public-2"), ParentRefs: refs(g1),
				Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1))}},
			want: Plan{Record: ptr.To("gateway-system/public-1")}},
		{name: "a route marked before the record existed adopts its parentRef to the Gateway seating its hostname",
			route: Route{Namespace: ns, Annotations: marked, ParentRefs: refs(g1), Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1))}},
			want:  Plan{Record: ptr.To("gateway-system/public-1")}},
		{name: "a route marked before the record existed keeps a parentRef to a Gateway that seats nothing (it cannot tell whose it is)",
			route: Route{Namespace: ns, Annotations: marked, ParentRefs: refs(g2), Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1))}},
			want:  Plan{Add: []v1alpha1.ObjectRef{g1}, Record: ptr.To("gateway-system/public-1")}},
		{name: "a route with an empty record adopts nothing: a parentRef to its seat's Gateway that the user wrote stays the user's",
			route: Route{Namespace: ns, Annotations: attached(""), ParentRefs: refs(g1), Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g1))}}},
		{name: "a route that opted out keeps its parentRefs even when recorded ones are stale",
			route: Route{Namespace: ns, Annotations: map[string]string{v1alpha1.AnnotationAutoAttach: "false", v1alpha1.AnnotationAttachedTo: "gateway-system/public-1"},
				ParentRefs: refs(g1), Hostnames: []Hostname{host("a.example.com", claim("a.example.com", ns, &g2))}}},
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

func TestApplyDetachesByIndexAndWritesTheRecord(t *testing.T) {
	annotations := attached("gateway-system/public-1,gateway-system/public-2")
	rs := append(refs(g1), gwv1.ParentReference{Name: "mine"}, v1alpha1.ParentRef(g2))
	Plan{Detach: []int{0, 2}, Record: ptr.To("")}.Apply(&annotations, &rs)
	assert.Equal(t, []gwv1.ParentReference{{Name: "mine"}}, rs)
	assert.Equal(t, attached(""), annotations, "an empty record stays, so that nothing is adopted later")

	var none map[string]string
	rs = nil
	Plan{Add: []v1alpha1.ObjectRef{g2}, Record: ptr.To("gateway-system/public-2")}.Apply(&none, &rs)
	assert.Equal(t, map[string]string{v1alpha1.AnnotationAttachedTo: "gateway-system/public-2"}, none)
	assert.Equal(t, refs(g2), rs)
}

func TestTheRecordReadsOnlyNamespaceAndNamePairs(t *testing.T) {
	assert.Equal(t, map[v1alpha1.ObjectRef]bool{g1: true, g2: true}, parseRecord("gateway-system/public-1, gateway-system/public-2,,nonsense,/x"))
	assert.Empty(t, parseRecord(""))
}
