package lbcstandin

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestIntersect(t *testing.T) {
	cases := []struct {
		name, a, b, want string
		ok               bool
	}{
		{name: "equal names intersect in themselves", a: "shop.example.com", b: "shop.example.com", want: "shop.example.com", ok: true},
		{name: "a wildcard listener narrows to the route's name", a: "*.example.com", b: "shop.example.com", want: "shop.example.com", ok: true},
		{name: "a wildcard route narrows to the listener's name", a: "shop.example.com", b: "*.example.com", want: "shop.example.com", ok: true},
		{name: "a wildcard covers deeper names too", a: "*.example.com", b: "a.b.example.com", want: "a.b.example.com", ok: true},
		{name: "different names do not intersect", a: "shop.example.com", b: "blog.example.com"},
		{name: "a wildcard does not cover its own domain", a: "*.example.com", b: "example.com"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := Intersect(c.a, c.b)
			assert.Equal(t, c.ok, ok)
			assert.Equal(t, c.want, got)
		})
	}
}

func listener(name, host string, from gwv1.FromNamespaces, ns string, kinds ...string) gwv1.Listener {
	l := gwv1.Listener{Name: gwv1.SectionName(name), Protocol: gwv1.HTTPSProtocolType, Port: 443,
		AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: ptr.To(from)}}}
	if host != "" {
		l.Hostname = ptr.To(gwv1.Hostname(host))
	}
	if from == gwv1.NamespacesFromSelector {
		l.AllowedRoutes.Namespaces.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}}
	}
	for _, k := range kinds {
		l.AllowedRoutes.Kinds = append(l.AllowedRoutes.Kinds, gwv1.RouteGroupKind{Kind: gwv1.Kind(k)})
	}
	return l
}

func gateway(ls ...gwv1.Listener) *gwv1.Gateway {
	return &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "gw", Name: "public-1"}, Spec: gwv1.GatewaySpec{Listeners: ls}}
}

func parent(section string) gwv1.ParentReference {
	p := gwv1.ParentReference{Namespace: ptr.To(gwv1.Namespace("gw")), Name: "public-1"}
	if section != "" {
		p.SectionName = ptr.To(gwv1.SectionName(section))
	}
	return p
}

func labelsOf(ns string) map[string]string {
	return map[string]string{"kubernetes.io/metadata.name": ns}
}

