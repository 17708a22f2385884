package webhook

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

const (
	// AnnotationAutoAttach marks an HTTPRoute created without parentRefs: the orchestrator
	// attaches it to the Gateway assigned to its hostnames.
	AnnotationAutoAttach = "gateway.opendi.com/auto-attach"
	// AnnotationClaimedFor records on a DomainClaim the route whose admission made it.
	AnnotationClaimedFor = v1alpha1.AnnotationClaimedFor
	// LabelOwner carries a DomainClaim's owning namespace, for label selection.
	LabelOwner = "gateway.opendi.com/owner"
	// HTTPSListener is the section name that parentRefs written before each hostname had its own
	// listener carry; the pool reconciler removes it from opted-in routes.
	HTTPSListener = "https"
)

// The mutating webhooks see only routes with something to do: a hostname not yet in normalized
// form, no parentRefs, or automatic attachment (matchConditions; the validating ones see all).
// +kubebuilder:webhook:path=/mutate-gateway-networking-k8s-io-v1-httproute,mutating=true,failurePolicy=fail,sideEffects=None,groups=gateway.networking.k8s.io,resources=httproutes,verbs=create;update,versions=v1,name=mhttproute.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5,reinvocationPolicy=IfNeeded,patch=`{"matchConditions":[{"name":"needs-defaulting","expression":"!has(object.spec.parentRefs) || size(object.spec.parentRefs) == 0 || (has(object.metadata.annotations) && 'gateway.opendi.com/auto-attach' in object.metadata.annotations && object.metadata.annotations['gateway.opendi.com/auto-attach'] == 'true') || (has(object.spec.hostnames) && !object.spec.hostnames.all(h, h.matches('^([*][.])?[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')))"}]}`
// +kubebuilder:webhook:path=/mutate-gateway-networking-k8s-io-v1-grpcroute,mutating=true,failurePolicy=fail,sideEffects=None,groups=gateway.networking.k8s.io,resources=grpcroutes,verbs=create;update,versions=v1,name=mgrpcroute.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5,reinvocationPolicy=IfNeeded,patch=`{"matchConditions":[{"name":"needs-defaulting","expression":"!has(object.spec.parentRefs) || size(object.spec.parentRefs) == 0 || (has(object.metadata.annotations) && 'gateway.opendi.com/auto-attach' in object.metadata.annotations && object.metadata.annotations['gateway.opendi.com/auto-attach'] == 'true') || (has(object.spec.hostnames) && !object.spec.hostnames.all(h, h.matches('^([*][.])?[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')))"}]}`
// +kubebuilder:webhook:path=/validate-gateway-networking-k8s-io-v1-httproute,mutating=false,failurePolicy=fail,sideEffects=NoneOnDryRun,groups=gateway.networking.k8s.io,resources=httproutes,verbs=create;update,versions=v1,name=vhttproute.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5
// +kubebuilder:webhook:path=/validate-gateway-networking-k8s-io-v1-grpcroute,mutating=false,failurePolicy=fail,sideEffects=NoneOnDryRun,groups=gateway.networking.k8s.io,resources=grpcroutes,verbs=create;update,versions=v1,name=vgrpcroute.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5

// RouteDefaulter normalizes an HTTPRoute's hostnames and opts a route without parentRefs into
// automatic attachment.
type RouteDefaulter struct {
	View ownership.View
}

var _ admission.Defaulter[*gwv1.HTTPRoute] = &RouteDefaulter{}

// Default implements admission.Defaulter.
func (m *RouteDefaulter) Default(ctx context.Context, r *gwv1.HTTPRoute) error {
	return m.defaultRoute(ctx, &r.ObjectMeta, &r.Spec.CommonRouteSpec, r.Spec.Hostnames)
}

