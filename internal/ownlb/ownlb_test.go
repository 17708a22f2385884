package ownlb

import (
	"testing"

	"github.com/stretchr/testify/assert"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

const (
	albA = "k8s-team-a-web-1234.us-east-1.elb.amazonaws.com"
	albB = "k8s-team-a-api-5678.us-east-1.elb.amazonaws.com"
)

func own(object, address string) User {
	return User{Object: object, LoadBalancers: []LoadBalancer{{Object: object, Address: address}}}
}

func poolRoute(name string) User { return User{Object: "HTTPRoute team-a/" + name, Pool: true} }

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name  string
		users []User
		want  Decision
	}{
		{name: "no user keeps the pool seat (an admin's claim with provision Always)",
			want: Decision{Kind: Pool, Objects: []string{}}},
		{name: "a route on the pool needs a seat",
			users: []User{poolRoute("shop")},
			want:  Decision{Kind: Pool, Objects: []string{}}},
		{name: "a tenant Gateway with an address is the ALIAS target",
			users: []User{own("Gateway team-a/web", albA)},
			want:  Decision{Kind: Own, Address: albA, Objects: []string{"Gateway team-a/web"}}},
		{name: "an address is compared as DNS compares it",
			users: []User{own("Gateway team-a/web", "K8S-team-a-web-1234.us-east-1.elb.amazonaws.com.")},
			want:  Decision{Kind: Own, Address: albA, Objects: []string{"Gateway team-a/web"}}},
		{name: "a route on the tenant Gateway and the Gateway itself are one load balancer",
			users: []User{
				{Object: "HTTPRoute team-a/shop", LoadBalancers: []LoadBalancer{{Object: "Gateway team-a/web", Address: albA}}},
				own("Gateway team-a/web", albA),
			},
			want: Decision{Kind: Own, Address: albA, Objects: []string{"Gateway team-a/web"}}},
		{name: "a route naming a tenant Gateway that has no address yet is waited for",
			users: []User{{Object: "HTTPRoute team-a/shop", LoadBalancers: []LoadBalancer{{Object: "Gateway team-a/web"}}}},
			want:  Decision{Kind: Waiting, Objects: []string{"Gateway team-a/web"}}},
		{name: "a route naming only Gateways that do not exist is served by nothing",
			users: []User{{Object: "HTTPRoute team-a/shop", LoadBalancers: []LoadBalancer{{Object: "Gateway team-a/web", Missing: true}}}},
			want:  Decision{Kind: Waiting, Objects: []string{"Gateway team-a/web"}, Missing: true}},
		{name: "a missing Gateway of another namespace is named as missing, not as waiting for its verdict",
			users: []User{{Object: "HTTPRoute team-a/shop", LoadBalancers: []LoadBalancer{{Object: "Gateway team-b/web", Missing: true, Pending: "not accepted yet"}}}},
			want:  Decision{Kind: Waiting, Objects: []string{"Gateway team-b/web"}, Missing: true}},
		{name: "one missing Gateway and one without an address yet: waited for, not served by nothing",
			users: []User{{Object: "HTTPRoute team-a/shop", LoadBalancers: []LoadBalancer{{Object: "Gateway team-a/web", Missing: true}, {Object: "Gateway team-a/api"}}}},
			want:  Decision{Kind: Waiting, Objects: []string{"Gateway team-a/api", "Gateway team-a/web"}}},
		{name: "a missing Gateway next to one with an address is waited for (the route may come back there)",
			users: []User{{Object: "HTTPRoute team-a/shop", LoadBalancers: []LoadBalancer{{Object: "Gateway team-a/web", Missing: true}}}, own("Ingress team-a/shop", albA)},
			want:  Decision{Kind: Waiting, Objects: []string{"Gateway team-a/web"}}},
		{name: "one object with an address and one without: wait for the other (they may agree)",
			users: []User{own("Gateway team-a/web", albA), own("Ingress team-a/shop", "")},
			want:  Decision{Kind: Waiting, Objects: []string{"Ingress team-a/shop"}}},
		{name: "two different load balancers are ambiguous",
			users: []User{own("Ingress team-a/shop", albB), own("Gateway team-a/web", albA)},
			want: Decision{Kind: Ambiguous, Objects: []string{
				"Gateway team-a/web (" + albA + ")", "Ingress team-a/shop (" + albB + ")"}}},
		{name: "LBC's refusal of the load balancer is kept",
			users: []User{{Object: "Gateway team-a/web", LoadBalancers: []LoadBalancer{{Object: "Gateway team-a/web", Address: albA, Refusal: "not accepted"}}}},
			want:  Decision{Kind: Own, Address: albA, Objects: []string{"Gateway team-a/web"}, Refusals: []string{"not accepted"}}},
		{name: "a pool route wins over an own load balancer, which is named",
			users: []User{own("Ingress team-a/shop", albB), poolRoute("shop")},
			want:  Decision{Kind: Pool, Objects: []string{"Ingress team-a/shop"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Decide(tc.users)
			assert.True(t, tc.want.Equal(got), "want %+v, got %+v", tc.want, got)
		})
	}
}