func TestAttach(t *testing.T) {
	perHost := gateway(
		listener("shop.example.com", "shop.example.com", gwv1.NamespacesFromSelector, "team-a", "HTTPRoute", "GRPCRoute"),
		listener("blog.example.com", "blog.example.com", gwv1.NamespacesFromSelector, "team-b", "HTTPRoute", "GRPCRoute"),
	)
	shared := gateway(listener("https", "", gwv1.NamespacesFromAll, ""))
	cases := []struct {
		name   string
		gw     *gwv1.Gateway
		route  Route
		accept bool
		reason string
		hosts  map[int32][]string
	}{
		{name: "the owner's route attaches to its hostname's listener", gw: perHost,
			route:  Route{Kind: "HTTPRoute", Namespace: "team-a", Hostnames: []string{"shop.example.com"}, ParentRefs: []gwv1.ParentReference{parent("")}},
			accept: true, reason: "Accepted", hosts: map[int32][]string{443: {"shop.example.com"}}},
		{name: "a hostless route on a hostname listener gets the listener's hostname", gw: perHost,
			route:  Route{Kind: "HTTPRoute", Namespace: "team-b", ParentRefs: []gwv1.ParentReference{parent("")}},
			accept: true, reason: "Accepted", hosts: map[int32][]string{443: {"blog.example.com"}}},
		{name: "a hostless route on a hostless listener is a catch-all", gw: shared,
			route:  Route{Kind: "HTTPRoute", Namespace: "team-b", ParentRefs: []gwv1.ParentReference{parent("https")}},
			accept: true, reason: "Accepted", hosts: map[int32][]string{443: {""}}},
		{name: "a route on a hostless listener keeps its own hostnames", gw: shared,
			route:  Route{Kind: "GRPCRoute", Namespace: "team-c", Hostnames: []string{"shop.example.com"}, ParentRefs: []gwv1.ParentReference{parent("")}},
			accept: true, reason: "Accepted", hosts: map[int32][]string{443: {"shop.example.com"}}},
		{name: "a foreign hostname intersects no listener the namespace may use", gw: perHost,
			route:  Route{Kind: "GRPCRoute", Namespace: "team-b", Hostnames: []string{"shop.example.com"}, ParentRefs: []gwv1.ParentReference{parent("")}},
			reason: "NoMatchingListenerHostname"},
		{name: "a namespace no listener admits is not allowed", gw: perHost,
			route:  Route{Kind: "HTTPRoute", Namespace: "team-c", ParentRefs: []gwv1.ParentReference{parent("")}},
			reason: "NotAllowedByListeners"},
		{name: "a section name picks one listener", gw: perHost,
			route:  Route{Kind: "HTTPRoute", Namespace: "team-a", Hostnames: []string{"shop.example.com"}, ParentRefs: []gwv1.ParentReference{parent("blog.example.com")}},
			reason: "NotAllowedByListeners"},
		{name: "a section that does not exist matches no parent", gw: perHost,
			route:  Route{Kind: "HTTPRoute", Namespace: "team-a", Hostnames: []string{"shop.example.com"}, ParentRefs: []gwv1.ParentReference{parent("https")}},
			reason: "NoMatchingParent"},
		{name: "a kind the listener does not list is not allowed",
			gw:     gateway(listener("shop.example.com", "shop.example.com", gwv1.NamespacesFromSelector, "team-a", "HTTPRoute")),
			route:  Route{Kind: "GRPCRoute", Namespace: "team-a", Hostnames: []string{"shop.example.com"}, ParentRefs: []gwv1.ParentReference{parent("")}},
			reason: "NotAllowedByListeners"},
		{name: "From Same admits the Gateway's namespace only",
			gw:     gateway(listener("https", "", gwv1.NamespacesFromSame, "")),
			route:  Route{Kind: "HTTPRoute", Namespace: "team-a", ParentRefs: []gwv1.ParentReference{parent("")}},
			reason: "NotAllowedByListeners"},
		{name: "a route naming another Gateway matches no parent", gw: perHost,
			route:  Route{Kind: "HTTPRoute", Namespace: "team-a", ParentRefs: []gwv1.ParentReference{{Name: "other"}}},
			reason: "NoMatchingParent"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Attach(c.gw, c.route, labelsOf(c.route.Namespace))
			assert.Equal(t, c.accept, got.Accepted)
			assert.Equal(t, c.reason, got.Reason)
			if c.accept {
				assert.Equal(t, c.hosts, got.Hosts)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	now := time.Now()
	a := Route{Namespace: "team-a", Name: "shop", Created: now, Rules: []RouteRule{{Matches: []Match{{Path: "/shop"}}, Backend: types.NamespacedName{Namespace: "team-a", Name: "shop"}}}}
	w := Route{Namespace: "team-a", Name: "wild", Created: now, Rules: []RouteRule{{Backend: types.NamespacedName{Namespace: "team-a", Name: "wild"}}}}
	all := Route{Namespace: "team-b", Name: "all", Created: now.Add(-time.Hour), Rules: []RouteRule{{Backend: types.NamespacedName{Namespace: "team-b", Name: "all"}}}}
	g := Route{Namespace: "team-c", Name: "grpc", Created: now, Rules: []RouteRule{{Matches: []Match{{Exact: true, Path: "/shop.Cart/Checkout"}}, Backend: types.NamespacedName{Namespace: "team-c", Name: "grpc"}}}}
	rules := BuildRules([]Route{all, a, w, g}, []map[int32][]string{{443: {""}}, {443: {"shop.example.com"}}, {443: {"*.example.com"}}, {443: {"shop.example.com"}}})
	assert.Len(t, rules, 4, "one rule per route rule, match and hostname")
	cases := []struct {
		name, host, path string
		want             string
		ok               bool
	}{
		{name: "an exact host beats the catch-all", host: "shop.example.com", path: "/shop/cart", want: "team-a/shop", ok: true},
		{name: "an exact path beats a prefix on the same host", host: "shop.example.com", path: "/shop.Cart/Checkout", want: "team-c/grpc", ok: true},
		{name: "a wildcard beats the catch-all", host: "blog.example.com", path: "/", want: "team-a/wild", ok: true},
		{name: "a path no rule of the host matches falls to the wildcard", host: "shop.example.com", path: "/other", want: "team-a/wild", ok: true},
		{name: "another domain falls to the catch-all", host: "example.org", path: "/", want: "team-b/all", ok: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := Resolve(rules, 443, c.host, c.path)
			assert.Equal(t, c.ok, ok)
			assert.Equal(t, c.want, got.String())
		})
	}
	_, ok := Resolve(BuildRules([]Route{a}, []map[int32][]string{{443: {"shop.example.com"}}}), 443, "shop.example.com", "/other")
	assert.False(t, ok, "no matching rule: the listener's default action")
}
