package claim

import (
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// Default retention periods, used when no ManagedZone gives one.
const (
	DefaultRetention       = 24 * time.Hour
	DefaultUnusedRetention = 5 * time.Minute
)

// Usage is what the reconciler observed about a claim.
type Usage struct {
	// Routes names the owning namespace's objects that use the hostname, with their kinds
	// ("HTTPRoute team-a/shop").
	Routes []string
	// TLSRoutes names the owning namespace's TLSRoutes that list the hostname ("TLSRoute
	// team-a/db"). LBC finds the certificates of their Gateway's NLB by these names, so they
	// keep the claim in use; but they bind nothing, so they take no pool seat and provision
	// nothing (PlanBind reads Routes only).
	TLSRoutes []string
	// Zone is the covering ManagedZone, if any.
	Zone *v1alpha1.ManagedZone
	// Now is the current time.
	Now time.Time
	// Owner says what became of the owning namespace: OwnerLive, OwnerDeleted or OwnerRecreated.
	Owner OwnerState
}

// OwnerState is what became of a claim's owning namespace.
type OwnerState int

const (
	// OwnerLive: the namespace exists (or the claim never recorded it).
	OwnerLive OwnerState = iota
	// OwnerDeleted: the namespace does not exist.
	OwnerDeleted
	// OwnerRecreated: a namespace of that name exists, but not the one the claim recorded.
	OwnerRecreated
)

// Release is the release plan for a claim: whether it is in use, when it will be released, and
// whether that time has come.
type Release struct {
	InUse          bool
	Reason         string
	Message        string
	LastReferenced *time.Time
	ReleaseAt      *time.Time
	ReleaseNow     bool
}

// PlanRelease decides, as pure data, what happens to a claim given its usage. A route-made claim
// that is not used is released after a retention period: the zone's claimRetention once a route
// has used it (so a redeploy keeps the name), its unusedClaimRetention when no route ever did (the
// route's creation was denied or rolled back after the claim was made), counted from creation.
// The claim's own spec.retention overrides both. A mark admission left when it admitted an object
// for the idle claim (v1alpha1.AnnotationLastAdmitted) counts as a use at its time, so a release
// never overtakes an object admitted a moment before it. Admin claims are never released. A TLSRoute of
// the owning namespace listing the hostname keeps the claim in use like any route.
func PlanRelease(c *v1alpha1.DomainClaim, u Usage) Release {
	st := c.Status
	if users := append(slices.Clip(u.Routes), u.TLSRoutes...); len(users) > 0 {
		r := Release{InUse: true, Reason: v1alpha1.ReasonRouteFound, Message: "used by " + joinMax(users, 5)}
		r.LastReferenced = timePtr(st.LastReferencedTime)
		if r.LastReferenced == nil || st.ReleaseTime != nil || !inUse(c) {
			r.LastReferenced = &u.Now
		}
		return r
	}
	if c.Spec.ClaimedBy != v1alpha1.ClaimedByRoute {
		msg := "no route uses the hostname; an admin's claim is kept until it is deleted"
		if u.Owner == OwnerDeleted {
			msg = fmt.Sprintf("namespace %s does not exist; an admin's claim is kept until it is deleted, and a namespace created under that name gets it", c.Spec.Namespace)
		}
		return Release{Reason: v1alpha1.ReasonAdminClaim, Message: msg, LastReferenced: timePtr(st.LastReferencedTime)}
	}
	r := Release{Reason: v1alpha1.ReasonNoRoutes, LastReferenced: timePtr(st.LastReferencedTime)}
	switch {
	case st.ReleaseTime != nil:
		t := st.ReleaseTime.Time
		r.ReleaseAt = &t
	case st.LastReferencedTime != nil:
		t := u.Now.Add(retention(c, u.Zone, false))
		r.ReleaseAt = &t
	default:
		t := c.CreationTimestamp.Add(retention(c, u.Zone, true))
		r.ReleaseAt = &t
	}
	if t := lastAdmitted(c); t != nil {
		// Admission admitted an object for the idle claim and marked it; that object may not be
		// in the cache yet, so the mark counts as a use: the release waits the retention from
		// it, and at least routeGrace, the time admission takes to store what it admitted.
		if held := t.Add(max(retention(c, u.Zone, st.LastReferencedTime == nil), routeGrace)); held.After(*r.ReleaseAt) {
			r.ReleaseAt = &held
		}
	}
	r.ReleaseNow = !u.Now.Before(*r.ReleaseAt)
	at := r.ReleaseAt.UTC().Format(time.RFC3339)
	switch u.Owner {
	case OwnerDeleted:
		r.Message = fmt.Sprintf("namespace %s was deleted; the claim is released at %s, and a namespace created again under that name does not inherit it",
			c.Spec.Namespace, at)
	case OwnerRecreated:
		r.Message = fmt.Sprintf("namespace %s was deleted and created again; the new namespace does not inherit the claim, which is released at %s, and may claim the hostname afterwards",
			c.Spec.Namespace, at)
	default:
		r.Message = fmt.Sprintf("no route of namespace %s uses the hostname; it will be released at %s unless one does", c.Spec.Namespace, at)
	}
	return r
}

func retention(c *v1alpha1.DomainClaim, z *v1alpha1.ManagedZone, neverUsed bool) time.Duration {
	if c.Spec.Retention != nil {
		return c.Spec.Retention.Duration
	}
	if neverUsed {
		if z != nil && z.Spec.UnusedClaimRetention != nil {
			return z.Spec.UnusedClaimRetention.Duration
		}
		return DefaultUnusedRetention
	}
	if z != nil && z.Spec.ClaimRetention != nil {
		return z.Spec.ClaimRetention.Duration
	}
	return DefaultRetention
}

// lastAdmitted is the time of admission's mark on c (v1alpha1.AnnotationLastAdmitted), or nil.
func lastAdmitted(c *v1alpha1.DomainClaim) *time.Time {
	t, err := time.Parse(time.RFC3339, c.Annotations[v1alpha1.AnnotationLastAdmitted])
	if err != nil {
		return nil
	}
	return &t
}

func inUse(c *v1alpha1.DomainClaim) bool {
	for _, cond := range c.Status.Conditions {
		if cond.Type == v1alpha1.ConditionInUse {
			return cond.Status == "True"
		}
	}
	return false
}

func timePtr(t *metav1.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.Time
	return &v
}

func joinMax(s []string, n int) string {
	out := ""
	for i, x := range s {
		if i == n {
			return out + fmt.Sprintf(" and %d more", len(s)-n)
		}
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}
