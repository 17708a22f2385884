package routes

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// LegacySection is the section name that parentRefs written before each hostname had its own
// listener carry: the single HTTPS listener of a pool Gateway, gone once the Gateway has seats.
const LegacySection = "https"

// Hostname is one hostname of a route and the claim that answers for it: the hostname's own
// claim, or, for a name without one, the wildcard claim one label above it; nil when neither
// exists.
type Hostname struct {
	Name  string
	Claim *v1alpha1.DomainClaim
}

// Route is what the plan needs of an HTTPRoute or GRPCRoute.
type Route struct {
	Namespace   string
	Annotations map[string]string
	ParentRefs  []gwv1.ParentReference
	Hostnames   []Hostname
	// Pool names the pool of the route's seated claims, for the notes.
	Pool string
}

// Plan is what the reconciler does to one route: the write (Mark, Add, Detach, DropSection and
// Record go out in one patch) and the Events.
type Plan struct {
	// Mark opts the route into automatic attachment.
	Mark bool
	// Add are the Gateways to add as parents.
	Add []v1alpha1.ObjectRef
	// Detach are the indexes of parentRefs the orchestrator added to pool Gateways that serve
	// none of the route's hostnames any more.
	Detach []int
	// DropSection are the indexes of parentRefs whose legacy section goes.
	DropSection []int
	// Record is the new value of the AnnotationAttachedTo record, nil when it stays as it is.
	Record *string
	// NotOwned are the notes of HostnameNotOwned Warnings, one per hostname.
	NotOwned []string
	// Spread is the note of a HostnamesSpread Event, or "".
	Spread string
}

// Changes reports whether the plan writes the route.
func (p Plan) Changes() bool {
	return p.Mark || len(p.Add) > 0 || len(p.Detach) > 0 || len(p.DropSection) > 0 || p.Record != nil
}

// PlanRoute decides, as pure data, what one route needs:
//   - a route without parentRefs and without the annotation, all of whose hostnames its namespace
//     owns, is opted into automatic attachment once one of them is seated: the mark and the
//     parentRefs go out in one write, so admission never has to mutate it;
//   - an opted-in route's pool parentRefs follow its hostnames' seats: it gets a parentRef to
//     every Gateway one of its hostnames (owned by its namespace) is seated on, loses the legacy
//     "https" section on those Gateways, and loses the parentRefs the orchestrator added (its
//     AnnotationAttachedTo record) to Gateways that seat none of them any more: the Gateway was
//     deleted, the claim moved, was transferred or released. The parentRefs a user wrote are
//     never removed. A route marked before the record existed adopts its parentRefs to the
//     Gateways it is seated on now;
//   - the detaching write goes out alone: admission lets a write that only removes parentRefs
//     through even when the route lists a hostname its namespace no longer owns, and that
//     write makes the route be reconciled again for the rest;
//   - a hostname another namespace owns, or whose claim is being deleted, gets a Warning;
//   - an opted-in route whose hostnames sit on several Gateways is told which serves which.
func PlanRoute(r Route) Plan {
	var p Plan
	seats := map[v1alpha1.ObjectRef][]string{}
	var order []v1alpha1.ObjectRef
	owned := len(r.Hostnames) > 0
	for _, h := range r.Hostnames {
		c := h.Claim
		switch {
		case c == nil:
			owned = false
		case !c.DeletionTimestamp.IsZero():
			owned = false
			p.NotOwned = append(p.NotOwned, fmt.Sprintf("DomainClaim %s is being deleted: no Gateway serves %s any more", c.Name, c.Spec.Hostname))
		case c.Spec.Namespace != r.Namespace:
			owned = false
			if meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionClaimed) {
				p.NotOwned = append(p.NotOwned, fmt.Sprintf("%s belongs to namespace %s (DomainClaim %s): this route does not serve it; remove it from spec.hostnames",
					c.Spec.Hostname, c.Spec.Namespace, c.Name))
			}
		case !c.OwnedBy(r.Namespace):
			owned = false
		}
		if gw := c.SeatFor(r.Namespace); gw != nil {
			if _, ok := seats[*gw]; !ok {
				order = append(order, *gw)
			}
			seats[*gw] = append(seats[*gw], h.Name)
		}
	}
	if !AutoAttached(r.Annotations, len(r.ParentRefs), owned) {
		return p
	}
	if _, marked := r.Annotations[v1alpha1.AnnotationAutoAttach]; !marked {
		if len(order) == 0 {
			return p
		}
		p.Mark = true
	}
	if len(order) > 1 {
		p.Spread = spreadNote(r.Pool, order, seats)
	}
	raw, hasRecord := r.Annotations[v1alpha1.AnnotationAttachedTo]
	recorded := parseRecord(raw)
	detached := map[v1alpha1.ObjectRef]bool{}
	for i, ref := range r.ParentRefs {
		gw := v1alpha1.ParentKey(r.Namespace, ref)
		if _, seated := seats[gw]; !seated && v1alpha1.IsGatewayRef(ref) && recorded[gw] {
			p.Detach = append(p.Detach, i)
			detached[gw] = true
		}
	}
	next := map[v1alpha1.ObjectRef]bool{}
	if len(p.Detach) > 0 {
		for gw := range recorded {
			if !detached[gw] {
				next[gw] = true
			}
		}
		p.Record = recordChange(raw, hasRecord, next)
		return p
	}
	adopt := !hasRecord && !p.Mark
	for _, gw := range order {
		switch {
		case !v1alpha1.HasParent(r.Namespace, r.ParentRefs, gw):
			p.Add = append(p.Add, gw)
			next[gw] = true
		case recorded[gw] || adopt:
			next[gw] = true
		}
	}
	for i, ref := range r.ParentRefs {
		if _, seated := seats[v1alpha1.ParentKey(r.Namespace, ref)]; seated && v1alpha1.IsGatewayRef(ref) &&
			ref.SectionName != nil && string(*ref.SectionName) == LegacySection {
			p.DropSection = append(p.DropSection, i)
		}
	}
	p.Record = recordChange(raw, hasRecord, next)
	return p
}

