package gatewaypool

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/webhook"
)

// Route event reasons. The AWS Load Balancer Controller owns the status.parents entries of routes
// on its Gateways and overwrites them, so the orchestrator explains itself with Events on the
// route and conditions on the claim instead.
const (
	// EventHostnameNotOwned: a route lists a hostname its namespace does not own (any more).
	EventHostnameNotOwned = "HostnameNotOwned"
	// EventHostnamesSpread: a route's hostnames sit on several Gateways of a pool.
	EventHostnamesSpread = "HostnamesSpread"
)

// routeRef is a route of either kind, as the pool reports it.
type routeRef struct {
	obj       client.Object
	kind      string
	hostnames []gwv1.Hostname
}

func (r routeRef) String() string {
	return r.kind + " " + r.obj.GetNamespace() + "/" + r.obj.GetName()
}

// routesListing returns the HTTPRoutes and GRPCRoutes, of any namespace, that list a hostname
// claim c answers for: its own, or for a wildcard claim, the names one label below it that have
// no claim of their own.
func (r *Reconciler) routesListing(ctx context.Context, c *v1alpha1.DomainClaim, claimNames map[string]bool, grpcs *gwv1.GRPCRouteList) ([]routeRef, error) {
	var out []routeRef
	var https gwv1.HTTPRouteList
	if err := r.Client.List(ctx, &https, client.MatchingFields{index.RouteHostname: c.Spec.Hostname}); err != nil {
		return nil, err
	}
	for i := range https.Items {
		rt := &https.Items[i]
		if answersFor(c, rt.Spec.Hostnames, claimNames) {
			out = append(out, routeRef{obj: rt, kind: "HTTPRoute", hostnames: rt.Spec.Hostnames})
		}
	}
	for i := range grpcs.Items {
		rt := &grpcs.Items[i]
		if answersFor(c, rt.Spec.Hostnames, claimNames) {
			out = append(out, routeRef{obj: rt, kind: "GRPCRoute", hostnames: rt.Spec.Hostnames})
		}
	}
	return out, nil
}

func answersFor(c *v1alpha1.DomainClaim, hostnames []gwv1.Hostname, claimNames map[string]bool) bool {
	return hostnamesOf(c, hostnames, claimNames) > 0
}

// hostnamesOf counts the hostnames of a route that claim c answers for: its own, and for a
// wildcard claim, the names one label below it that have no claim of their own.
func hostnamesOf(c *v1alpha1.DomainClaim, hostnames []gwv1.Hostname, claimNames map[string]bool) int32 {
	n := int32(0)
	for _, raw := range hostnames {
		h, err := hostname.Normalize(string(raw))
		if err != nil {
			continue
		}
		if h == c.Spec.Hostname ||
			hostname.IsWildcard(c.Spec.Hostname) && !hostname.IsWildcard(h) && "*."+hostname.Parent(h) == c.Spec.Hostname && !claimNames[hostname.ClaimName(h)] {
			n++
		}
	}
	return n
}

// ALBRules is how many ALB rules LBC makes for a route on one hostname: one per route rule and
// match (a rule without matches has one), and at least one for a route without rules.
func ALBRules(matchesPerRule []int) int32 {
	n := int32(0)
	for _, m := range matchesPerRule {
		n += max(1, int32(m))
	}
	return max(1, n)
}

func httpMatches(rt *gwv1.HTTPRoute) []int {
	out := make([]int, 0, len(rt.Spec.Rules))
	for _, r := range rt.Spec.Rules {
		out = append(out, len(r.Matches))
	}
	return out
}

func grpcMatches(rt *gwv1.GRPCRoute) []int {
	out := make([]int, 0, len(rt.Spec.Rules))
	for _, r := range rt.Spec.Rules {
		out = append(out, len(r.Matches))
	}
	return out
}

// strayRoutes finds, for every claim of the pool, the routes that list its hostname but cannot
// serve it: routes of another namespace (after a transfer, or created where admission does not
// look), and routes of a claim that is being deleted. The listeners already keep them off the
// ALB; each such route gets a Warning Event, and the names go into the claim's StrayRoutes
// condition (claims being deleted have no status to speak of).
func (r *Reconciler) strayRoutes(ctx context.Context, claims []*v1alpha1.DomainClaim) (map[string][]string, error) {
	claimNames := map[string]bool{}
	for _, c := range claims {
		claimNames[c.Name] = true
	}
	var grpcs gwv1.GRPCRouteList
	if err := r.Client.List(ctx, &grpcs); err != nil {
		return nil, err
	}
	strays := map[string][]string{}
	for _, c := range claims {
		deleting := !c.DeletionTimestamp.IsZero()
		if !deleting && !claimed(c) {
			continue
		}
		routes, err := r.routesListing(ctx, c, claimNames, &grpcs)
		if err != nil {
			return nil, err
		}
		for _, rt := range routes {
			var note string
			switch {
			case deleting:
				note = fmt.Sprintf("DomainClaim %s is being deleted: no Gateway of the pool serves %s any more", c.Name, c.Spec.Hostname)
			case rt.obj.GetNamespace() != c.Spec.Namespace:
				note = fmt.Sprintf("%s belongs to namespace %s (DomainClaim %s): this route does not serve it; remove it from spec.hostnames",
					c.Spec.Hostname, c.Spec.Namespace, c.Name)
				strays[c.Name] = append(strays[c.Name], rt.String())
			default:
				continue
			}
			r.tell(rt.obj, "Warning", EventHostnameNotOwned, note)
		}
		sort.Strings(strays[c.Name])
	}
	return strays, nil
}

