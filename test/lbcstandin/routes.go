package lbcstandin

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// routes attaches every HTTPRoute and GRPCRoute naming the Gateway, stores the Gateway's rule
// table, writes the routes' status entries for the Gateway, and returns the rules.
func (s *StandIn) routes(ctx context.Context, gw *gwv1.Gateway) ([]Rule, deployLimits, error) {
	var nss corev1.NamespaceList
	if err := s.Client.List(ctx, &nss); err != nil {
		return nil, deployLimits{}, err
	}
	nsLabels := map[string]map[string]string{}
	for _, ns := range nss.Items {
		nsLabels[ns.Name] = ns.Labels
	}
	cfgs, services, err := s.targetGroupConfigs(ctx)
	if err != nil {
		return nil, deployLimits{}, err
	}
	var https gwv1.HTTPRouteList
	if err := s.Client.List(ctx, &https); err != nil {
		return nil, deployLimits{}, err
	}
	var grpcs gwv1.GRPCRouteList
	if err := s.Client.List(ctx, &grpcs); err != nil {
		return nil, deployLimits{}, err
	}
	var attached []Route
	var hosts []map[int32][]string
	// The routes' status entries are written once the rule table is stored, so that a route whose
	// status says it is attached is in the table that Resolve reads.
	type entry struct {
		obj     client.Object
		parents *[]gwv1.RouteParentStatus
		rt      Route
		a       Attachment
	}
	var entries []entry
	consider := func(obj client.Object, rt Route, parents *[]gwv1.RouteParentStatus) {
		named := false
		for _, p := range rt.ParentRefs {
			named = named || refersTo(p, rt.Namespace, gw)
		}
		if !named && !hasEntry(*parents, gw, rt.Namespace) {
			return
		}
		var a Attachment
		if named {
			a = Attach(gw, rt, nsLabels[rt.Namespace])
		}
		if a.Accepted {
			attached = append(attached, rt)
			hosts = append(hosts, a.Hosts)
		}
		entries = append(entries, entry{obj: obj, parents: parents, rt: rt, a: a})
	}
	for i := range https.Items {
		r := &https.Items[i]
		consider(r, fromHTTPRoute(r), &r.Status.Parents)
	}
	for i := range grpcs.Items {
		r := &grpcs.Items[i]
		consider(r, fromGRPCRoute(r), &r.Status.Parents)
	}
	rules := BuildRules(attached, hosts)
	namer, err := s.targetGroupNamer(ctx, gw)
	if err != nil {
		return nil, deployLimits{}, err
	}
	unknown := ResolveTargetGroups(rules, attached, namer)
	var toGateway *Route
	for i, rt := range attached {
		for _, rule := range rt.Rules {
			if rule.Gateways > 0 && toGateway == nil {
				toGateway = &attached[i]
			}
		}
	}
	s.tables.Store(gw.Namespace+"/"+gw.Name, rules)
	for _, e := range entries {
		if err := s.writeParents(ctx, e.obj, e.parents, gw, e.rt, e.a); err != nil {
			return nil, deployLimits{}, err
		}
	}
	widest, values := WidestMatch(attached, hosts)
	return rules, deployLimits{targetGroups: TargetGroups(attached), widestMatch: widest, matchValues: values, unknownTargetGroup: unknown, toGateway: toGateway,
		targetGroupConfig: TargetGroupConfigVerdict(attached, cfgs, services)}, nil
}

// deployLimits is what the routes attached to a Gateway ask of the ELBv2 quotas that
// BuildRules' table does not show.
type deployLimits struct {
	targetGroups int
	// widestMatch is the route whose match needs the most condition values, matchValues how many.
	widestMatch Route
	matchValues int
	// unknownTargetGroup is a target group name a rule forwards to that no target group has.
	unknownTargetGroup string
	// toGateway is a route with a Gateway backend, whose target group ELBv2 refuses for an ALB.
	toGateway *Route
	// targetGroupConfig is why a route's Service's TargetGroupConfiguration makes a target group
	// LBC cannot build for an ALB (TargetGroupConfigVerdict), or "".
	targetGroupConfig string
}

func hasEntry(parents []gwv1.RouteParentStatus, gw *gwv1.Gateway, routeNS string) bool {
	for _, p := range parents {
		if p.ControllerName == ControllerName && refersTo(p.ParentRef, routeNS, gw) {
			return true
		}
	}
	return false
}

