package webhook

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
)

// seatedParents denies the parentRefs of a route in namespace ns that name a pool Gateway on
// which none of the route's hostnames is seated, while every one of them is seated elsewhere:
// such a parentRef attaches to no listener (each listener carries one seated hostname) and only
// hides where the route is really served. The denial names the Gateways that serve the
// hostnames. A hostname still waiting for a seat leaves the route's parentRefs alone, because its
// seat is not decided yet; the listeners keep the route from serving anything else meanwhile.
// parentRefs also in oldRefs (those an update keeps) are not checked.
//
// A parentRef to a pool Gateway that serves some of the route's hostnames may name in
// sectionName only the listeners of those hostnames: any other listener of the Gateway carries
// another hostname, often another namespace's, and would never accept the route, which would
// then be admitted and silently serve nothing. A sectionName an update keeps is not checked.
func (door *Door) seatedParents(ctx context.Context, ns string, refs, oldRefs []gwv1.ParentReference, hostnames []gwv1.Hostname) (field.ErrorList, error) {
	var added, sectioned []int
	for i, p := range refs {
		if !v1alpha1.IsGatewayRef(p) {
			continue
		}
		if !v1alpha1.HasParent(ns, oldRefs, v1alpha1.ParentKey(ns, p)) {
			added = append(added, i)
		}
		if p.SectionName != nil && !hasSection(ns, oldRefs, p) {
			sectioned = append(sectioned, i)
		}
	}
	if len(added)+len(sectioned) == 0 || len(hostnames) == 0 {
		return nil, nil
	}
	seats := map[v1alpha1.ObjectRef][]string{}
	listeners := map[v1alpha1.ObjectRef][]string{} // the HTTPS and HTTP listeners of the seats
	seen := map[string]bool{}
	for _, raw := range hostnames {
		h, err := hostname.Normalize(string(raw))
		if err != nil || seen[h] {
			continue
		}
		seen[h] = true
		gw, claim, err := door.seat(ctx, h, ns)
		if err != nil {
			return nil, err
		}
		if gw == nil {
			return nil, nil // not every hostname has a seat yet
		}
		seats[*gw] = append(seats[*gw], h)
		if !slices.Contains(listeners[*gw], claim) {
			listeners[*gw] = append(listeners[*gw], claim, v1alpha1.HTTPListenerName(claim))
		}
	}
	if len(seats) == 0 {
		return nil, nil
	}
	var errs field.ErrorList
	for _, i := range added {
		gw := v1alpha1.ParentKey(ns, refs[i])
		if _, ok := seats[gw]; ok {
			continue
		}
		pool, err := poolGateway(ctx, door.Reader, gw)
		if err != nil {
			return nil, err
		}
		if pool {
			errs = append(errs, field.Forbidden(field.NewPath("spec", "parentRefs").Index(i), fmt.Sprintf(
				"pool Gateway %s/%s serves none of this route's hostnames: %s; name that Gateway instead, or leave spec.parentRefs empty and the orchestrator attaches the route where its hostnames are seated",
				gw.Namespace, gw.Name, servedBy(seats))))
		}
	}
	for _, i := range sectioned {
		gw := v1alpha1.ParentKey(ns, refs[i])
		section := string(*refs[i].SectionName)
		if _, ok := seats[gw]; !ok || slices.Contains(listeners[gw], section) {
			continue // a Gateway serving none of the hostnames is the check above's
		}
		own, pool, err := door.ownListeners(ctx, gw, listeners[gw])
		if err != nil {
			return nil, err
		}
		if pool {
			errs = append(errs, field.Forbidden(field.NewPath("spec", "parentRefs").Index(i).Child("sectionName"), fmt.Sprintf(
				"listener %q of pool Gateway %s/%s does not serve this route's hostnames (each listener serves one seated hostname to its owner only); name one of its listeners for them (%s), or leave sectionName out",
				section, gw.Namespace, gw.Name, strings.Join(own, ", "))))
		}
	}
	return errs, nil
}

// ownListeners reads pool Gateway gw from the cache and returns those of names that are its
// listeners (an HTTP listener exists only when the pool's template asks for one); pool is false
// for a Gateway that is not a pool's, or not in the cache.
func (door *Door) ownListeners(ctx context.Context, gw v1alpha1.ObjectRef, names []string) (own []string, pool bool, err error) {
	if door.Reader == nil {
		return nil, false, nil
	}
	obj := &gwv1.Gateway{}
	if err := door.Reader.Get(ctx, client.ObjectKey{Namespace: gw.Namespace, Name: gw.Name}, obj); err != nil {
		return nil, false, client.IgnoreNotFound(err)
	}
	if obj.Labels[LabelPool] == "" {
		return nil, false, nil
	}
	for _, l := range obj.Spec.Listeners {
		if slices.Contains(names, string(l.Name)) {
			own = append(own, string(l.Name))
		}
	}
	if len(own) == 0 {
		own = names[:1] // the HTTPS listener of the first seat, about to be written
	}
	return own, true, nil
}

// hasSection reports whether refs has parentRef p of a route in namespace ns: the same Gateway
// and the same sectionName.
func hasSection(ns string, refs []gwv1.ParentReference, p gwv1.ParentReference) bool {
	for _, o := range refs {
		if v1alpha1.IsGatewayRef(o) && v1alpha1.ParentKey(ns, o) == v1alpha1.ParentKey(ns, p) &&
			o.SectionName != nil && p.SectionName != nil && *o.SectionName == *p.SectionName {
			return true
		}
	}
	return false
}

// seat is the Gateway that serves hostname h to namespace ns, and the claim whose listener does:
// the seat of its own claim, or of the wildcard claim above it when it has none; nil when it has
// no seat (yet).
func (door *Door) seat(ctx context.Context, h, ns string) (*v1alpha1.ObjectRef, string, error) {
	names := []string{hostname.ClaimName(h)}
	if p := hostname.Parent(h); !hostname.IsWildcard(h) && p != "" {
		names = append(names, hostname.ClaimName("*."+p))
	}
	for _, n := range names {
		c, err := door.View.Claim(ctx, n)
		if err != nil {
			return nil, "", err
		}
		if c != nil {
			return c.SeatFor(ns), c.Name, nil
		}
	}
	return nil, "", nil
}

// servedBy says which Gateway serves which hostnames, in a stable order.
func servedBy(seats map[v1alpha1.ObjectRef][]string) string {
	parts := make([]string, 0, len(seats))
	for gw, hs := range seats {
		parts = append(parts, fmt.Sprintf("%s served by Gateway %s/%s", strings.Join(hs, ", "), gw.Namespace, gw.Name))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}
