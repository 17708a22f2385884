package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// The recorder is called for creates of claims that admission did not make (those carry the
// owner label, LabelOwner: an objectSelector, which costs the API server no copy of the object)
// and for updates that transfer a claim (a matchCondition), so that the admission of routes,
// which creates claims, pays no second webhook call.
// +kubebuilder:webhook:path=/mutate-gateway-opendi-com-v1alpha1-domainclaim,mutating=true,failurePolicy=fail,sideEffects=None,groups=gateway.opendi.com,resources=domainclaims,verbs=create,versions=v1alpha1,name=mdomainclaim.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5,patch=`{"objectSelector":{"matchExpressions":[{"key":"gateway.opendi.com/owner","operator":"DoesNotExist"}]}}`
// +kubebuilder:webhook:path=/mutate-gateway-opendi-com-v1alpha1-domainclaim,mutating=true,failurePolicy=fail,sideEffects=None,groups=gateway.opendi.com,resources=domainclaims,verbs=update,versions=v1alpha1,name=mdomainclaim-transfer.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5,patch=`{"matchConditions":[{"name":"transfers","expression":"object.spec.namespace != oldObject.spec.namespace"}]}`

// ClaimRecorder writes on a DomainClaim who reserved it (created it by hand) or transferred it
// (changed spec.namespace), and when.
type ClaimRecorder struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var _ admission.Defaulter[*v1alpha1.DomainClaim] = &ClaimRecorder{}

// Default implements admission.Defaulter.
func (r *ClaimRecorder) Default(ctx context.Context, c *v1alpha1.DomainClaim) error {
	req, err := admission.RequestFromContext(ctx)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	var old *v1alpha1.DomainClaim
	if req.Operation == admissionv1.Update && len(req.OldObject.Raw) > 0 {
		old = &v1alpha1.DomainClaim{}
		if err := json.Unmarshal(req.OldObject.Raw, old); err != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("decoding the DomainClaim before the update: %v", err))
		}
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	Record(c, old, req.UserInfo.Username, now())
	return nil
}

// Record writes into c who made it (old nil: a create) or, when the update from old changes
// spec.namespace, who transferred it (and moves the owner label, where admission set one, to the
// new namespace, and drops the former owner's UID that admission stamped on it). Route claims
// made by admission (claimed-for) are not reservations and are left alone; so is any other update.
func Record(c, old *v1alpha1.DomainClaim, user string, now time.Time) {
	by, at := AnnotationReservedBy, AnnotationReservedAt
	switch {
	case old == nil && c.Spec.ClaimedBy == v1alpha1.ClaimedByRoute && c.Annotations[AnnotationClaimedFor] != "":
		return
	case old != nil && old.Spec.Namespace == c.Spec.Namespace:
		return
	case old != nil:
		by, at = AnnotationTransferredBy, AnnotationTransferredAt
		if _, ok := c.Labels[LabelOwner]; ok {
			c.Labels[LabelOwner] = c.Spec.Namespace // selections by owner follow the transfer
		}
		delete(c.Annotations, v1alpha1.AnnotationOwnerNamespace) // the former owner's UID
	}
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[by] = user
	c.Annotations[at] = now.UTC().Format(time.RFC3339)
}
