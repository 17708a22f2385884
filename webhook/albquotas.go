package webhook

import (
	"context"
	"errors"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/albrules"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
	"github.com/opendi/gateway-orchestrator/reconciler/routes"
)

// MaxTargetGroupsPerAction is the ELBv2 quota "Target Groups per Action per Application Load
// Balancer" (5, not adjustable). LBC makes one target group per backendRef and puts a rule's
// backendRefs into one forward action, so ELBv2 refuses the rule of a route whose rule has more,
// and LBC's deploy of the whole Gateway fails with it.
const MaxTargetGroupsPerAction = 5

// MaxConditionValuesPerRule is the ELBv2 quota "Condition values per rule" (5) of an ALB rule,
// all its conditions together. LBC v3.0 to v3.4.2 makes one ALB rule per route match with one
// host-header condition holding all the route's hostnames (pkg/gateway/routeutils
// BuildHttpRuleConditions; from v3.4.3 one rule per hostname, which needs fewer): a value per
// hostname, the path's values (two for a PathPrefix other than "/": the path and the path
// followed by "/*"), one per header, query parameter and method. A rule without matches is one
// match of the path "/*".
const MaxConditionValuesPerRule = 5

// ruleShape is what one route rule asks of an ALB rule: its backendRefs, the condition values of
// each of its matches, and the kind of each backendRef ("" for the default, Service).
type ruleShape struct {
	backends     int
	matches      []int
	backendKinds []string
}

// TargetGroupNameKind is the backendRef kind by which LBC v3 forwards a route rule to an existing
// target group named by the backendRef's name. LBC reads the kind only, whatever the group, and
// checks neither the namespace nor the owner of the target group.
const TargetGroupNameKind = "TargetGroupName"

// GatewayBackendKind is the backendRef kind by which LBC v3 forwards to another Gateway's ALB
// through a target group of target type alb, which only an NLB forwards to: ELBv2 refuses such a
// target group for an ALB rule (its protocol would be HTTP or HTTPS, not TCP).
const GatewayBackendKind = "Gateway"

// backendKinds are the kinds of backendRefs, "" where none is set.
func backendKinds[B any](refs []B, ref func(B) gwv1.BackendRef) []string {
	out := make([]string, len(refs))
	for i, b := range refs {
		if k := ref(b).Kind; k != nil {
			out[i] = string(*k)
		}
	}
	return out
}

// hostValues is the number of values of a rule's host-header condition: all the route's
// hostnames, at least one (a pool route must name them).
func hostValues(hostnames []gwv1.Hostname) int {
	return max(1, len(hostnames))
}

func httpShapes(r *gwv1.HTTPRoute) []ruleShape {
	hosts := hostValues(r.Spec.Hostnames)
	out := make([]ruleShape, len(r.Spec.Rules))
	for i, rule := range r.Spec.Rules {
		out[i].backends = len(rule.BackendRefs)
		out[i].backendKinds = backendKinds(rule.BackendRefs, func(b gwv1.HTTPBackendRef) gwv1.BackendRef { return b.BackendRef })
		if len(rule.Matches) == 0 {
			out[i].matches = []int{hosts + 1} // the hosts and "/*"
		}
		for _, m := range rule.Matches {
			n := hosts + len(m.Headers) + len(m.QueryParams) // the hosts, then one each
			if m.Method != nil {
				n++
			}
			switch {
			case m.Path == nil || m.Path.Value == nil || m.Path.Type == nil || *m.Path.Type != gwv1.PathMatchPathPrefix || *m.Path.Value == "/":
				n++
			default:
				n += 2
			}
			out[i].matches = append(out[i].matches, n)
		}
	}
	return out
}

func grpcShapes(r *gwv1.GRPCRoute) []ruleShape {
	hosts := hostValues(r.Spec.Hostnames)
	out := make([]ruleShape, len(r.Spec.Rules))
	for i, rule := range r.Spec.Rules {
		out[i].backends = len(rule.BackendRefs)
		out[i].backendKinds = backendKinds(rule.BackendRefs, func(b gwv1.GRPCBackendRef) gwv1.BackendRef { return b.BackendRef })
		if len(rule.Matches) == 0 {
			out[i].matches = []int{hosts + 1} // the hosts and "/*"
		}
		for _, m := range rule.Matches {
			out[i].matches = append(out[i].matches, hosts+1+len(m.Headers)) // the hosts, the method's path, one per header
		}
	}
	return out
}

