package webhook

import (
	"context"
	"encoding/json"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

// A name its namespace already owns is admitted without a claim create, and usually without any
// write. But reconciler/claim releases an unused route-made claim from what its cache shows, and
// the object admitted now is stored only after admission and reaches that cache later still: a
// release in that moment would leave the object listing a name that another namespace can then
// claim. So admitting an object for an idle claim marks the claim (Claimer.Keep): the mark changes
// the claim's resourceVersion, so a release planned from the claim as it was fails its own
// precondition, and the claim reconciler counts the mark's time as a use.

// markNeed is what admitting an object for a claim its namespace holds asks of the claim.
type markNeed int

const (
	// markNever: the claim is never released (an admin's), so nothing is written.
	markNever markNeed = iota
	// markUnlessUsed: the claim's status says it is in use; it is marked only when no stored
	// object of the namespace uses the hostname (read from the cache, usedElsewhere).
	markUnlessUsed
	// markAlways: the claim's status says it is unused, counting down to its release, or has
	// not been written for the claim's current spec yet.
	markAlways
)

// needsMark decides, from the claim alone, whether admitting an object for claim c of its own
// namespace must mark it. A false "in use" here would skip a mark a release needs to see, so
// only a status that says "in use" for the current spec, with no release scheduled, can spare
// the mark, and only together with a stored user the cache shows (markUnlessUsed): each signal
// alone could be behind.
func needsMark(c *v1alpha1.DomainClaim) markNeed {
	if c.Spec.ClaimedBy != v1alpha1.ClaimedByRoute {
		return markNever
	}
	cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionInUse)
	if cond == nil || cond.Status != metav1.ConditionTrue || cond.ObservedGeneration != c.Generation || c.Status.ReleaseTime != nil {
		return markAlways
	}
	return markUnlessUsed
}

// usedElsewhere reports whether the cache shows a stored, live HTTPRoute, GRPCRoute, Ingress or
// Gateway of the claim's namespace using its hostname (the route-hostname index, which the claim
// reconciler counts users by), other than the object being created: on CREATE an object of the
// same kind and name in the cache is its deleted predecessor, which the cache has not seen go.
// On UPDATE the object itself counts: it was stored with the hostname before this request.
// Kinds it does not list (ListenerSets, TLSRoutes) can only make it answer false, which costs
// a mark, never a release.
func usedElsewhere(ctx context.Context, cache client.Reader, c *v1alpha1.DomainClaim, creating *Entrance) (bool, error) {
	kinds := []struct {
		kind string
		list client.ObjectList
	}{
		{"HTTPRoute", &gwv1.HTTPRouteList{}}, {"GRPCRoute", &gwv1.GRPCRouteList{}},
		{"Ingress", &networkingv1.IngressList{}}, {"Gateway", &gwv1.GatewayList{}},
	}
	for _, k := range kinds {
		if err := cache.List(ctx, k.list, client.InNamespace(c.Spec.Namespace),
			client.MatchingFields{index.RouteHostname: c.Spec.Hostname}, client.UnsafeDisableDeepCopy); err != nil {
			return false, apiError("listing the "+k.kind+"s that use hostname "+c.Spec.Hostname, err)
		}
		used := false
		if err := meta.EachListItem(k.list, func(o runtime.Object) error {
			obj := o.(client.Object)
			predecessor := creating != nil && creating.Kind.Kind == k.kind && creating.Name == obj.GetName()
			used = used || obj.GetDeletionTimestamp().IsZero() && !predecessor
			return nil
		}); err != nil {
			return false, err
		}
		if used {
			return true, nil
		}
	}
	return false, nil
}

// Keep marks the claim d.Held, through which namespace ns owns d.Hostname (verdict Allow), for an
// object admitted at now: a merge patch of v1alpha1.AnnotationLastAdmitted that names the claim's
// UID, so that it applies to that claim only (a UID is immutable: a claim released and made again
// refuses it). The patch carries no resourceVersion: it applies to whatever version the claim is
// at, so the status writes of a claim's first seconds cannot make it fail, and the API server's
// answer is the claim as it is now. Changing the claim, it makes a release planned from an older
// version fail that release's own resourceVersion precondition; a release that came first shows
// in the answer (a deletionTimestamp: the hostname is denied as being released) or makes the
// patch fail (gone: the hostname is free and the decision comes back with verdict Claim, for the
// caller to claim it anew). A claim transferred or conflicted meanwhile is denied naming the
// owner. An error means the API server could not be asked.
func (c *Claimer) Keep(ctx context.Context, d ownership.Decision, ns string, now time.Time) (ownership.Decision, error) {
	held := d.Held
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"uid":         held.UID,
		"annotations": map[string]string{v1alpha1.AnnotationLastAdmitted: now.UTC().Format(time.RFC3339)},
	}})
	if err != nil {
		return d, err
	}
	marked := &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: held.Name}}
	err = c.Client.Patch(ctx, marked, client.RawPatch(types.MergePatchType, patch))
	switch {
	case apierrors.IsNotFound(err):
		return d.Free(), nil
	case apierrors.IsInvalid(err):
		// The UID differs: released and claimed anew since (decide on the new claim), unless the
		// claim is still the one read, which makes the refusal something else.
		live := &v1alpha1.DomainClaim{}
		if err := c.APIReader.Get(ctx, client.ObjectKey{Name: held.Name}, live); apierrors.IsNotFound(err) || err == nil && live.UID != held.UID {
			return d.Free(), nil
		}
		return d, apiError("marking DomainClaim "+held.Name+" for the object admitted", err)
	case err != nil:
		return d, apiError("marking DomainClaim "+held.Name+" for the object admitted", err)
	}
	if v := d.StillHeld(marked, ns); v.Verdict != ownership.Allow {
		return v, nil
	}
	return d, nil
}