// AutoAttached reports whether the reconciler attaches a route to the pool Gateways its hostnames
// are seated on (PlanRoute): a route marked auto-attach "true", or one without the mark and
// without parentRefs (refs counts them) whose namespace owns all its hostnames, which is marked
// once one of them is seated. Admission uses it to treat such a route as on the pool already.
func AutoAttached(annotations map[string]string, refs int, owned bool) bool {
	v, marked := annotations[v1alpha1.AnnotationAutoAttach]
	if marked {
		return v == "true"
	}
	return refs == 0 && owned
}

// parseRecord reads an AnnotationAttachedTo value.
func parseRecord(raw string) map[v1alpha1.ObjectRef]bool {
	out := map[v1alpha1.ObjectRef]bool{}
	for _, s := range strings.Split(raw, ",") {
		if ns, name, ok := strings.Cut(strings.TrimSpace(s), "/"); ok && ns != "" && name != "" {
			out[v1alpha1.ObjectRef{Namespace: ns, Name: name}] = true
		}
	}
	return out
}

// recordChange is the record's new value when it differs from raw (hasRecord: whether the route
// has one), or nil.
func recordChange(raw string, hasRecord bool, gws map[v1alpha1.ObjectRef]bool) *string {
	parts := make([]string, 0, len(gws))
	for gw := range gws {
		parts = append(parts, gw.Namespace+"/"+gw.Name)
	}
	sort.Strings(parts)
	next := strings.Join(parts, ",")
	if next == raw && (hasRecord || next == "") {
		return nil
	}
	return &next
}

// spreadNote says which Gateway serves which of a route's hostnames.
func spreadNote(pool string, order []v1alpha1.ObjectRef, seats map[v1alpha1.ObjectRef][]string) string {
	gws := append([]v1alpha1.ObjectRef(nil), order...)
	sort.Slice(gws, func(i, j int) bool {
		return gws[i].Namespace+"/"+gws[i].Name < gws[j].Namespace+"/"+gws[j].Name
	})
	parts := make([]string, 0, len(gws))
	for _, g := range gws {
		parts = append(parts, fmt.Sprintf("Gateway %s/%s serves %s", g.Namespace, g.Name, strings.Join(seats[g], ", ")))
	}
	return fmt.Sprintf("this route's hostnames are spread over %d Gateways of pool %s, one parentRef each: %s",
		len(gws), pool, strings.Join(parts, "; "))
}

// Apply writes the plan's changes into the route's annotations and parentRefs.
func (p Plan) Apply(annotations *map[string]string, refs *[]gwv1.ParentReference) {
	if (p.Mark || p.Record != nil) && *annotations == nil {
		*annotations = map[string]string{}
	}
	if p.Mark {
		(*annotations)[v1alpha1.AnnotationAutoAttach] = "true"
	}
	if p.Record != nil {
		// An empty record stays: it tells a route with nothing recorded from one marked before
		// records existed, whose parentRefs are adopted.
		(*annotations)[v1alpha1.AnnotationAttachedTo] = *p.Record
	}
	for _, i := range p.DropSection {
		(*refs)[i].SectionName = nil
	}
	if len(p.Detach) > 0 {
		gone := map[int]bool{}
		for _, i := range p.Detach {
			gone[i] = true
		}
		kept := make([]gwv1.ParentReference, 0, len(*refs)-len(p.Detach))
		for i, ref := range *refs {
			if !gone[i] {
				kept = append(kept, ref)
			}
		}
		*refs = kept
	}
	for _, gw := range p.Add {
		*refs = append(*refs, v1alpha1.ParentRef(gw))
	}
}
