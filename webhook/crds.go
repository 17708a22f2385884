package webhook

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

// albCertificateQuota is the default ALB quota of certificates per load balancer besides the
// default certificate (adjustable through AWS Service Quotas).
const albCertificateQuota = 25

// +kubebuilder:webhook:path=/validate-gateway-opendi-com-v1alpha1-managedzone,mutating=false,failurePolicy=fail,sideEffects=None,groups=gateway.opendi.com,resources=managedzones,verbs=create;update;delete,versions=v1alpha1,name=vmanagedzone.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5
// +kubebuilder:webhook:path=/validate-gateway-opendi-com-v1alpha1-gatewaypool,mutating=false,failurePolicy=fail,sideEffects=None,groups=gateway.opendi.com,resources=gatewaypools,verbs=create;update;delete,versions=v1alpha1,name=vgatewaypool.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5
// The DomainClaim webhook sees the claims people write and their transfers only. The claims
// admission itself creates carry the owner label (LabelOwner) and were already checked against the
// API server by the Claimer's own protocol: an objectSelector keeps their creates away, which the
// API server decides from the labels alone, before it copies the object for any matchCondition
// (a matchCondition here cost every route that makes a claim measurable API server CPU). Updates go
// to a second entry whose matchCondition keeps only transfers (spec.namespace changes), away from
// label, annotation and finalizer writes. An admin who puts the owner label on a claim by hand
// skips these checks, and an overlap it lets in is settled by the claim reconciler.
// +kubebuilder:webhook:path=/validate-gateway-opendi-com-v1alpha1-domainclaim,mutating=false,failurePolicy=fail,sideEffects=None,groups=gateway.opendi.com,resources=domainclaims,verbs=create,versions=v1alpha1,name=vdomainclaim.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5,patch=`{"objectSelector":{"matchExpressions":[{"key":"gateway.opendi.com/owner","operator":"DoesNotExist"}]}}`
// +kubebuilder:webhook:path=/validate-gateway-opendi-com-v1alpha1-domainclaim,mutating=false,failurePolicy=fail,sideEffects=None,groups=gateway.opendi.com,resources=domainclaims,verbs=update,versions=v1alpha1,name=vdomainclaim-transfer.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5,patch=`{"matchConditions":[{"name":"transfers","expression":"object.spec.namespace != oldObject.spec.namespace"}]}`

// ZoneValidator rejects a ManagedZone whose domain another ManagedZone already manages.
type ZoneValidator struct {
	View   ownership.View
	Reader client.Reader
}

var _ admission.Validator[*v1alpha1.ManagedZone] = &ZoneValidator{}

// ValidateCreate implements admission.Validator.
func (v *ZoneValidator) ValidateCreate(ctx context.Context, z *v1alpha1.ManagedZone) (admission.Warnings, error) {
	return v.withMoves(ctx, z)
}

// ValidateUpdate implements admission.Validator.
func (v *ZoneValidator) ValidateUpdate(ctx context.Context, old, z *v1alpha1.ManagedZone) (admission.Warnings, error) {
	if old.Spec.HostedZoneID == z.Spec.HostedZoneID {
		return v.validate(ctx, z)
	}
	return v.withMoves(ctx, z)
}

// withMoves validates z and warns, without denying, when writing it moves claims' records to
// another hosted zone (a new child zone over a parent's claims, or a corrected hostedZoneID): the
// reconcilers write them there and delete ours from the old one, which is the remedy for a wrong
// zone ID and must stay possible.
func (v *ZoneValidator) withMoves(ctx context.Context, z *v1alpha1.ManagedZone) (admission.Warnings, error) {
	warnings, err := v.validate(ctx, z)
	if err != nil {
		return warnings, err
	}
	names, from, err := ownership.MovingClaims(ctx, v.View, z)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	if len(names) > 0 {
		example := names[:min(3, len(names))]
		warnings = append(warnings, fmt.Sprintf("the records of %d DomainClaim(s) (%s) move from hosted zone %s to hosted zone %s: gateway-orchestrator writes their ALIAS records "+
			"and validation CNAMEs there, then deletes its own from %s; make sure hosted zone %s serves %s (docs/operations.md, \"Moving a zone's records\")",
			len(names), strings.Join(example, ", "), strings.Join(from, ", "), z.Spec.HostedZoneID, strings.Join(from, ", "), z.Spec.HostedZoneID, z.Spec.Domain))
	}
	return warnings, nil
}