// defaultRoute normalizes hostnames in place and, for a route that opts into automatic
// attachment, adds the parentRefs of the Gateways its hostnames are seated on. Every route kind
// shares it.
func (m *RouteDefaulter) defaultRoute(ctx context.Context, meta *metav1.ObjectMeta, common *gwv1.CommonRouteSpec, hostnames []gwv1.Hostname) error {
	for i, raw := range hostnames {
		// A hostname that cannot be normalized is left as it is for validation to report.
		if h, err := hostname.Normalize(string(raw)); err == nil {
			hostnames[i] = gwv1.Hostname(h)
		}
	}
	if len(common.ParentRefs) == 0 && meta.Annotations[AnnotationAutoAttach] == "" {
		if meta.Annotations == nil {
			meta.Annotations = map[string]string{}
		}
		meta.Annotations[AnnotationAutoAttach] = "true"
	}
	if meta.Annotations[AnnotationAutoAttach] != "true" {
		return nil
	}
	for _, raw := range hostnames {
		gw, err := m.assignedGateway(ctx, string(raw), meta.Namespace)
		if err != nil {
			return err
		}
		// HasParent reads only the route's namespace and parentRefs.
		probe := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: meta.Namespace}, Spec: gwv1.HTTPRouteSpec{CommonRouteSpec: *common}}
		if gw != nil && !HasParent(probe, *gw) {
			common.ParentRefs = append(common.ParentRefs, ParentRef(*gw))
		}
	}
	return nil
}

// GRPCRouteDefaulter is RouteDefaulter for GRPCRoutes.
type GRPCRouteDefaulter RouteDefaulter

var _ admission.Defaulter[*gwv1.GRPCRoute] = &GRPCRouteDefaulter{}

// Default implements admission.Defaulter.
func (m *GRPCRouteDefaulter) Default(ctx context.Context, r *gwv1.GRPCRoute) error {
	return (*RouteDefaulter)(m).defaultRoute(ctx, &r.ObjectMeta, &r.Spec.CommonRouteSpec, r.Spec.Hostnames)
}

// assignedGateway is the Gateway assigned to the claim that serves h for namespace ns, if any.
func (m *RouteDefaulter) assignedGateway(ctx context.Context, h, ns string) (*v1alpha1.ObjectRef, error) {
	names := []string{hostname.ClaimName(h)}
	if !hostname.IsWildcard(h) {
		if p := hostname.Parent(h); p != "" {
			names = append(names, hostname.ClaimName("*."+p))
		}
	}
	for _, n := range names {
		c, err := m.View.Claim(ctx, n)
		if err != nil {
			return nil, err
		}
		if c != nil && c.Spec.Namespace == ns && c.Status.Gateway != nil {
			return c.Status.Gateway, nil
		}
	}
	return nil, nil
}

// ParentRef is the parentRef of a route attached to a pool Gateway. It names no section: each
// hostname has its own listener there, and the route attaches to every listener that admits its
// namespace and whose hostname intersects its own, so it follows its hostnames' listeners as
// claims come and go.
func ParentRef(gw v1alpha1.ObjectRef) gwv1.ParentReference {
	return gwv1.ParentReference{
		Group:     ptr.To(gwv1.Group(gwv1.GroupName)),
		Kind:      ptr.To(gwv1.Kind("Gateway")),
		Namespace: ptr.To(gwv1.Namespace(gw.Namespace)),
		Name:      gwv1.ObjectName(gw.Name),
	}
}

// HasParent reports whether a route already names Gateway gw as a parent (a parentRef without
// a namespace means the route's own).
func HasParent(r *gwv1.HTTPRoute, gw v1alpha1.ObjectRef) bool {
	for _, p := range r.Spec.ParentRefs {
		ns := r.Namespace
		if p.Namespace != nil {
			ns = string(*p.Namespace)
		}
		if string(p.Name) == gw.Name && ns == gw.Namespace {
			return true
		}
	}
	return false
}

// RouteValidator enforces first-come-first-serve hostname ownership on HTTPRoutes through the
// Door. A route attached to a pool Gateway must name its hostnames.
type RouteValidator Door

var _ admission.Validator[*gwv1.HTTPRoute] = &RouteValidator{}