// writeParents replaces the route's status entries for this Gateway with one per parentRef that
// names it (none once it names it no more), leaving other Gateways' and controllers' entries.
func (s *StandIn) writeParents(ctx context.Context, obj client.Object, parents *[]gwv1.RouteParentStatus, gw *gwv1.Gateway, rt Route, a Attachment) error {
	orig := append([]gwv1.RouteParentStatus(nil), *parents...)
	// Never nil: status.parents is required, and a merge patch would write null for nil.
	keep := []gwv1.RouteParentStatus{}
	for _, p := range orig {
		if p.ControllerName != ControllerName || !refersTo(p.ParentRef, rt.Namespace, gw) {
			keep = append(keep, p)
		}
	}
	for _, ref := range rt.ParentRefs {
		if !refersTo(ref, rt.Namespace, gw) {
			continue
		}
		ps := gwv1.RouteParentStatus{ParentRef: ref, ControllerName: ControllerName}
		for _, old := range orig {
			if old.ControllerName == ControllerName && equality.Semantic.DeepEqual(old.ParentRef, ref) {
				// A copy: SetStatusCondition changes a condition in place, and a change made in
				// orig's array too would compare equal below and never be written.
				ps.Conditions = append([]metav1.Condition(nil), old.Conditions...)
			}
		}
		status, msg := metav1.ConditionTrue, "attached"
		if !a.Accepted {
			status, msg = metav1.ConditionFalse, fmt.Sprintf("no listener of Gateway %s/%s accepts the route", gw.Namespace, gw.Name)
		}
		meta.SetStatusCondition(&ps.Conditions, metav1.Condition{Type: string(gwv1.RouteConditionAccepted), Status: status,
			Reason: a.Reason, Message: msg, ObservedGeneration: obj.GetGeneration()})
		meta.SetStatusCondition(&ps.Conditions, metav1.Condition{Type: string(gwv1.RouteConditionResolvedRefs), Status: metav1.ConditionTrue,
			Reason: string(gwv1.RouteReasonResolvedRefs), Message: "lbc stand-in", ObservedGeneration: obj.GetGeneration()})
		keep = append(keep, ps)
	}
	if equality.Semantic.DeepEqual(keep, orig) || len(keep) == 0 && len(orig) == 0 {
		return nil
	}
	patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
	*parents = keep
	err := s.Client.Status().Patch(ctx, obj, patch)
	if client.IgnoreNotFound(err) != nil {
		return err
	}
	return nil
}

func fromHTTPRoute(r *gwv1.HTTPRoute) Route {
	rt := Route{Kind: "HTTPRoute", Namespace: r.Namespace, Name: r.Name, Created: r.CreationTimestamp.Time, ParentRefs: r.Spec.ParentRefs}
	for _, h := range r.Spec.Hostnames {
		rt.Hostnames = append(rt.Hostnames, string(h))
	}
	for _, rule := range r.Spec.Rules {
		out := RouteRule{}
		if len(rule.BackendRefs) > 0 {
			out.Backend, out.BackendPort, out.TargetGroup = firstBackend(r.Namespace, rule.BackendRefs[0].BackendRef)
		}
		for _, b := range rule.BackendRefs {
			out.addBackend(r.Namespace, b.BackendRef)
		}
		for _, m := range rule.Matches {
			match := Match{Path: "/", Values: len(m.Headers) + len(m.QueryParams)}
			if m.Path != nil && m.Path.Value != nil {
				match.Path = *m.Path.Value
				match.Exact = m.Path.Type != nil && *m.Path.Type == gwv1.PathMatchExact
				match.Values++
				if m.Path.Type != nil && *m.Path.Type == gwv1.PathMatchPathPrefix && match.Path != "/" {
					match.Values++ // the path and the path followed by "/*"
				}
			}
			if m.Method != nil {
				match.Values++
			}
			out.Matches = append(out.Matches, match)
		}
		rt.Rules = append(rt.Rules, out)
	}
	return rt
}

func fromGRPCRoute(r *gwv1.GRPCRoute) Route {
	rt := Route{Kind: "GRPCRoute", Namespace: r.Namespace, Name: r.Name, Created: r.CreationTimestamp.Time, ParentRefs: r.Spec.ParentRefs}
	for _, h := range r.Spec.Hostnames {
		rt.Hostnames = append(rt.Hostnames, string(h))
	}
	for _, rule := range r.Spec.Rules {
		out := RouteRule{}
		if len(rule.BackendRefs) > 0 {
			out.Backend, out.BackendPort, out.TargetGroup = firstBackend(r.Namespace, rule.BackendRefs[0].BackendRef)
		}
		for _, b := range rule.BackendRefs {
			out.addBackend(r.Namespace, b.BackendRef)
		}
		for _, m := range rule.Matches {
			match := Match{Path: "/", Values: 1 + len(m.Headers)} // the method's path, one per header
			if mm := m.Method; mm != nil && mm.Service != nil {
				match.Path = "/" + *mm.Service
				if mm.Method != nil {
					match.Path, match.Exact = match.Path+"/"+*mm.Method, true
				}
			}
			out.Matches = append(out.Matches, match)
		}
		rt.Rules = append(rt.Rules, out)
	}
	return rt
}

