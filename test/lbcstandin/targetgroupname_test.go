package lbcstandin

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// A backendRef of kind TargetGroupName forwards to the target group of that name, whichever route
// and namespace made it, as LBC v3 does; a name no target group has fails the deploy.
func TestARuleForwardsToATargetGroupByNameWhoeverMadeIt(t *testing.T) {
	web := ServicePort{Service: types.NamespacedName{Namespace: "team-a", Name: "web"}, Port: 80}
	shop := Route{Kind: "HTTPRoute", Namespace: "team-a", Name: "shop", Hostnames: []string{"shop.example.com"},
		Rules: []RouteRule{{Backend: web.Service, BackendPort: 80, Services: []ServicePort{web}}}}
	generated := func(rt Route, sp ServicePort) string { return TargetGroupName("gw", "public-1", rt, sp) }
	tg := generated(shop, web)
	assert.LessOrEqual(t, len(tg), 32, "ELBv2 target group names are at most 32 characters")

	ref := gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
		Group: ptr.To(gwv1.Group("anything.example")), Kind: ptr.To(gwv1.Kind(TargetGroupNameKind)), Name: gwv1.ObjectName(tg)}}
	backend, _, name := firstBackend("team-c", ref)
	assert.Equal(t, tg, name, "LBC reads the kind only, whatever the group")
	assert.Empty(t, backend)
	steal := Route{Kind: "HTTPRoute", Namespace: "team-c", Name: "steal", Hostnames: []string{"c.example.com"},
		Rules: []RouteRule{{TargetGroup: name}}}

	attached := []Route{shop, steal}
	hosts := []map[int32][]string{{443: {"shop.example.com"}}, {443: {"c.example.com"}}}
	rules := BuildRules(attached, hosts)
	assert.Empty(t, ResolveTargetGroups(rules, attached, generated))
	got, ok := Resolve(rules, 443, "c.example.com", "/admin")
	assert.True(t, ok)
	assert.Equal(t, web.Service, got, "team-c's hostname reaches team-a's Service through its target group")

	steal.Rules[0].TargetGroup = "k8s-nothere-nothere-0000000000"
	attached[1] = steal
	assert.Equal(t, "k8s-nothere-nothere-0000000000", ResolveTargetGroups(BuildRules(attached, hosts), attached, generated))
}

// A backendRef of kind Gateway makes a target group of target type alb, not a Service's.
func TestAGatewayBackendIsCountedApart(t *testing.T) {
	r := &gwv1.HTTPRoute{Spec: gwv1.HTTPRouteSpec{Rules: []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{
		{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Kind: ptr.To(gwv1.Kind(GatewayBackendKind)), Name: "own"}}},
		{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "web", Port: ptr.To(gwv1.PortNumber(80))}}},
	}}}}}
	rule := fromHTTPRoute(r).Rules[0]
	assert.Equal(t, 1, rule.Gateways)
	assert.Len(t, rule.Services, 1)
}

// A target group name some target group already has returns that one (ELBv2's create is
// idempotent): the Service of the route made first keeps it, and the other route's rules
// forward to it.
func TestANamedTargetGroupOfAnotherRouteIsAdopted(t *testing.T) {
	web := ServicePort{Service: types.NamespacedName{Namespace: "team-a", Name: "web"}, Port: 80}
	mine := ServicePort{Service: types.NamespacedName{Namespace: "team-c", Name: "mine"}, Port: 80}
	shop := Route{Kind: "HTTPRoute", Namespace: "team-a", Name: "shop", Created: time.Unix(1, 0),
		Rules: []RouteRule{{Backend: web.Service, BackendPort: 80, Services: []ServicePort{web}}}}
	steal := Route{Kind: "HTTPRoute", Namespace: "team-c", Name: "steal", Created: time.Unix(2, 0),
		Rules: []RouteRule{{Backend: mine.Service, BackendPort: 80, Services: []ServicePort{mine}}}}
	shopTG := TargetGroupName("gw", "public-1", shop, web)
	named := func(rt Route, sp ServicePort) string {
		if sp == mine {
			return shopTG // team-c's configuration names team-a's target group
		}
		return TargetGroupName("gw", "public-1", rt, sp)
	}
	attached := []Route{steal, shop}
	rules := BuildRules(attached, []map[int32][]string{{443: {"c.example.com"}}, {443: {"shop.example.com"}}})
	assert.Empty(t, ResolveTargetGroups(rules, attached, named))
	got, _ := Resolve(rules, 443, "c.example.com", "/")
	assert.Equal(t, web.Service, got, "team-c's hostname reaches team-a's Service")
	got, _ = Resolve(rules, 443, "shop.example.com", "/")
	assert.Equal(t, web.Service, got)
}