// ValidateDelete implements admission.Validator: a zone goes only after its claims, whose
// records and certificates are found and cleaned up through it.
func (v *ZoneValidator) ValidateDelete(ctx context.Context, z *v1alpha1.ManagedZone) (admission.Warnings, error) {
	names, err := ownership.ZoneClaims(ctx, v.View, z)
	if err != nil || len(names) == 0 {
		return nil, err
	}
	example := names[:min(3, len(names))]
	return nil, apierrors.NewForbidden(v1alpha1.GroupVersion.WithResource("managedzones").GroupResource(), z.Name, fmt.Errorf(
		"%d DomainClaim(s) still use the zone (%s); deleting it first would leave their records in hosted zone %s and their ACM certificates behind. "+
			"Remove the routes that use the hostnames and delete the claims (kubectl delete domainclaim %s), then the ManagedZone",
		len(names), strings.Join(example, ", "), z.Spec.HostedZoneID, strings.Join(example, " ")))
}

func (v *ZoneValidator) validate(ctx context.Context, z *v1alpha1.ManagedZone) (admission.Warnings, error) {
	var errs field.ErrorList
	var warnings admission.Warnings
	domain := field.NewPath("spec", "domain")
	if err := hostname.Validate(z.Spec.Domain); err != nil {
		errs = append(errs, field.Invalid(domain, z.Spec.Domain, err.Error()))
	} else if other, err := v.View.Zone(ctx, z.Spec.Domain); err != nil {
		return nil, apierrors.NewInternalError(err)
	} else if other != nil && other.Name != z.Name {
		errs = append(errs, field.Forbidden(domain, fmt.Sprintf("%s is already managed by ManagedZone %q", z.Spec.Domain, other.Name)))
	}
	if sel := z.Spec.AllowedNamespaces.Selector; sel != nil {
		if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("spec", "allowedNamespaces", "selector"), sel, err.Error()))
		}
	}
	if ref := z.Spec.GatewayPoolRef; ref != nil {
		if err := v.Reader.Get(ctx, client.ObjectKey{Name: ref.Name}, &v1alpha1.GatewayPool{}); apierrors.IsNotFound(err) {
			warnings = append(warnings, fmt.Sprintf("GatewayPool %q does not exist yet: until it is created, no shared load balancer serves this zone's hostnames "+
				"and their claims say GatewayAssigned=False/%s", ref.Name, v1alpha1.ReasonGatewayPoolNotFound))
		}
	}
	if len(errs) > 0 {
		return warnings, apierrors.NewInvalid(v1alpha1.GroupVersion.WithKind("ManagedZone").GroupKind(), z.Name, errs)
	}
	return warnings, nil
}

// PoolValidator checks GatewayPool capacities against ALB quotas, and keeps a pool that a
// ManagedZone uses from being deleted.
type PoolValidator struct {
	Reader client.Reader
}

var _ admission.Validator[*v1alpha1.GatewayPool] = &PoolValidator{}

// ValidateCreate implements admission.Validator.
func (v *PoolValidator) ValidateCreate(_ context.Context, p *v1alpha1.GatewayPool) (admission.Warnings, error) {
	return validatePool(p, nil)
}

// ValidateUpdate implements admission.Validator.
func (v *PoolValidator) ValidateUpdate(_ context.Context, old, p *v1alpha1.GatewayPool) (admission.Warnings, error) {
	return validatePool(p, old)
}

