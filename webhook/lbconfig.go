package webhook

import (
	"context"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// The API server calls this webhook only where LBC's LoadBalancerConfiguration CRD is installed
// (a rule for a resource it does not serve matches nothing), and the webhook reads nothing of
// that kind itself, so it is registered whether the CRD is served or not. The matchCondition keeps
// configurations that name neither a certificate nor a load balancer away. deploy/default and the Helm chart add the
// not-the-orchestrator matchCondition, as for Gateways: the pool's own configurations carry the
// certificates of many namespaces' claims on purpose.
// +kubebuilder:webhook:path=/validate-gateway-k8s-aws-v1beta1-loadbalancerconfiguration,mutating=false,failurePolicy=fail,sideEffects=None,groups=gateway.k8s.aws,resources=loadbalancerconfigurations,verbs=create;update,versions=v1beta1,name=vloadbalancerconfiguration.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5,patch=`{"matchConditions":[{"name":"names-certificates","expression":"has(object.spec) && has(object.spec.listenerConfigurations) && object.spec.listenerConfigurations.exists(l, has(l.defaultCertificate) || (has(l.certificates) && size(l.certificates) > 0)) || has(object.spec) && has(object.spec.loadBalancerName)"}]}`

// LoadBalancerConfigPath is where the LoadBalancerConfiguration webhook is served.
const LoadBalancerConfigPath = "/validate-gateway-k8s-aws-v1beta1-loadbalancerconfiguration"

// LoadBalancerConfigValidator denies an LBC LoadBalancerConfiguration whose listener certificates
// (listenerConfigurations[].defaultCertificate and .certificates[]) include the ACM certificate
// of another namespace's DomainClaim: LBC puts exactly those ARNs on the listeners of every
// Gateway that references the configuration (a Gateway's spec.infrastructure.parametersRef, in
// its own namespace, or its GatewayClass's), so team-c's Gateway would serve team-a's
// certificate, and keep it in use when team-a lets it go. The pool's own configurations (in the
// pool's namespace, labelled with the pool) are the orchestrator's and pass.
type LoadBalancerConfigValidator Door

var _ admission.Validator[*lbc.LoadBalancerConfiguration] = &LoadBalancerConfigValidator{}

// registerLoadBalancerConfig serves the LoadBalancerConfiguration webhook. LBC's type is not in
// the manager's scheme (the orchestrator reads it as unstructured), so the webhook decodes with
// a scheme of its own holding only lbc.LoadBalancerConfiguration; fields it does not declare are
// ignored.
func registerLoadBalancerConfig(mgr manager.Manager, door *Door) {
	s := runtime.NewScheme()
	s.AddKnownTypeWithName(lbc.GroupVersionKind, &lbc.LoadBalancerConfiguration{})
	mgr.GetWebhookServer().Register(LoadBalancerConfigPath,
		admission.WithValidator[*lbc.LoadBalancerConfiguration](s, (*LoadBalancerConfigValidator)(door)))
}

// ValidateCreate implements admission.Validator.
func (v *LoadBalancerConfigValidator) ValidateCreate(ctx context.Context, cfg *lbc.LoadBalancerConfiguration) (admission.Warnings, error) {
	return v.validate(ctx, nil, cfg)
}

// validate checks cfg; old is its previous version on update, else nil.
func (v *LoadBalancerConfigValidator) validate(ctx context.Context, old, cfg *lbc.LoadBalancerConfiguration) (admission.Warnings, error) {
	door := (*Door)(v)
	pool, err := door.isPoolObject(ctx, cfg)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	if pool {
		return nil, nil
	}
	errs, err := door.foreignCertificates(ctx, "a LoadBalancerConfiguration", cfg.Namespace, cfg.CertificateRefs())
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	nameErrs, err := door.loadBalancerName(ctx, field.NewPath("spec", "loadBalancerName"), "a LoadBalancerConfiguration",
		nameSubject(cfg, "", old != nil && strings.EqualFold(old.Spec.LoadBalancerName, cfg.Spec.LoadBalancerName)), cfg.Spec.LoadBalancerName)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	errs = append(errs, nameErrs...)
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(lbc.GroupVersionKind.GroupKind(), ObjectName(cfg.Name, cfg.GenerateName), errs)
	}
	return nil, nil
}

// ValidateUpdate implements admission.Validator: every certificate is checked again (a claim may
// have moved to another namespace since the configuration was admitted), unless only status or
// bookkeeping metadata changed.
func (v *LoadBalancerConfigValidator) ValidateUpdate(ctx context.Context, old, cfg *lbc.LoadBalancerConfiguration) (admission.Warnings, error) {
	if bookkeeping(old, cfg, &old.Spec, &cfg.Spec) {
		return nil, nil
	}
	return v.validate(ctx, old, cfg)
}

// ValidateDelete implements admission.Validator.
func (v *LoadBalancerConfigValidator) ValidateDelete(context.Context, *lbc.LoadBalancerConfiguration) (admission.Warnings, error) {
	return nil, nil
}