func TestMessagesNameTheObjects(t *testing.T) {
	h := "app.team-a.example.com"
	assert.Equal(t, "waiting for the load balancer address of Ingress team-a/shop (status.addresses of a Gateway, status.loadBalancer.ingress of an Ingress)",
		Decision{Kind: Waiting, Objects: []string{"Ingress team-a/shop"}}.Message(h))
	assert.Contains(t, Decision{Kind: Ambiguous, Objects: []string{"Gateway team-a/web (a)", "Ingress team-a/shop (b)"}}.Message(h),
		"several load balancers: Gateway team-a/web (a), Ingress team-a/shop (b)")
	assert.Equal(t, "DNS points app.team-a.example.com at its pool Gateway (a route uses it there), not at the load balancer of Ingress team-a/shop",
		Decision{Kind: Pool, Objects: []string{"Ingress team-a/shop"}}.Message(h))
	assert.Empty(t, Decision{Kind: Pool}.Message(h))
}

// programmed is a Gateway whose controller published address addr.
func programmed(ns, name, addr string) *gwv1.Gateway {
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1}}
	gw.Status.Addresses = []gwv1.GatewayStatusAddress{{Type: ptr.To(gwv1.HostnameAddressType), Value: addr}}
	gw.Status.Conditions = []metav1.Condition{{Type: "Programmed", Status: metav1.ConditionTrue}}
	return gw
}

