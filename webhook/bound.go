package webhook

import (
	"context"
	"encoding/json"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// recordObjectUID writes the UID of the object being admitted into the claim's
// AnnotationClaimedForUID, when the request has one: the API server assigns a new object's UID
// before validating admission, so the claim reconciler can tell the object the claim was made
// for from another object of the same name.
func recordObjectUID(ctx context.Context, c *v1alpha1.DomainClaim) {
	if uid := admittedUID(ctx); uid != "" {
		c.Annotations[v1alpha1.AnnotationClaimedForUID] = string(uid)
	}
}

// admittedUID is metadata.uid of the object in the admission request in ctx, or "".
func admittedUID(ctx context.Context) types.UID {
	req, err := admission.RequestFromContext(ctx)
	if err != nil || len(req.Object.Raw) == 0 {
		return ""
	}
	var obj struct {
		Metadata struct {
			UID types.UID `json:"uid"`
		} `json:"metadata"`
	}
	if json.Unmarshal(req.Object.Raw, &obj) != nil {
		return ""
	}
	return obj.Metadata.UID
}