// ValidateDelete implements admission.Validator.
func (v *PoolValidator) ValidateDelete(ctx context.Context, p *v1alpha1.GatewayPool) (admission.Warnings, error) {
	var zones v1alpha1.ManagedZoneList
	if err := v.Reader.List(ctx, &zones); err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	for _, z := range zones.Items {
		if z.Spec.GatewayPoolRef != nil && z.Spec.GatewayPoolRef.Name == p.Name {
			return nil, apierrors.NewForbidden(v1alpha1.GroupVersion.WithResource("gatewaypools").GroupResource(), p.Name,
				fmt.Errorf("ManagedZone %q (domain %s) still uses this pool; point it at another pool first, or remove its spec.gatewayPoolRef, or delete the zone first (uninstalling: zones go before pools)", z.Name, z.Spec.Domain))
		}
	}
	return nil, nil
}

// gatewayListenerLimit is Gateway API's maximum of listeners per Gateway (spec.listeners maxItems).
const gatewayListenerLimit = 64

// listenersPerHostname is how many listeners each hostname seated on a Gateway of pool p has:
// HTTPS, and HTTP too when the template has the HTTP listener.
func listenersPerHostname(p *v1alpha1.GatewayPool) int32 {
	if p.Spec.Template.HTTPListener {
		return 2
	}
	return 1
}

// validatePool checks pool p. old is the pool before an update (nil on create): a rule that old
// broke too, with the settings it reads unchanged, is not held against an update (a pool made
// before the rule can still have its labels edited, or be fixed one field at a time).
func validatePool(p, old *v1alpha1.GatewayPool) (admission.Warnings, error) {
	var errs field.ErrorList
	var warnings admission.Warnings
	spec := field.NewPath("spec")
	if p.Spec.MinGateways > p.Spec.MaxGateways {
		errs = append(errs, field.Invalid(spec.Child("minGateways"), p.Spec.MinGateways,
			fmt.Sprintf("must not exceed maxGateways (%d)", p.Spec.MaxGateways)))
	}
	if p.Spec.MaxCertificatesPerGateway > albCertificateQuota {
		warnings = append(warnings, fmt.Sprintf("maxCertificatesPerGateway %d exceeds the default ALB quota of %d certificates per load balancer; raise the quota with AWS first",
			p.Spec.MaxCertificatesPerGateway, albCertificateQuota))
	}
	// Each seated hostname has its own listener (two with HTTP), and Gateway API allows 64.
	per := listenersPerHostname(p)
	if p.Spec.MaxCertificatesPerGateway*per > gatewayListenerLimit {
		errs = append(errs, field.Invalid(spec.Child("maxCertificatesPerGateway"), p.Spec.MaxCertificatesPerGateway,
			fmt.Sprintf("each hostname on a Gateway has its own listener (%d with the HTTP listener), and a Gateway has at most %d listeners: at most %d",
				per, gatewayListenerLimit, gatewayListenerLimit/per)))
	}
	// Each hostname of each route rule is one ALB rule on each listener an HTTPRoute attaches to
	// (HTTPS, and HTTP when the template has it: the ALB's rule quota counts both), so a Gateway
	// must have room for at least that many rules per certificate it carries.
	tooFewRules := func(p *v1alpha1.GatewayPool) bool {
		return p.Spec.MaxRulesPerGateway > 0 && p.Spec.MaxRulesPerGateway < p.Spec.MaxCertificatesPerGateway*listenersPerHostname(p)
	}
	if tooFewRules(p) && (old == nil || !tooFewRules(old) || old.Spec.MaxRulesPerGateway != p.Spec.MaxRulesPerGateway ||
		old.Spec.MaxCertificatesPerGateway != p.Spec.MaxCertificatesPerGateway || old.Spec.Template.HTTPListener != p.Spec.Template.HTTPListener) {
		errs = append(errs, field.Invalid(spec.Child("maxRulesPerGateway"), p.Spec.MaxRulesPerGateway,
			fmt.Sprintf("must be at least %d, maxCertificatesPerGateway (%d) times the listeners each hostname's HTTPRoutes get ALB rules on (%d with the HTTP listener): "+
				"every hostname needs at least one ALB rule on each; lower maxCertificatesPerGateway or raise maxRulesPerGateway", p.Spec.MaxCertificatesPerGateway*per, p.Spec.MaxCertificatesPerGateway, per)))
	}
	if len(errs) > 0 {
		return warnings, apierrors.NewInvalid(v1alpha1.GroupVersion.WithKind("GatewayPool").GroupKind(), p.Name, errs)
	}
	return warnings, nil
}