// albQuotas denies the rules a shared pool ALB cannot take, for a route on a pool Gateway: named
// in its parentRefs, or one the routes reconciler attaches to the pool (routes.AutoAttached: in a
// cluster with a GatewayPool, marked auto-attach "true", or without the mark and parentRefs and
// with every hostname under a ManagedZone, so that its namespace owns them once admitted). The
// rules denied have more backendRefs than one ALB action forwards to, or a match with more
// condition values than an ALB rule holds. ELBv2 refuses such a rule and LBC's deploy of the
// whole Gateway fails with it, so one team would stop LBC programming the ALB every team shares:
// new seats, and the listener changes that move a transferred hostname away from its former
// owner. On its own Gateway a team breaks only its own ALB, which LBC reports there; a route the
// reconciler never attaches (an unmanaged hostname, no pool) is left alone. A backendRef of kind
// Gateway is denied there for the same reason (ELBv2 refuses its target group for an ALB), and
// one of kind TargetGroupName because on an ALB every team shares it could forward a team's
// hostname to another team's target group (its Services, past the other team's own rules), and a
// name no target group has fails LBC's deploy of the whole Gateway.
func (door *Door) albQuotas(ctx context.Context, meta *metav1.ObjectMeta, refs []gwv1.ParentReference, hostnames []gwv1.Hostname, shapes []ruleShape) (field.ErrorList, error) {
	var errs, named field.ErrorList
	rules := field.NewPath("spec", "rules")
	for i, s := range shapes {
		for j, k := range s.backendKinds {
			switch k {
			case TargetGroupNameKind:
				named = append(named, field.Forbidden(rules.Index(i).Child("backendRefs").Index(j), fmt.Sprintf(
					"a backendRef of kind %s forwards to an ALB target group by its name, which on a shared load balancer may be another team's "+
						"(LBC looks the name up in the AWS account, whoever made the target group), and a name no target group has stops LBC programming the load balancer; "+
						"name a Service of your namespace instead", TargetGroupNameKind)))
			case GatewayBackendKind:
				errs = append(errs, field.Forbidden(rules.Index(i).Child("backendRefs").Index(j), fmt.Sprintf(
					"a backendRef of kind %s makes a target group of target type alb, which only a Network Load Balancer forwards to (ELBv2 refuses it for an ALB rule); "+
						"name a Service instead", GatewayBackendKind)))
			}
		}
		if s.backends > MaxTargetGroupsPerAction {
			errs = append(errs, field.Forbidden(rules.Index(i).Child("backendRefs"), fmt.Sprintf(
				"%d backendRefs in one rule, but an ALB rule forwards to at most %d target groups (an AWS quota that cannot be raised); "+
					"split the rule into rules of at most %d backendRefs", s.backends, MaxTargetGroupsPerAction, MaxTargetGroupsPerAction)))
		}
		for j, n := range s.matches {
			if n > MaxConditionValuesPerRule {
				errs = append(errs, field.Forbidden(rules.Index(i).Child("matches").Index(j), fmt.Sprintf(
					"the match needs %d ALB condition values (one per hostname of the route, the path's, one per header, query parameter and method), "+
						"but an ALB rule holds at most %d (an AWS quota); split it into matches with fewer conditions, or the route into routes with fewer hostnames", n, MaxConditionValuesPerRule)))
			}
		}
	}
	if len(errs) == 0 && len(named) == 0 {
		return nil, nil
	}
	where, err := door.poolPlace(ctx, meta, refs, hostnames)
	if err != nil || where == "" {
		return nil, err
	}
	for _, e := range errs {
		e.Detail += "; " + where + ", whose ALB every team shares and which LBC could not program any more"
	}
	for _, e := range named {
		e.Detail += "; " + where + ", whose ALB every team shares"
	}
	return append(errs, named...), nil
}

