package lbcstandin

import (
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Route is what the stand-in reads of an HTTPRoute or a GRPCRoute.
type Route struct {
	Kind       string // HTTPRoute or GRPCRoute
	Namespace  string
	Name       string
	Created    time.Time
	Hostnames  []string
	ParentRefs []gwv1.ParentReference
	Rules      []RouteRule
}

// RouteRule is one rule of a route: its matches (none means everything), its first backend, and
// every Service backend with its port (each is a target group). TargetGroup is set when the
// first backend names a target group (a backendRef of kind TargetGroupName): the rule forwards to
// whatever target group has that name, and Backend is left empty.
type RouteRule struct {
	Matches     []Match
	Backend     types.NamespacedName
	BackendPort int32
	TargetGroup string
	Services    []ServicePort
	// Gateways counts the backends of kind Gateway (a target group of target type alb).
	Gateways int
}

// ServicePort is a Service backend of a route rule.
type ServicePort struct {
	Service types.NamespacedName
	Port    int32
}

// Match is a rule's path match; a GRPCRoute method match is the exact path /service/method.
type Match struct {
	Exact bool
	Path  string
	// Values are the match's ALB condition values besides the host header's: the path's (two
	// for a PathPrefix other than "/"), one per header, query parameter and method.
	Values int
}

// Attachment is the outcome of attaching one route to one Gateway.
type Attachment struct {
	// Accepted is true when some listener took the route.
	Accepted bool
	// Reason is Gateway API's reason when it was not (NotAllowedByListeners,
	// NoMatchingListenerHostname, NoMatchingParent).
	Reason string
	// Hosts are, per port, the host conditions of the route's ALB rules: the intersections with
	// the listeners' hostnames, else the route's own hostnames; "" alone is a catch-all.
	Hosts map[int32][]string
}

// refersTo reports whether a parentRef names the Gateway (a missing namespace is the route's).
// As in LBC, the parentRef's group is not looked at: kind, name and namespace decide.
func refersTo(p gwv1.ParentReference, routeNS string, gw *gwv1.Gateway) bool {
	if p.Kind != nil && *p.Kind != "Gateway" {
		return false
	}
	ns := routeNS
	if p.Namespace != nil {
		ns = string(*p.Namespace)
	}
	return ns == gw.Namespace && string(p.Name) == gw.Name
}

// AllowsNamespace is a listener's allowedRoutes.namespaces check (From Same by default).
func AllowsNamespace(l gwv1.Listener, gatewayNS, routeNS string, routeNSLabels map[string]string) bool {
	from := gwv1.NamespacesFromSame
	var sel *metav1.LabelSelector
	if l.AllowedRoutes != nil && l.AllowedRoutes.Namespaces != nil && l.AllowedRoutes.Namespaces.From != nil {
		from, sel = *l.AllowedRoutes.Namespaces.From, l.AllowedRoutes.Namespaces.Selector
	}
	switch from {
	case gwv1.NamespacesFromAll:
		return true
	case gwv1.NamespacesFromSelector:
		s, err := metav1.LabelSelectorAsSelector(sel)
		return err == nil && sel != nil && s.Matches(labels.Set(routeNSLabels))
	default:
		return routeNS == gatewayNS
	}
}

// AllowsKind is a listener's allowedRoutes.kinds check; without kinds, LBC's protocol default
// (HTTPS: HTTPRoute and GRPCRoute; HTTP: HTTPRoute).
func AllowsKind(l gwv1.Listener, kind string) bool {
	if l.AllowedRoutes == nil || len(l.AllowedRoutes.Kinds) == 0 {
		return kind == "HTTPRoute" || kind == "GRPCRoute" && l.Protocol == gwv1.HTTPSProtocolType
	}
	for _, k := range l.AllowedRoutes.Kinds {
		if string(k.Kind) == kind {
			return true
		}
	}
	return false
}

// Intersect is the hostname both a listener and a route hostname match: the more specific of
// the two, when either equals or is covered by the other's wildcard.
func Intersect(a, b string) (string, bool) {
	switch {
	case a == b:
		return a, true
	case strings.HasPrefix(a, "*.") && strings.HasSuffix(b, a[1:]):
		return b, true
	case strings.HasPrefix(b, "*.") && strings.HasSuffix(a, b[1:]):
		return a, true
	}
	return "", false
}

// ListenerHostnames is a listener's hostname check: the compatible hostnames (a route without
// hostnames gets the listener's), and whether the route may attach.
func ListenerHostnames(l gwv1.Listener, routeHostnames []string) ([]string, bool) {
	if len(routeHostnames) == 0 {
		if l.Hostname != nil {
			return []string{string(*l.Hostname)}, true
		}
		return nil, true
	}
	if l.Hostname == nil {
		return nil, true
	}
	var out []string
	for _, h := range routeHostnames {
		if c, ok := Intersect(h, string(*l.Hostname)); ok {
			out = append(out, c)
		}
	}
	return out, len(out) > 0
}

// Attach attaches a route to a Gateway the way LBC does: for each parentRef naming the Gateway,
// the named listener (or every listener, optionally of one port) is checked for namespace, kind
// and hostname; the compatible hostnames of the listeners that accept it are merged per port.
func Attach(gw *gwv1.Gateway, rt Route, routeNSLabels map[string]string) Attachment {
	out := Attachment{Hosts: map[int32][]string{}}
	compatible := map[int32]map[string]bool{}
	referred := false
	for _, p := range rt.ParentRefs {
		if !refersTo(p, rt.Namespace, gw) {
			continue
		}
		referred = true
		for _, l := range gw.Spec.Listeners {
			if p.SectionName != nil && *p.SectionName != l.Name || p.Port != nil && *p.Port != l.Port {
				continue
			}
			switch hosts, hostOK := ListenerHostnames(l, rt.Hostnames); {
			case !AllowsNamespace(l, gw.Namespace, rt.Namespace, routeNSLabels) || !AllowsKind(l, rt.Kind):
				if out.Reason == "" {
					out.Reason = string(gwv1.RouteReasonNotAllowedByListeners)
				}
			case !hostOK:
				out.Reason = string(gwv1.RouteReasonNoMatchingListenerHostname)
			default:
				out.Accepted = true
				port := int32(l.Port)
				if compatible[port] == nil {
					compatible[port] = map[string]bool{}
				}
				for _, h := range hosts {
					compatible[port][h] = true
				}
			}
		}
	}
	if !referred {
		out.Reason = string(gwv1.RouteReasonNoMatchingParent)
	}
	if !out.Accepted {
		if out.Reason == "" {
			out.Reason = string(gwv1.RouteReasonNoMatchingParent)
		}
		return out
	}
	out.Reason = string(gwv1.RouteReasonAccepted)
	for port, set := range compatible {
		hosts := make([]string, 0, len(set))
		for h := range set {
			hosts = append(hosts, h)
		}
		if len(hosts) == 0 {
			hosts = append(hosts, rt.Hostnames...) // a listener without a hostname: the route's own
		}
		if len(hosts) == 0 {
			hosts = []string{""} // neither has one: a catch-all
		}
		sort.Strings(hosts)
		out.Hosts[port] = hosts
	}
	return out
}
