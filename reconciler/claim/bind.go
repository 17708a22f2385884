package claim

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// Binding is the claim's Bound condition as decided by PlanBind.
type Binding struct {
	Bound   bool
	Reason  string
	Message string
}

// PlanBind decides, as pure data, whether a claim is bound: a persisted object of the owning
// namespace uses the hostname (u.Routes, the object admission made the claim for first), or an
// admin set spec.provision: Always. A bound claim stays bound while it exists, so a redeploy
// within the retention keeps its certificate; so does a claim that already holds a certificate
// (provisioned before binding existed). rel is the release plan, whose time an unbound claim
// names.
func PlanBind(c *v1alpha1.DomainClaim, u Usage, rel Release) Binding {
	if cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionBound); cond != nil && cond.Status == "True" {
		b := Binding{Bound: true, Reason: cond.Reason, Message: cond.Message}
		if b.Reason == v1alpha1.ReasonObjectExists && !bindsIn(b.Message, c.Spec.Namespace) {
			// Transferred: the binder named is the earlier namespace's. The claim stays bound;
			// its message names a user of the new namespace, or says it was bound before.
			b.Message = "bound before the transfer to " + c.Spec.Namespace
			if len(u.Routes) > 0 {
				b.Message = "bound by " + u.Routes[0]
			}
		}
		return b
	}
	switch {
	case len(u.Routes) > 0:
		return Binding{Bound: true, Reason: v1alpha1.ReasonObjectExists, Message: "bound by " + u.Routes[0]}
	case c.Status.CertificateARN != "":
		return Binding{Bound: true, Reason: v1alpha1.ReasonProvisionedBefore,
			Message: "the claim held certificate " + c.Status.CertificateARN + " before it was bound; it keeps it"}
	case c.Spec.ClaimedBy != v1alpha1.ClaimedByRoute && c.Spec.Provision == v1alpha1.ProvisionAlways:
		return Binding{Bound: true, Reason: v1alpha1.ReasonProvisionAlways,
			Message: "spec.provision is Always: provisioned before any object uses the hostname"}
	}
	msg := fmt.Sprintf("no HTTPRoute, GRPCRoute, Ingress, Gateway listener or ListenerSet listener of namespace %s that exists in the API server uses the hostname; nothing is provisioned in AWS until one does",
		c.Spec.Namespace)
	if c.Spec.ClaimedBy != v1alpha1.ClaimedByRoute {
		msg += " or an admin sets spec.provision: Always"
	} else if by := c.Annotations[v1alpha1.AnnotationClaimedFor]; by != "" {
		msg += " (the claim was made for " + by + ", which the API server did not keep or which no longer lists the hostname)"
	}
	if rel.ReleaseAt != nil {
		msg += "; the claim is released at " + rel.ReleaseAt.UTC().Format(time.RFC3339) + " unless one does"
	}
	return Binding{Reason: v1alpha1.ReasonUnbound, Message: msg}
}

// bindsIn reports whether a Bound message of reason ObjectExists names an object of namespace
// ns ("bound by HTTPRoute ns/name"); "bound before the transfer to ns" does not, so it gives way
// to the new namespace's first user.
func bindsIn(msg, ns string) bool {
	by, ok := strings.CutPrefix(msg, "bound by ")
	_, ref, _ := strings.Cut(by, " ")
	return ok && strings.HasPrefix(ref, ns+"/")
}