// ClaimValidator checks a DomainClaim that anyone, usually an admin, writes: its name must be
// its hostname's claim name, and it must neither overlap another namespace's wildcard claims nor
// look like another namespace's claim in its zone (ownership.LookAlike).
type ClaimValidator struct {
	// View reads the claims that could overlap live (ownership.LiveClaims): an admin's claim
	// created a moment after a route's wildcard must still see it.
	View ownership.View
	// Cache reads the look-alikes (ownership.LookAlike) from the manager's cache, through the
	// claim-skeleton index, as every other door does: a live read would list every claim, up to
	// once per ASCII reading of a Unicode wildcard.
	Cache ownership.View
	// Configurations reads LBC's LoadBalancerConfigurations (live: they are not in the manager's
	// cache) to warn about a transfer's former owner's configurations; nil reads none.
	Configurations client.Reader
}

var _ admission.Validator[*v1alpha1.DomainClaim] = &ClaimValidator{}

// ValidateCreate implements admission.Validator.
func (v *ClaimValidator) ValidateCreate(ctx context.Context, c *v1alpha1.DomainClaim) (admission.Warnings, error) {
	return v.validate(ctx, c, true)
}

// ValidateUpdate implements admission.Validator. Only a transfer to another namespace is
// checked again; an admitted transfer warns about the former owner's LoadBalancerConfigurations
// that still name the claim's certificate (formerConfigurations).
func (v *ClaimValidator) ValidateUpdate(ctx context.Context, old, c *v1alpha1.DomainClaim) (admission.Warnings, error) {
	if old.Spec.Namespace == c.Spec.Namespace {
		return nil, nil
	}
	warnings, err := v.validate(ctx, c, false)
	if err != nil {
		return warnings, err
	}
	return append(warnings, v.formerConfigurations(ctx, old, c)...), nil
}

// formerConfigurations warns, on the transfer of claim old to c's namespace, about the
// LoadBalancerConfigurations of old's namespace that name its certificate: admitted while that
// namespace owned it, they keep it on that namespace's load balancer (LBC does not ask whose it
// is) until they drop it, and the LoadBalancerConfiguration webhook denies any other change of
// their spec from now on. A failed read costs the warning only, never the transfer.
func (v *ClaimValidator) formerConfigurations(ctx context.Context, old, c *v1alpha1.DomainClaim) admission.Warnings {
	arn := old.Status.CertificateARN
	if v.Configurations == nil || arn == "" {
		return nil
	}
	list := lbc.NewUnstructuredList()
	if err := v.Configurations.List(ctx, list, client.InNamespace(old.Spec.Namespace)); err != nil {
		if !meta.IsNoMatchError(err) {
			logf.FromContext(ctx).Error(err, "listing the former owner's LoadBalancerConfigurations", "claim", c.Name, "hostname", c.Spec.Hostname, "namespace", old.Spec.Namespace)
		}
		return nil
	}
	var warnings admission.Warnings
	for i := range list.Items {
		cfg, err := lbc.FromUnstructured(&list.Items[i])
		if err != nil {
			continue
		}
		for _, u := range cfg.CertificateRefs() {
			if u.ARN == arn {
				warnings = append(warnings, fmt.Sprintf(
					"LoadBalancerConfiguration %s/%s still names certificate %s of hostname %q (%s), which now belongs to namespace %s: the AWS Load Balancer Controller keeps serving it on that load balancer until the configuration drops it",
					cfg.Namespace, cfg.Name, arn, c.Spec.Hostname, u.Path, c.Spec.Namespace))
			}
		}
	}
	return warnings
}