// poolPlace says why a route is on a shared pool Gateway, or "" when it is not: the routes
// reconciler attaches it (see albQuotas), or a parentRef names a pool Gateway.
func (door *Door) poolPlace(ctx context.Context, meta *metav1.ObjectMeta, refs []gwv1.ParentReference, hostnames []gwv1.Hostname) (string, error) {
	managed := len(hostnames) > 0
	for _, raw := range hostnames {
		h, err := hostname.Normalize(string(raw))
		if err != nil {
			return "", nil // denied as invalid anyway, and never attached
		}
		z, err := ownership.FindZone(ctx, door.View, h)
		if err != nil {
			return "", err
		}
		managed = managed && z != nil
	}
	if routes.AutoAttached(meta.Annotations, len(refs), managed) && door.Reader != nil {
		var pools v1alpha1.GatewayPoolList
		if err := door.Reader.List(ctx, &pools); err != nil {
			return "", err
		}
		if len(pools.Items) > 0 {
			if len(refs) > 0 {
				return fmt.Sprintf("the route is marked %s=true: it is attached to a shared pool Gateway", v1alpha1.AnnotationAutoAttach), nil
			}
			return "without parentRefs the route is attached to a shared pool Gateway", nil
		}
	}
	gw, err := door.poolParent(ctx, meta.Namespace, refs)
	if err != nil || gw == "" {
		return "", err
	}
	return "the route is attached to the shared pool Gateway " + gw, nil
}

// gatewayRules denies a route on a shared pool Gateway (poolPlace) whose ALB rules, together with
// those of its namespace's other routes for the same hostname, are more than one Gateway of the
// hostname's pool holds (maxRulesPerGateway), counted as the pool counts them (albrules: one per
// route rule, match and hostname, an HTTPRoute's on the HTTP listener too when the pool has it).
// A hostname is served by one Gateway, so admitted, such a route would leave its hostname no seat
// at all: the pool would unseat the whole claim and its ALIAS would go, taking every route of the
// hostname offline for one edit. The pool's own check stays the safety net for what admission
// does not see (a pool's limit lowered later, routes admitted by other replicas at once); an
// update that adds no rules to its route passes even over the limit, so that the owner of a
// hostname left without a seat that way can shrink its routes step by step.
func (door *Door) gatewayRules(ctx context.Context, kind string, meta *metav1.ObjectMeta, refs []gwv1.ParentReference, hostnames []gwv1.Hostname, shapes []ruleShape) (field.ErrorList, error) {
	if door.Reader == nil || len(hostnames) == 0 {
		return nil, nil
	}
	matches := make([]int, len(shapes))
	for i, s := range shapes {
		matches[i] = len(s.matches)
	}
	perHostname := albrules.PerHostname(matches)
	var errs field.ErrorList
	seen := map[string]bool{}
	where := ""
	for _, raw := range hostnames {
		h, err := hostname.Normalize(string(raw))
		if err != nil {
			return nil, nil // denied as invalid anyway
		}
		claimHost, err := door.servingClaim(ctx, h, meta.Namespace)
		if err != nil {
			return nil, err
		}
		if claimHost == "" || seen[claimHost] {
			continue
		}
		seen[claimHost] = true
		pool, err := door.poolOf(ctx, claimHost)
		if err != nil {
			return nil, err
		}
		if pool == nil {
			continue
		}
		http := pool.Spec.Template.HTTPListener
		claim := hostname.ClaimName(claimHost)
		var lookupErr error
		ownClaim := func(name string) bool {
			c, err := door.View.Claim(ctx, name)
			lookupErr = errors.Join(lookupErr, err)
			return c != nil
		}
		mine := perHostname * albrules.Hostnames(claimHost, hostnames, ownClaim)
		if kind == "HTTPRoute" {
			mine *= albrules.HTTPListeners(refs, claim, http)
		}
		others, before, names, err := door.otherRoutesRules(ctx, kind, meta, claimHost, claim, http, ownClaim)
		if err = errors.Join(err, lookupErr); err != nil {
			return nil, err
		}
		if mine+others <= pool.Spec.MaxRulesPerGateway || mine <= before {
			continue // fits, or an update that adds no rules (the pool's limit was lowered under it)
		}
		if where == "" {
			if where, err = door.poolPlace(ctx, meta, refs, hostnames); err != nil || where == "" {
				return nil, err
			}
		}
		listeners := "HTTPS"
		if http {
			listeners = "HTTPS and HTTP (the pool has the HTTP listener, and the ALB's rule quota counts both)"
		}
		also := ""
		if len(names) > 0 {
			also = fmt.Sprintf(", and %d for the namespace's other routes of the hostname (%s)", others, strings.Join(names, ", "))
		}
		errs = append(errs, field.Forbidden(field.NewPath("spec", "rules"), fmt.Sprintf(
			"%s would need %d ALB rules on one Gateway: %d for this route%s, one per rule, match and hostname on %s; "+
				"a Gateway of pool %s holds at most %d (maxRulesPerGateway) and a hostname is served by one Gateway, so admitting the route would leave %s no seat and take it offline; "+
				"use fewer rules or matches (a PathPrefix match covers the paths below it), or serve some paths on another hostname; %s",
			claimHost, mine+others, mine, also, listeners, pool.Name, pool.Spec.MaxRulesPerGateway, claimHost, where)))
	}
	return errs, nil
}