// tell records an Event on a route once per distinct note, so that reconciling again does not
// repeat it.
func (r *Reconciler) tell(o client.Object, typ, reason, note string) {
	key := string(o.GetUID()) + "/" + reason
	if prev, ok := r.told.Load(key); ok && prev == note {
		return
	}
	r.told.Store(key, note)
	if r.Recorder != nil {
		r.Recorder.Eventf(o, nil, typ, reason, "Route", "%s", note)
	}
}

// reviewOwnRoutes looks at the opted-in HTTPRoutes of the pool's owners: it moves their parentRefs
// off the single "https" listener that pool Gateways had before each hostname got its own (a
// parentRef without a section attaches to every listener that admits the route), and tells a route
// whose hostnames are spread over several Gateways which Gateway serves which of them.
func (r *Reconciler) reviewOwnRoutes(ctx context.Context, pool *v1alpha1.GatewayPool, claims []*v1alpha1.DomainClaim) error {
	byHost := map[string]*v1alpha1.DomainClaim{}
	owners := map[string]bool{}
	for _, c := range claims {
		if claimed(c) && c.Status.Gateway != nil {
			byHost[c.Spec.Hostname] = c
			owners[c.Spec.Namespace] = true
		}
	}
	for ns := range owners {
		var routes gwv1.HTTPRouteList
		if err := r.Client.List(ctx, &routes, client.InNamespace(ns)); err != nil {
			return err
		}
		for i := range routes.Items {
			rt := &routes.Items[i]
			if rt.Annotations[webhook.AnnotationAutoAttach] != "true" {
				continue
			}
			if err := r.dropLegacySection(ctx, pool, rt); err != nil {
				return err
			}
			served := map[string][]string{} // gateway → hostnames
			for _, raw := range rt.Spec.Hostnames {
				h := string(raw)
				c := byHost[h]
				if p := hostname.Parent(h); c == nil && !hostname.IsWildcard(h) && p != "" {
					c = byHost["*."+p] // the owner's wildcard covers one label below it
				}
				if c != nil && c.Spec.Namespace == rt.Namespace {
					served[c.Status.Gateway.Name] = append(served[c.Status.Gateway.Name], h)
				}
			}
			if len(served) > 1 {
				r.tell(rt, "Normal", EventHostnamesSpread, spreadNote(pool, served))
			}
		}
	}
	return nil
}

// spreadNote says which Gateway serves which of a route's hostnames.
func spreadNote(pool *v1alpha1.GatewayPool, served map[string][]string) string {
	gateways := make([]string, 0, len(served))
	for g := range served {
		gateways = append(gateways, g)
	}
	sort.Strings(gateways)
	parts := make([]string, 0, len(gateways))
	for _, g := range gateways {
		parts = append(parts, fmt.Sprintf("Gateway %s/%s serves %s", pool.Spec.Namespace, g, strings.Join(served[g], ", ")))
	}
	return fmt.Sprintf("this route's hostnames are spread over %d Gateways of pool %s, one parentRef each: %s",
		len(gateways), pool.Name, strings.Join(parts, "; "))
}

// dropLegacySection removes sectionName "https" from an opted-in route's parentRefs to the
// pool's Gateways: that listener no longer exists once a Gateway has seats.
func (r *Reconciler) dropLegacySection(ctx context.Context, pool *v1alpha1.GatewayPool, rt *gwv1.HTTPRoute) error {
	patch := client.MergeFrom(rt.DeepCopy())
	changed := false
	for i, p := range rt.Spec.ParentRefs {
		if p.Namespace != nil && string(*p.Namespace) == pool.Spec.Namespace && gatewayNumber(pool.Name, string(p.Name)) > 0 &&
			p.SectionName != nil && string(*p.SectionName) == webhook.HTTPSListener {
			rt.Spec.ParentRefs[i].SectionName = nil
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return client.IgnoreNotFound(r.Client.Patch(ctx, rt, patch))
}