// ValidateDelete implements admission.Validator.
func (v *ClaimValidator) ValidateDelete(context.Context, *v1alpha1.DomainClaim) (admission.Warnings, error) {
	return nil, nil
}

// validate checks c; a new claim (create) under a ManagedZone must also fit an ACM certificate,
// since one is requested for it (a claim made before this check is left to say HostnameTooLong).
func (v *ClaimValidator) validate(ctx context.Context, c *v1alpha1.DomainClaim, create bool) (admission.Warnings, error) {
	var errs field.ErrorList
	var warnings admission.Warnings
	hostPath := field.NewPath("spec", "hostname")
	h := c.Spec.Hostname
	if n, err := hostname.Normalize(h); err != nil || n != h {
		errs = append(errs, field.Invalid(hostPath, h, fmt.Sprintf("must be written in normalized form %q", n)))
	} else if err := hostname.Validate(h); err != nil {
		errs = append(errs, field.Invalid(hostPath, h, err.Error()))
	} else if want := hostname.ClaimName(h); c.Name != want {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), c.Name,
			fmt.Sprintf("the DomainClaim for %q must be named %q", h, want)))
	} else {
		d, err := ownership.Overlaps(ctx, v.View, ownership.Decision{Hostname: h}, c.Spec.Namespace)
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		if d.Verdict == ownership.Deny {
			errs = append(errs, field.Forbidden(hostPath, d.Message))
		}
		if z, err := ownership.FindZone(ctx, v.View, h); err != nil {
			return nil, apierrors.NewInternalError(err)
		} else if z == nil {
			warnings = append(warnings, fmt.Sprintf("no ManagedZone covers %q: the claim reserves the name but nothing is provisioned for it", h))
		} else {
			if create && len(h) > ownership.MaxCertificateName {
				errs = append(errs, field.Forbidden(hostPath, fmt.Sprintf(
					"hostname %q is %d characters long; ACM issues certificates only for names of at most %d characters (wildcard \"*.\" included), so ManagedZone %q could never serve it over HTTPS: use a shorter hostname",
					h, len(h), ownership.MaxCertificateName, z.Name)))
			}
			// A transfer keeps the claim's age: only a look-alike older than the claim denies it.
			var held *v1alpha1.DomainClaim
			if !create {
				held = c
			}
			if d, err := ownership.LookAlike(ctx, v.Cache, ownership.Decision{Hostname: h, Zone: z}, c.Spec.Namespace, held); err != nil {
				return nil, apierrors.NewInternalError(err)
			} else if d.Verdict == ownership.Deny {
				errs = append(errs, field.Forbidden(hostPath, d.Message))
			}
		}
	}
	if len(errs) > 0 {
		return warnings, apierrors.NewInvalid(v1alpha1.GroupVersion.WithKind("DomainClaim").GroupKind(), c.Name, errs)
	}
	// A reservation for a namespace yet to be made is allowed; a mistyped one (a transfer's
	// especially, which takes the name from its owner's routes) should not pass unremarked.
	if ns, err := v.Cache.Namespace(ctx, c.Spec.Namespace); err == nil && ns == nil {
		warnings = append(warnings, fmt.Sprintf("namespace %q does not exist: the hostname now belongs to no existing namespace; check the name if it is not one still to be created", c.Spec.Namespace))
	}
	return warnings, nil
}
