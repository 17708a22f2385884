package albrules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestPerHostnameCountsOneRulePerRuleAndMatch(t *testing.T) {
	for _, tc := range []struct {
		name    string
		matches []int
		want    int32
	}{
		{"a route without rules still gets one", nil, 1},
		{"a rule without matches is one", []int{0}, 1},
		{"three rules of two matches are six", []int{2, 2, 2}, 6},
		{"rules add up", []int{1, 0, 3}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, PerHostname(tc.matches)) })
	}
}

func TestHTTPListenersCountsTheSeatsListenersARouteAttachesTo(t *testing.T) {
	gw := func(mutate ...func(*gwv1.ParentReference)) gwv1.ParentReference {
		p := gwv1.ParentReference{Name: "public-1", Namespace: ptr.To(gwv1.Namespace("gateway-system"))}
		for _, m := range mutate {
			m(&p)
		}
		return p
	}
	section := func(s string) func(*gwv1.ParentReference) {
		return func(p *gwv1.ParentReference) { p.SectionName = ptr.To(gwv1.SectionName(s)) }
	}
	port := func(n gwv1.PortNumber) func(*gwv1.ParentReference) {
		return func(p *gwv1.ParentReference) { p.Port = ptr.To(n) }
	}
	for _, tc := range []struct {
		name string
		http bool
		refs []gwv1.ParentReference
		want int32
	}{
		{"without the HTTP listener a seat has one listener", false, []gwv1.ParentReference{gw()}, 1},
		{"a parentRef without section attaches to HTTPS and HTTP", true, []gwv1.ParentReference{gw()}, 2},
		{"a route without parentRefs is attached without a section: both", true, nil, 2},
		{"a parentRef naming the claim's HTTPS listener attaches there only", true, []gwv1.ParentReference{gw(section("shop.example.com"))}, 1},
		{"a parentRef naming the claim's HTTP listener attaches there only", true, []gwv1.ParentReference{gw(section("80--shop.example.com"))}, 1},
		{"parentRefs naming each listener attach to both", true, []gwv1.ParentReference{gw(section("shop.example.com")), gw(section("80--shop.example.com"))}, 2},
		{"a parentRef of port 443 attaches to HTTPS only", true, []gwv1.ParentReference{gw(port(443))}, 1},
		{"a parentRef of port 80 attaches to HTTP only", true, []gwv1.ParentReference{gw(port(80))}, 1},
		{"a section and a port that disagree attach to neither, counted as one", true, []gwv1.ParentReference{gw(section("shop.example.com"), port(80))}, 1},
		{"a parentRef that is no Gateway does not count; none left means attached: both", true,
			[]gwv1.ParentReference{{Kind: ptr.To(gwv1.Kind("Service")), Name: "svc"}}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, HTTPListeners(tc.refs, "shop.example.com", tc.http))
		})
	}
}

func TestAnHTTPRouteCostsItsRulesOnEveryListenerAndAGRPCRouteOnHTTPSOnly(t *testing.T) {
	rules := []gwv1.HTTPRouteRule{{Matches: make([]gwv1.HTTPRouteMatch, 2)}, {Matches: make([]gwv1.HTTPRouteMatch, 2)}, {}}
	rt := &gwv1.HTTPRoute{Spec: gwv1.HTTPRouteSpec{Rules: rules}}
	assert.Equal(t, int32(5), HTTPRoute(rt, "shop.example.com", false))
	assert.Equal(t, int32(10), HTTPRoute(rt, "shop.example.com", true), "on HTTPS:443 and on HTTP:80")
	g := &gwv1.GRPCRoute{Spec: gwv1.GRPCRouteSpec{Rules: []gwv1.GRPCRouteRule{{Matches: make([]gwv1.GRPCRouteMatch, 3)}}}}
	assert.Equal(t, int32(3), GRPCRoute(g))
}

func TestHostnamesCountsTheNamesAClaimAnswersFor(t *testing.T) {
	own := map[string]bool{"blog.example.com": true}
	has := func(name string) bool { return own[name] }
	hs := []gwv1.Hostname{"shop.example.com", "Blog.example.com", "a.b.example.com", "*.example.com", "bad..name"}
	assert.Equal(t, int32(1), Hostnames("shop.example.com", hs, has))
	assert.Equal(t, int32(1), Hostnames("blog.example.com", hs, has), "normalized")
	assert.Equal(t, int32(2), Hostnames("*.example.com", hs, has), "itself and shop, which has no claim of its own; not blog, not a.b")
	assert.Equal(t, int32(0), Hostnames("other.example.com", hs, has))
}