func TestRouteUser(t *testing.T) {
	refused := programmed("team-a", "refused", albB)
	refused.Status.Conditions = append(refused.Status.Conditions, metav1.Condition{Type: "Accepted", Status: metav1.ConditionFalse, ObservedGeneration: 1,
		Reason: "Invalid", Message: "no certificate found for host: shop.example.com"})
	lookup := func(ns, name string) (bool, *gwv1.Gateway) {
		switch ns + "/" + name {
		case "gw-system/public-1":
			return true, nil
		case "team-a/web":
			return false, programmed(ns, name, albA)
		case "team-a/refused":
			return false, refused
		case "team-b/web":
			return false, programmed(ns, name, albB)
		}
		return false, nil
	}
	listenerSets := func(ns, name string) *gwv1.ListenerSet {
		parent := map[string]gwv1.ParentGatewayReference{
			"team-a/extra":   {Name: "web"},
			"team-a/on-pool": {Name: "public-1", Namespace: ptr.To(gwv1.Namespace("gw-system"))},
			"team-a/on-b":    {Name: "web", Namespace: ptr.To(gwv1.Namespace("team-b"))},
			"team-b/extra":   {Name: "web"},
		}
		p, ok := parent[ns+"/"+name]
		if !ok {
			return nil
		}
		return &gwv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: gwv1.ListenerSetSpec{ParentRef: p}}
	}
	lsRef := func(ns, name string) gwv1.ParentReference {
		p := gwv1.ParentReference{Kind: ptr.To(gwv1.Kind("ListenerSet")), Name: gwv1.ObjectName(name)}
		if ns != "" {
			p.Namespace = ptr.To(gwv1.Namespace(ns))
		}
		return p
	}
	accepted := func(ctrl string, status metav1.ConditionStatus, p gwv1.ParentReference) []gwv1.RouteParentStatus {
		return []gwv1.RouteParentStatus{{ParentRef: p, ControllerName: gwv1.GatewayController(ctrl),
			Conditions: []metav1.Condition{{Type: "Accepted", Status: status}}}}
	}
	const lbcName = "gateway.k8s.aws/alb"
	pendingB := func(kind string) LoadBalancer {
		return LoadBalancer{Object: "Gateway team-b/web", Pending: kind + " team-b/" + map[string]string{"Gateway": "web", "ListenerSet": "extra"}[kind] +
			" is in namespace team-b: it counts once the AWS Load Balancer Controller reports HTTPRoute team-a/shop Accepted there"}
	}
	ref := func(ns, name string) gwv1.ParentReference {
		p := gwv1.ParentReference{Name: gwv1.ObjectName(name)}
		if ns != "" {
			p.Namespace = ptr.To(gwv1.Namespace(ns))
		}
		return p
	}
	for _, tc := range []struct {
		name    string
		parents []gwv1.ParentReference
		status  []gwv1.RouteParentStatus
		want    User
	}{
		{name: "no parentRefs: the routes reconciler attaches it to the seat",
			want: User{Object: "HTTPRoute team-a/shop", Pool: true}},
		{name: "a pool Gateway",
			parents: []gwv1.ParentReference{ref("gw-system", "public-1")},
			want:    User{Object: "HTTPRoute team-a/shop", Pool: true}},
		{name: "its own Gateway, in the route's namespace when the parentRef names none",
			parents: []gwv1.ParentReference{ref("", "web")},
			want:    User{Object: "HTTPRoute team-a/shop", LoadBalancers: []LoadBalancer{{Object: "Gateway team-a/web", Address: albA}}}},
		{name: "a Gateway that does not exist has no address, and is missing",
			parents: []gwv1.ParentReference{ref("team-a", "missing")},
			want:    User{Object: "HTTPRoute team-a/shop", LoadBalancers: []LoadBalancer{{Object: "Gateway team-a/missing", Missing: true}}}},
		{name: "a pool parentRef (the user's or the orchestrator's) keeps the seat next to their own Gateway",
			parents: []gwv1.ParentReference{ref("gw-system", "public-1"), ref("", "web")},
			want:    User{Object: "HTTPRoute team-a/shop", Pool: true, LoadBalancers: []LoadBalancer{{Object: "Gateway team-a/web", Address: albA}}}},
		{name: "LBC's verdict on its own Gateway comes along",
			parents: []gwv1.ParentReference{ref("", "refused")},
			want: User{Object: "HTTPRoute team-a/shop", LoadBalancers: []LoadBalancer{{Object: "Gateway team-a/refused", Address: albB,
				Refusal: "the AWS Load Balancer Controller does not accept Gateway refused (Invalid): no certificate found for host: shop.example.com"}}}},
		{name: "a ListenerSet parentRef is served by the ListenerSet's parent Gateway",
			parents: []gwv1.ParentReference{lsRef("", "extra")},
			want:    User{Object: "HTTPRoute team-a/shop", LoadBalancers: []LoadBalancer{{Object: "Gateway team-a/web", Address: albA}}}},
		{name: "a ListenerSet that does not exist attaches the route nowhere",
			parents: []gwv1.ParentReference{lsRef("", "missing")},
			want:    User{Object: "HTTPRoute team-a/shop"}},
		{name: "a ListenerSet on a pool Gateway (which admits none) is no pool seat",
			parents: []gwv1.ParentReference{lsRef("", "on-pool")},
			want:    User{Object: "HTTPRoute team-a/shop"}},
		{name: "another namespace's Gateway without LBC's Accepted entry is waited for, its address not used",
			parents: []gwv1.ParentReference{ref("team-b", "web")},
			want:    User{Object: "HTTPRoute team-a/shop", LoadBalancers: []LoadBalancer{pendingB("Gateway")}}},
		{name: "another namespace's Gateway that LBC reports not Accepted is waited for",
			parents: []gwv1.ParentReference{ref("team-b", "web")},
			status:  accepted(lbcName, metav1.ConditionFalse, ref("team-b", "web")),
			want:    User{Object: "HTTPRoute team-a/shop", LoadBalancers: []LoadBalancer{pendingB("Gateway")}}},
		{name: "an Accepted entry of another controller does not count",
			parents: []gwv1.ParentReference{ref("team-b", "web")},
			status:  accepted("example.com/other", metav1.ConditionTrue, ref("team-b", "web")),
			want:    User{Object: "HTTPRoute team-a/shop", LoadBalancers: []LoadBalancer{pendingB("Gateway")}}},
		{name: "LBC's Accepted entry for another parentRef (another section) does not count",
			parents: []gwv1.ParentReference{ref("team-b", "web")},
			status: accepted(lbcName, metav1.ConditionTrue, gwv1.ParentReference{Namespace: ptr.To(gwv1.Namespace("team-b")), Name: "web",
				SectionName: ptr.To(gwv1.SectionName("https"))}),
			want: User{Object: "HTTPRoute team-a/shop", LoadBalancers: []LoadBalancer{pendingB("Gateway")}}},
		{name: "another namespace's Gateway counts once LBC reports the route Accepted there (defaults spelled out or not)",
			parents: []gwv1.ParentReference{ref("team-b", "web")},
			status: accepted(lbcName, metav1.ConditionTrue, gwv1.ParentReference{Group: ptr.To(gwv1.Group(gwv1.GroupName)), Kind: ptr.To(gwv1.Kind("Gateway")),
				Namespace: ptr.To(gwv1.Namespace("team-b")), Name: "web"}),
			want: User{Object: "HTTPRoute team-a/shop", LoadBalancers: []LoadBalancer{{Object: "Gateway team-b/web", Address: albB}}}},
		{name: "a ListenerSet of another namespace is waited for until LBC accepts the route there",
			parents: []gwv1.ParentReference{lsRef("team-b", "extra")},
			want:    User{Object: "HTTPRoute team-a/shop", LoadBalancers: []LoadBalancer{pendingB("ListenerSet")}}},
		{name: "a ListenerSet of another namespace counts once accepted",
			parents: []gwv1.ParentReference{lsRef("team-b", "extra")},
			status:  accepted(lbcName, metav1.ConditionTrue, lsRef("team-b", "extra")),
			want:    User{Object: "HTTPRoute team-a/shop", LoadBalancers: []LoadBalancer{{Object: "Gateway team-b/web", Address: albB}}}},
		{name: "a parentRef of another kind names no load balancer",
			parents: []gwv1.ParentReference{{Kind: ptr.To(gwv1.Kind("Service")), Group: ptr.To(gwv1.Group("")), Name: "svc"}},
			want:    User{Object: "HTTPRoute team-a/shop"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, RouteUser(Route{Kind: "HTTPRoute", Namespace: "team-a", Name: "shop", Parents: tc.parents, Status: tc.status},
				lookup, listenerSets))
		})
	}
	assert.Equal(t, User{Object: "HTTPRoute team-a/shop"},
		RouteUser(Route{Kind: "HTTPRoute", Namespace: "team-a", Name: "shop", Parents: []gwv1.ParentReference{lsRef("", "extra")}}, lookup, nil),
		"without ListenerSets served, a ListenerSet parentRef attaches nowhere")
}

