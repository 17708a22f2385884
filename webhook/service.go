package webhook

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// The matchCondition keeps every Service without the certificate annotation away from the
// webhook, and every update that leaves the annotation as it was (ValidateUpdate passes those):
// LBC's finalizer and status patches never wait on the orchestrator.
// +kubebuilder:webhook:path=/validate--v1-service,mutating=false,failurePolicy=fail,sideEffects=None,groups="",resources=services,verbs=create;update,versions=v1,name=vservice.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5,patch=`{"matchConditions":[{"name":"names-certificates","expression":"has(object.metadata.annotations) && 'service.beta.kubernetes.io/aws-load-balancer-ssl-cert' in object.metadata.annotations"},{"name":"changes-certificates","expression":"oldObject == null || !has(oldObject.metadata.annotations) || !('service.beta.kubernetes.io/aws-load-balancer-ssl-cert' in oldObject.metadata.annotations) || oldObject.metadata.annotations['service.beta.kubernetes.io/aws-load-balancer-ssl-cert'] != object.metadata.annotations['service.beta.kubernetes.io/aws-load-balancer-ssl-cert']"}]}`

// ServiceValidator denies a Service whose service.beta.kubernetes.io/aws-load-balancer-ssl-cert
// annotation names the ACM certificate of another namespace's DomainClaim: LBC (and the in-tree
// cloud provider) puts those ARNs on the TLS listeners of the Service's NLB, which then serves the
// owner's certificate and keeps it in use when the owner lets it go, as an Ingress's
// certificate-arn annotation would. The Service's type does not matter: an update that leaves
// the annotation alone can make it a LoadBalancer.
type ServiceValidator Door

var _ admission.Validator[*corev1.Service] = &ServiceValidator{}

// ValidateCreate implements admission.Validator.
func (v *ServiceValidator) ValidateCreate(ctx context.Context, svc *corev1.Service) (admission.Warnings, error) {
	var uses []lbc.CertificateRef
	for _, arn := range lbc.AnnotationARNs(svc.Annotations, lbc.ServiceCertificateAnnotation) {
		uses = append(uses, lbc.CertificateRef{Path: annotationKey(lbc.ServiceCertificateAnnotation), ARN: arn})
	}
	errs, err := (*Door)(v).foreignCertificates(ctx, "a Service", svc.Namespace, uses)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(schema.GroupKind{Kind: "Service"}, ObjectName(svc.Name, svc.GenerateName), errs)
	}
	return nil, nil
}

// ValidateUpdate implements admission.Validator: the certificates are checked again when the
// annotation changes. An update that leaves it alone passes, so that a Service is never wedged
// by a certificate whose claim moved to another namespace since.
func (v *ServiceValidator) ValidateUpdate(ctx context.Context, old, svc *corev1.Service) (admission.Warnings, error) {
	if old.Annotations[lbc.ServiceCertificateAnnotation] == svc.Annotations[lbc.ServiceCertificateAnnotation] {
		return nil, nil
	}
	return v.ValidateCreate(ctx, svc)
}

// ValidateDelete implements admission.Validator.
func (v *ServiceValidator) ValidateDelete(context.Context, *corev1.Service) (admission.Warnings, error) {
	return nil, nil
}