// servingClaim is the hostname of the claim that serves h to namespace ns: h's own claim, or the
// wildcard claim of ns above it when h has none; h itself for a hostname not claimed yet (its
// claim is about to be made); "" when the claim is another namespace's (denied anyway).
func (door *Door) servingClaim(ctx context.Context, h, ns string) (string, error) {
	c, err := door.View.Claim(ctx, hostname.ClaimName(h))
	if err != nil || c != nil {
		if c != nil && c.Spec.Namespace != ns {
			return "", err
		}
		return h, err
	}
	if p := hostname.Parent(h); !hostname.IsWildcard(h) && p != "" {
		w, err := door.View.Claim(ctx, hostname.ClaimName("*."+p))
		if err != nil {
			return "", err
		}
		if w != nil && w.Spec.Namespace == ns {
			return w.Spec.Hostname, nil
		}
	}
	return h, nil
}

// poolOf is the GatewayPool that serves hostname h (through its ManagedZone), or nil.
func (door *Door) poolOf(ctx context.Context, h string) (*v1alpha1.GatewayPool, error) {
	z, err := ownership.FindZone(ctx, door.View, h)
	if err != nil || z == nil || z.Spec.GatewayPoolRef == nil {
		return nil, err
	}
	pool := &v1alpha1.GatewayPool{}
	if err := door.Reader.Get(ctx, client.ObjectKey{Name: z.Spec.GatewayPoolRef.Name}, pool); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	return pool, nil
}

// otherRoutesRules counts the ALB rules of the other HTTPRoutes and GRPCRoutes of the route's
// namespace on the seat of the claim of claimHost, read from the cache through the RouteHostname
// index, as the pool counts them, and names them. The route being admitted is left out (an update
// replaces it); before is what its version in the cache counts (0 for a new route).
func (door *Door) otherRoutesRules(ctx context.Context, kind string, meta *metav1.ObjectMeta, claimHost, claim string, http bool,
	ownClaim func(string) bool) (others, before int32, names []string, err error) {
	in := []client.ListOption{client.InNamespace(meta.Namespace), client.MatchingFields{index.RouteHostname: claimHost}, client.UnsafeDisableDeepCopy}
	var https gwv1.HTTPRouteList
	if err := door.Reader.List(ctx, &https, in...); err != nil {
		return 0, 0, nil, err
	}
	var grpcs gwv1.GRPCRouteList
	if err := door.Reader.List(ctx, &grpcs, in...); err != nil {
		return 0, 0, nil, err
	}
	count := func(routeKind, name string, rules int32) {
		if routeKind == kind && name == meta.Name {
			before = rules
			return
		}
		others += rules
		names = append(names, routeKind+" "+name)
	}
	for i := range https.Items {
		rt := &https.Items[i]
		if k := albrules.Hostnames(claimHost, rt.Spec.Hostnames, ownClaim); k > 0 {
			count("HTTPRoute", rt.Name, albrules.HTTPRoute(rt, claim, http)*k)
		}
	}
	for i := range grpcs.Items {
		rt := &grpcs.Items[i]
		if k := albrules.Hostnames(claimHost, rt.Spec.Hostnames, ownClaim); k > 0 {
			count("GRPCRoute", rt.Name, albrules.GRPCRoute(rt)*k)
		}
	}
	return others, before, names, nil
}