func TestDecideWaitsForAnotherNamespacesGateway(t *testing.T) {
	d := Decide([]User{{Object: "HTTPRoute team-a/shop", LoadBalancers: []LoadBalancer{{Object: "Gateway team-b/web", Pending: "not accepted"}}}})
	assert.True(t, Decision{Kind: Waiting, Objects: []string{"Gateway team-b/web (not accepted)"}}.Equal(d), "got %+v", d)
	d = Decide([]User{
		{Object: "HTTPRoute team-a/shop", LoadBalancers: []LoadBalancer{{Object: "Gateway team-b/web", Pending: "not accepted"}}},
		{Object: "HTTPRoute team-a/other", LoadBalancers: []LoadBalancer{{Object: "Gateway team-b/web", Address: albB}}},
	})
	assert.True(t, Decision{Kind: Own, Address: albB, Objects: []string{"Gateway team-b/web"}}.Equal(d),
		"a Gateway that accepted one of the owner's routes with the hostname is its load balancer: got %+v", d)
	assert.Equal(t, "waiting for the load balancer address of Gateway team-b/web (not accepted) (status.addresses of a Gateway, status.loadBalancer.ingress of an Ingress)",
		Decision{Kind: Waiting, Objects: []string{"Gateway team-b/web (not accepted)"}}.Message("h"))
}