// GatewayBackendKind is the backendRef kind by which LBC v3 forwards to another Gateway's ALB
// through a target group of target type alb, which ELBv2 makes only for NLBs (protocol TCP).
const GatewayBackendKind = "Gateway"

// addBackend adds a Service backend to the rule's Services, and counts a Gateway backend (other
// kinds make no target group of the route's own).
func (out *RouteRule) addBackend(routeNS string, b gwv1.BackendRef) {
	if b.Kind != nil && *b.Kind == GatewayBackendKind {
		out.Gateways++
		return
	}
	if b.Group != nil && *b.Group != "" || b.Kind != nil && *b.Kind != "Service" {
		return
	}
	port := int32(0)
	if b.Port != nil {
		port = int32(*b.Port)
	}
	out.Services = append(out.Services, ServicePort{Service: backend(routeNS, b), Port: port})
}

// TargetGroupNameKind is the backendRef kind by which LBC v3 forwards a route rule to an
// existing target group named by the backendRef's name (pkg/gateway/routeutils: it reads the
// kind only, whatever the group, and checks neither namespace nor owner of the target group).
const TargetGroupNameKind = "TargetGroupName"

// firstBackend is the Service a rule's first backendRef names and its port, or the name of the
// target group it names (kind TargetGroupName).
func firstBackend(routeNS string, b gwv1.BackendRef) (types.NamespacedName, int32, string) {
	if b.Kind != nil && *b.Kind == TargetGroupNameKind {
		return types.NamespacedName{}, 0, string(b.Name)
	}
	port := int32(0)
	if b.Port != nil {
		port = int32(*b.Port)
	}
	return backend(routeNS, b), port, ""
}

func backend(routeNS string, b gwv1.BackendRef) types.NamespacedName {
	ns := routeNS
	if b.Namespace != nil {
		ns = string(*b.Namespace)
	}
	return types.NamespacedName{Namespace: ns, Name: string(b.Name)}
}

// targetGroupNamer names target groups as LBC does: by the TargetGroupConfiguration of the
// Service (spec.targetReference, in the Service's namespace), its routeConfigurations entry for
// the route, else its defaultConfiguration, when that sets targetGroupName; else TargetGroupName.
func (s *StandIn) targetGroupNamer(ctx context.Context, gw *gwv1.Gateway) (TargetGroupNamer, error) {
	cfgs := &unstructured.UnstructuredList{}
	cfgs.SetGroupVersionKind(schema.GroupVersionKind{Group: "gateway.k8s.aws", Version: "v1beta1", Kind: "TargetGroupConfigurationList"})
	if err := s.Client.List(ctx, cfgs); err != nil && !meta.IsNoMatchError(err) {
		return nil, err
	}
	return func(rt Route, sp ServicePort) string {
		for _, c := range cfgs.Items {
			target, _, _ := unstructured.NestedString(c.Object, "spec", "targetReference", "name")
			kind, _, _ := unstructured.NestedString(c.Object, "spec", "targetReference", "kind")
			if c.GetNamespace() != sp.Service.Namespace || target != sp.Service.Name || kind != "" && kind != "Service" {
				continue
			}
			routes, _, _ := unstructured.NestedSlice(c.Object, "spec", "routeConfigurations")
			for _, r := range routes {
				rc, _ := r.(map[string]any)
				id, _, _ := unstructured.NestedStringMap(rc, "routeIdentifier")
				if (id["kind"] == "" || id["kind"] == rt.Kind) && (id["namespace"] == "" || id["namespace"] == rt.Namespace) && (id["name"] == "" || id["name"] == rt.Name) {
					if n, _, _ := unstructured.NestedString(rc, "targetGroupProps", "targetGroupName"); n != "" {
						return n
					}
				}
			}
			if n, _, _ := unstructured.NestedString(c.Object, "spec", "defaultConfiguration", "targetGroupName"); n != "" {
				return n
			}
		}
		return TargetGroupName(gw.Namespace, gw.Name, rt, sp)
	}, nil
}
