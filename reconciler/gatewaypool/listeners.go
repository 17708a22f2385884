package gatewaypool

import (
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// MaxListenersPerGateway is Gateway API's limit on spec.listeners (the CRD's maxItems).
const MaxListenersPerGateway = 64

// Seated is one claim as its Gateway's listeners need it: the hostname (or wildcard) it owns,
// the claim name that names its listener, and the namespace whose routes may serve it.
type Seated struct {
	Claim     string
	Hostname  string
	Namespace string
}

// NoListenerSets is a pool Gateway's spec.allowedListeners: no ListenerSet may add listeners to
// it. Gateway API's default is the same, but the pool pins it (and puts it back when edited),
// since a ListenerSet's listener could carry a hostname, or none, outside the seats.
func NoListenerSets() *gwv1.AllowedListeners {
	return &gwv1.AllowedListeners{Namespaces: &gwv1.ListenerNamespaces{From: ptr.To(gwv1.NamespacesFromNone)}}
}

// ListenersPerSeat is how many listeners each seated hostname takes: HTTPS, and HTTP when the
// template asks for it.
func ListenersPerSeat(httpListener bool) int32 {
	if httpListener {
		return 2
	}
	return 1
}

// Listeners plans a pool Gateway's listeners as pure data: for each seated hostname, in name
// order, one HTTPS:443 listener named like its claim, with the hostname set and allowedRoutes
// admitting only the owner's namespace and only HTTPRoute and GRPCRoute, and the same on HTTP:80
// when asked (HTTPRoute only: ALB serves gRPC over HTTPS). Gateway API's hostname intersection
// then keeps a route from serving any other hostname, and a route without hostnames gets the
// listener's. A Gateway without seats keeps one HTTPS listener without a hostname, because a
// Gateway needs at least one; it admits routes of the Gateway's own (platform) namespace only.
func Listeners(seats []Seated, httpListener bool) []gwv1.Listener {
	if len(seats) == 0 {
		l := gwv1.Listener{Name: HTTPSListener, Protocol: gwv1.HTTPSProtocolType, Port: 443,
			AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: ptr.To(gwv1.NamespacesFromSame)}, Kinds: routeKinds(true)}}
		out := []gwv1.Listener{l}
		if httpListener {
			l.Name, l.Protocol, l.Port, l.AllowedRoutes = HTTPListener, gwv1.HTTPProtocolType, 80, &gwv1.AllowedRoutes{
				Namespaces: &gwv1.RouteNamespaces{From: ptr.To(gwv1.NamespacesFromSame)}, Kinds: routeKinds(false)}
			out = append(out, l)
		}
		return out
	}
	sorted := append([]Seated(nil), seats...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Claim < sorted[j].Claim })
	out := make([]gwv1.Listener, 0, len(sorted)*int(ListenersPerSeat(httpListener)))
	for _, s := range sorted {
		out = append(out, seatListener(s, s.Claim, gwv1.HTTPSProtocolType, 443))
	}
	if httpListener {
		for _, s := range sorted {
			out = append(out, seatListener(s, v1alpha1.HTTPListenerName(s.Claim), gwv1.HTTPProtocolType, 80))
		}
	}
	return out
}

func seatListener(s Seated, name string, proto gwv1.ProtocolType, port int32) gwv1.Listener {
	return gwv1.Listener{
		Name:     gwv1.SectionName(name),
		Hostname: ptr.To(gwv1.Hostname(s.Hostname)),
		Protocol: proto,
		Port:     gwv1.PortNumber(port),
		AllowedRoutes: &gwv1.AllowedRoutes{
			Namespaces: &gwv1.RouteNamespaces{From: ptr.To(gwv1.NamespacesFromSelector), Selector: &metav1.LabelSelector{
				MatchLabels: map[string]string{"kubernetes.io/metadata.name": s.Namespace}}},
			Kinds: routeKinds(proto == gwv1.HTTPSProtocolType),
		},
	}
}

// routeKinds pins the route kinds a listener accepts rather than leaving them to LBC's
// protocol default, which may grow: only kinds whose hostnames admission checks.
func routeKinds(https bool) []gwv1.RouteGroupKind {
	kinds := []gwv1.RouteGroupKind{{Group: ptr.To(gwv1.Group(gwv1.GroupName)), Kind: "HTTPRoute"}}
	if https {
		kinds = append(kinds, gwv1.RouteGroupKind{Group: ptr.To(gwv1.Group(gwv1.GroupName)), Kind: "GRPCRoute"})
	}
	return kinds
}

// AdmittedBy reports whether a Gateway's listeners carry a listener for the claim that admits
// namespace ns.
func AdmittedBy(gw *gwv1.Gateway, claim, ns string) bool {
	for _, l := range gw.Spec.Listeners {
		if string(l.Name) != claim || l.AllowedRoutes == nil || l.AllowedRoutes.Namespaces == nil || l.AllowedRoutes.Namespaces.Selector == nil {
			continue
		}
		return l.AllowedRoutes.Namespaces.Selector.MatchLabels["kubernetes.io/metadata.name"] == ns
	}
	return false
}