func TestListenerSetUser(t *testing.T) {
	lookup := func(ns, name string) (bool, *gwv1.Gateway) {
		if ns == "gw-system" {
			return true, nil
		}
		return false, programmed(ns, name, albA)
	}
	ls := &gwv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "extra"}, Spec: gwv1.ListenerSetSpec{ParentRef: gwv1.ParentGatewayReference{Name: "web"}}}
	u, ok := ListenerSetUser(ls, lookup)
	assert.True(t, ok)
	assert.Equal(t, User{Object: "ListenerSet team-a/extra", LoadBalancers: []LoadBalancer{{Object: "Gateway team-a/web", Address: albA}}}, u,
		"served by its parent Gateway's load balancer")
	ls.Spec.ParentRef.Namespace = ptr.To(gwv1.Namespace("gw-system"))
	_, ok = ListenerSetUser(ls, lookup)
	assert.False(t, ok, "a pool Gateway admits no ListenerSets")

	ls.Generation = 2
	ls.Spec.ParentRef.Namespace = ptr.To(gwv1.Namespace("team-b"))
	u, ok = ListenerSetUser(ls, lookup)
	assert.True(t, ok)
	assert.Equal(t, User{Object: "ListenerSet team-a/extra", LoadBalancers: []LoadBalancer{{Object: "Gateway team-b/web",
		Pending: "Gateway team-b/web is in namespace team-b: it counts once it accepts ListenerSet team-a/extra"}}}, u,
		"another namespace's Gateway is waited for until it accepts the ListenerSet")
	ls.Status.Conditions = []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, ObservedGeneration: 1}}
	u, _ = ListenerSetUser(ls, lookup)
	assert.NotEmpty(t, u.LoadBalancers[0].Pending, "an Accepted verdict for an older generation does not count")
	ls.Status.Conditions[0].ObservedGeneration = 2
	u, _ = ListenerSetUser(ls, lookup)
	assert.Equal(t, User{Object: "ListenerSet team-a/extra", LoadBalancers: []LoadBalancer{{Object: "Gateway team-b/web", Address: albA}}}, u)
}

func TestAddresses(t *testing.T) {
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "web"}}
	gw.Status.Addresses = []gwv1.GatewayStatusAddress{{Type: ptr.To(gwv1.IPAddressType), Value: "10.0.0.1"}, {Type: ptr.To(gwv1.HostnameAddressType), Value: albA}}
	assert.Empty(t, GatewayAddress(gw), "not programmed yet")
	gw.Status.Conditions = []metav1.Condition{{Type: "Programmed", Status: metav1.ConditionTrue}}
	assert.Equal(t, albA, GatewayAddress(gw))
	assert.Equal(t, User{Object: "Gateway team-a/web", LoadBalancers: []LoadBalancer{{Object: "Gateway team-a/web", Address: albA}}}, GatewayUser(gw))

	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "shop"}}
	assert.Empty(t, IngressAddress(ing))
	ing.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "10.0.0.2"}, {Hostname: albB}}
	assert.Equal(t, albB, IngressAddress(ing))
}