// ValidateCreate implements admission.Validator.
func (v *RouteValidator) ValidateCreate(ctx context.Context, r *gwv1.HTTPRoute) (admission.Warnings, error) {
	return (*Door)(v).route(ctx, "HTTPRoute", &r.ObjectMeta, &r.Spec.CommonRouteSpec, r.Spec.Hostnames)
}

// ValidateUpdate implements admission.Validator. Every hostname and parentRef is checked again:
// a hostname transferred to another namespace, or whose claim is being released, stops being
// usable at the next change.
func (v *RouteValidator) ValidateUpdate(ctx context.Context, old, r *gwv1.HTTPRoute) (admission.Warnings, error) {
	if bookkeeping(old, r, &old.Spec, &r.Spec) {
		return nil, nil
	}
	return v.ValidateCreate(ctx, r)
}

// ValidateDelete implements admission.Validator.
func (v *RouteValidator) ValidateDelete(context.Context, *gwv1.HTTPRoute) (admission.Warnings, error) {
	return nil, nil
}

// GRPCRouteValidator is RouteValidator for GRPCRoutes.
type GRPCRouteValidator Door

var _ admission.Validator[*gwv1.GRPCRoute] = &GRPCRouteValidator{}

// ValidateCreate implements admission.Validator.
func (v *GRPCRouteValidator) ValidateCreate(ctx context.Context, r *gwv1.GRPCRoute) (admission.Warnings, error) {
	return (*Door)(v).route(ctx, "GRPCRoute", &r.ObjectMeta, &r.Spec.CommonRouteSpec, r.Spec.Hostnames)
}

// ValidateUpdate implements admission.Validator, checking everything again as for HTTPRoutes.
func (v *GRPCRouteValidator) ValidateUpdate(ctx context.Context, old, r *gwv1.GRPCRoute) (admission.Warnings, error) {
	if bookkeeping(old, r, &old.Spec, &r.Spec) {
		return nil, nil
	}
	return v.ValidateCreate(ctx, r)
}

// ValidateDelete implements admission.Validator.
func (v *GRPCRouteValidator) ValidateDelete(context.Context, *gwv1.GRPCRoute) (admission.Warnings, error) {
	return nil, nil
}

// route admits a route of any kind: its hostnames through the Door, and a hostless route only
// away from the pool Gateways, where it would match every Host on the shared load balancer.
func (door *Door) route(ctx context.Context, kind string, meta *metav1.ObjectMeta, common *gwv1.CommonRouteSpec, hostnames []gwv1.Hostname) (admission.Warnings, error) {
	path := field.NewPath("spec", "hostnames")
	e := Entrance{
		Kind:      schema.GroupKind{Group: gwv1.GroupName, Kind: kind},
		Namespace: meta.Namespace,
		Name:      ObjectName(meta.Name, meta.GenerateName),
	}
	for i, h := range hostnames {
		e.Hosts = append(e.Hosts, Host{Path: path.Index(i), Name: string(h)})
	}
	if len(hostnames) == 0 {
		gw, err := door.poolParent(ctx, meta.Namespace, common.ParentRefs)
		if err != nil {
			return nil, apierrors.NewInternalError(fmt.Errorf("looking up the route's parent Gateways: %w", err))
		}
		if gw != "" {
			e.Errs = append(e.Errs, field.Required(path, fmt.Sprintf(
				"a route attached to a shared pool Gateway (%s) must name its hostnames; without hostnames it would match every Host on the load balancer", gw)))
		}
	}
	return door.Admit(ctx, e)
}

// bookkeeping reports whether an update changes nothing a user decides: the object is being
// deleted, or only its finalizers, owner references or managed fields change. Such updates
// come from controllers and must never be wedged by a hostname the object can no longer use.
func bookkeeping(old, obj metav1.Object, oldSpec, spec any) bool {
	return obj.GetDeletionTimestamp() != nil ||
		(equality.Semantic.DeepEqual(oldSpec, spec) &&
			equality.Semantic.DeepEqual(old.GetLabels(), obj.GetLabels()) &&
			equality.Semantic.DeepEqual(old.GetAnnotations(), obj.GetAnnotations()))
}
