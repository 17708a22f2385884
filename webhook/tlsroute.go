package webhook

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// +kubebuilder:webhook:path=/validate-gateway-networking-k8s-io-v1-tlsroute,mutating=false,failurePolicy=fail,sideEffects=NoneOnDryRun,groups=gateway.networking.k8s.io,resources=tlsroutes,verbs=create;update,versions=v1,name=vtlsroute.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5,patch=`{"matchConditions":[{"name":"has-hostnames","expression":"has(object.spec.hostnames) && size(object.spec.hostnames) > 0"}]}`

// TLSRouteValidator checks the hostnames of TLSRoutes: one under a ManagedZone must already be
// owned by the route's namespace (a TLSRoute binds no claim, so it claims none: a claim made for
// it would never be bound; it keeps an owned claim in use, see reconciler/claim); others pass. LBC adds a TLSRoute's hostnames to the names it discovers ACM certificates by for
// the TLS listener of its Gateway's NLB, so a TLSRoute listing another namespace's hostname on
// the tenant's own Gateway would put the owner's certificate on the tenant's load balancer. Pool
// Gateways admit no TLSRoute (their listeners' allowedRoutes.kinds).
type TLSRouteValidator Door

var _ admission.Validator[*gwv1.TLSRoute] = &TLSRouteValidator{}

// ValidateCreate implements admission.Validator.
func (v *TLSRouteValidator) ValidateCreate(ctx context.Context, r *gwv1.TLSRoute) (admission.Warnings, error) {
	e := Entrance{
		Kind:        schema.GroupKind{Group: gwv1.GroupName, Kind: "TLSRoute"},
		Namespace:   r.Namespace,
		Name:        ObjectName(r.Name, r.GenerateName),
		ManagedOnly: true,
		OwnedOnly:   true,
	}
	path := field.NewPath("spec", "hostnames")
	for i, h := range r.Spec.Hostnames {
		e.Hosts = append(e.Hosts, Host{Path: path.Index(i), Name: string(h)})
	}
	return (*Door)(v).Admit(ctx, e)
}

// ValidateUpdate implements admission.Validator: every hostname is checked again.
func (v *TLSRouteValidator) ValidateUpdate(ctx context.Context, old, r *gwv1.TLSRoute) (admission.Warnings, error) {
	if bookkeeping(old, r, &old.Spec, &r.Spec) || detaching(old, r, old.Spec, r.Spec, tlsRouteRefs) {
		return nil, nil
	}
	return v.ValidateCreate(ctx, r)
}

// ValidateDelete implements admission.Validator.
func (v *TLSRouteValidator) ValidateDelete(context.Context, *gwv1.TLSRoute) (admission.Warnings, error) {
	return nil, nil
}

func tlsRouteRefs(s *gwv1.TLSRouteSpec) *[]gwv1.ParentReference { return &s.ParentRefs }
