package webhook

import (
	"context"
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

// annotationKey is the field path of annotation k.
func annotationKey(k string) *field.Path {
	return field.NewPath("metadata", "annotations").Key(k)
}

// conditionHosts are the hostnames of ing's conditions annotations (LBC ORs their host-header
// values into the rule's host condition), to be decided like spec.rules[].host. Patterns
// (regexValues, or ALB wildcards beyond a leading "*." label) are no hostname: catchAll counts
// them as a catch-all instead.
func conditionHosts(ing *networkingv1.Ingress) []Host {
	hosts, _ := lbc.IngressConditionHosts(ing.Annotations)
	var out []Host
	for _, h := range hosts {
		if !h.Pattern {
			out = append(out, Host{Path: annotationKey(h.Annotation), Name: h.Value})
		}
	}
	return out
}

// conditionPattern is the field of ing's first host-header pattern in a conditions annotation,
// or nil: a rule whose host condition is a pattern matches hostnames of any owner.
func conditionPattern(ing *networkingv1.Ingress) *field.Path {
	hosts, _ := lbc.IngressConditionHosts(ing.Annotations)
	for _, h := range hosts {
		if h.Pattern {
			return annotationKey(h.Annotation)
		}
	}
	return nil
}

// malformedConditions denies conditions annotations LBC cannot decode on an Ingress of an
// IngressGroup: LBC then builds no load balancer for the whole group, other namespaces' managed
// hostnames included, and the webhook could not tell which hosts the annotation meant. On an
// Ingress of its own ALB only that ALB fails, so LBC is left to report it.
func (door *Door) malformedConditions(ing *networkingv1.Ingress, group string) field.ErrorList {
	if group == "" {
		return nil
	}
	_, bad := lbc.IngressConditionHosts(ing.Annotations)
	var errs field.ErrorList
	for _, k := range bad {
		door.Metrics.decision(v1alpha1.ReasonMalformedConditionsAnnotation)
		errs = append(errs, field.Invalid(annotationKey(k), ing.Annotations[k], fmt.Sprintf(
			"not a JSON list of rule conditions: the AWS Load Balancer Controller would build no load balancer for IngressGroup %q", group)))
	}
	return errs
}

// ingressCertificates denies the ARNs of ing's certificate-arn annotation that are the
// certificate of another namespace's DomainClaim (see Door.foreignCertificates): LBC would put
// that certificate on ing's load balancer.
func (door *Door) ingressCertificates(ctx context.Context, ing *networkingv1.Ingress) (field.ErrorList, error) {
	var uses []lbc.CertificateRef
	for _, arn := range lbc.CertificateARNs(ing.Annotations) {
		uses = append(uses, lbc.CertificateRef{Path: annotationKey(lbc.CertificateARNAnnotation), ARN: arn})
	}
	return door.foreignCertificates(ctx, "an Ingress", ing.Namespace, uses)
}

// foreignCertificates denies the uses, by an object (what, for example "an Ingress") of
// namespace ns, of the certificate of another namespace's DomainClaim
// (ownership.ForeignCertificateClaims, one lookup per ARN): LBC would put that certificate on
// the object's load balancer, where it serves the owner's hostname and stays in use when the
// owner lets it go.
func (door *Door) foreignCertificates(ctx context.Context, what, ns string, uses []lbc.CertificateRef) (field.ErrorList, error) {
	if len(uses) == 0 || door.Reader == nil {
		return nil, nil
	}
	var errs field.ErrorList
	for _, u := range uses {
		claims, err := ownership.ForeignCertificateClaims(ctx, door.Reader, ns, u.ARN)
		if err != nil {
			return nil, err
		}
		for _, c := range claims {
			door.Metrics.decision(v1alpha1.ReasonForeignCertificate)
			errs = append(errs, field.Forbidden(u.Path, fmt.Sprintf(
				"certificate %s is the certificate of hostname %q, owned by namespace %s; %s of namespace %s may not put it on its load balancer (DomainClaim %s)",
				u.ARN, c.Spec.Hostname, c.Spec.Namespace, what, ns, c.Name)))
		}
	}
	return errs, nil
}
