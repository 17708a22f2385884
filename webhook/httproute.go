package webhook

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
)

const (
	// LegacySection is the section name of the single HTTPS listener pool Gateways had before
	// each hostname got its own; a tenant's route naming it on a pool Gateway would attach nowhere.
	LegacySection = "https"
)

// The mutating webhooks see only routes with something to do: a hostname not yet in normalized
// form, or a parentRef naming the legacy "https" section (matchConditions). Routes without
// parentRefs are opted into automatic attachment by the routes reconciler, not here, so a
// normalized route costs one webhook call (the validating one, which sees every route). A route
// being deleted is never mutated: a controller's finalizer removal must leave the spec as it is,
// or the validating webhook checks the changed spec and may deny, wedging the delete.
// +kubebuilder:webhook:path=/mutate-gateway-networking-k8s-io-v1-httproute,mutating=true,failurePolicy=fail,sideEffects=None,groups=gateway.networking.k8s.io,resources=httproutes,verbs=create;update,versions=v1,name=mhttproute.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5,reinvocationPolicy=IfNeeded,patch=`{"matchConditions":[{"name":"not-being-deleted","expression":"!has(object.metadata.deletionTimestamp)"},{"name":"needs-defaulting","expression":"(has(object.spec.parentRefs) && object.spec.parentRefs.exists(p, has(p.sectionName) && p.sectionName == 'https')) || (has(object.spec.hostnames) && !object.spec.hostnames.all(h, h.matches('^([*][.])?[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')))"}]}`
// +kubebuilder:webhook:path=/mutate-gateway-networking-k8s-io-v1-grpcroute,mutating=true,failurePolicy=fail,sideEffects=None,groups=gateway.networking.k8s.io,resources=grpcroutes,verbs=create;update,versions=v1,name=mgrpcroute.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5,reinvocationPolicy=IfNeeded,patch=`{"matchConditions":[{"name":"not-being-deleted","expression":"!has(object.metadata.deletionTimestamp)"},{"name":"needs-defaulting","expression":"(has(object.spec.parentRefs) && object.spec.parentRefs.exists(p, has(p.sectionName) && p.sectionName == 'https')) || (has(object.spec.hostnames) && !object.spec.hostnames.all(h, h.matches('^([*][.])?[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')))"}]}`
// +kubebuilder:webhook:path=/validate-gateway-networking-k8s-io-v1-httproute,mutating=false,failurePolicy=fail,sideEffects=NoneOnDryRun,groups=gateway.networking.k8s.io,resources=httproutes,verbs=create;update,versions=v1,name=vhttproute.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5
// +kubebuilder:webhook:path=/validate-gateway-networking-k8s-io-v1-grpcroute,mutating=false,failurePolicy=fail,sideEffects=NoneOnDryRun,groups=gateway.networking.k8s.io,resources=grpcroutes,verbs=create;update,versions=v1,name=vgrpcroute.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5

// RouteDefaulter normalizes an HTTPRoute's hostnames and removes the legacy "https" section from
// a tenant's parentRefs to pool Gateways: such a Gateway has one listener per seated hostname,
// named like its claim, and a parentRef without a section attaches to the ones that admit the
// route.
type RouteDefaulter struct {
	// Reader reads Gateways from the manager's cache.
	Reader client.Reader
}

var _ admission.Defaulter[*gwv1.HTTPRoute] = &RouteDefaulter{}

// Default implements admission.Defaulter.
func (m *RouteDefaulter) Default(ctx context.Context, r *gwv1.HTTPRoute) error {
	if r.DeletionTimestamp != nil {
		return nil // see the matchConditions: a route being deleted is left as it is
	}
	return m.defaultRoute(ctx, r.Namespace, &r.Spec.CommonRouteSpec, r.Spec.Hostnames)
}

// defaultRoute normalizes hostnames in place and drops the legacy section; every route kind
// shares it.
func (m *RouteDefaulter) defaultRoute(ctx context.Context, ns string, common *gwv1.CommonRouteSpec, hostnames []gwv1.Hostname) error {
	for i, raw := range hostnames {
		// A hostname that cannot be normalized is left as it is for validation to report.
		if h, err := hostname.Normalize(string(raw)); err == nil {
			hostnames[i] = gwv1.Hostname(h)
		}
	}
	for i, p := range common.ParentRefs {
		if p.SectionName == nil || string(*p.SectionName) != LegacySection || !v1alpha1.IsGatewayRef(p) {
			continue
		}
		gw := v1alpha1.ParentKey(ns, p)
		if gw.Namespace == ns {
			continue // the platform's own routes may use a seatless Gateway's listener
		}
		pool, err := poolGateway(ctx, m.Reader, gw)
		if err != nil {
			return err
		}
		if pool {
			common.ParentRefs[i].SectionName = nil
		}
	}
	return nil
}

// poolGateway reports whether Gateway gw is a pool's (labelled as such), read from the cache.
func poolGateway(ctx context.Context, rd client.Reader, gw v1alpha1.ObjectRef) (bool, error) {
	if rd == nil {
		return false, nil
	}
	obj := &gwv1.Gateway{}
	if err := rd.Get(ctx, client.ObjectKey{Namespace: gw.Namespace, Name: gw.Name}, obj); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	return obj.Labels[LabelPool] != "", nil
}

// GRPCRouteDefaulter is RouteDefaulter for GRPCRoutes.
type GRPCRouteDefaulter RouteDefaulter

var _ admission.Defaulter[*gwv1.GRPCRoute] = &GRPCRouteDefaulter{}

// Default implements admission.Defaulter.
func (m *GRPCRouteDefaulter) Default(ctx context.Context, r *gwv1.GRPCRoute) error {
	if r.DeletionTimestamp != nil {
		return nil
	}
	return (*RouteDefaulter)(m).defaultRoute(ctx, r.Namespace, &r.Spec.CommonRouteSpec, r.Spec.Hostnames)
}

// RouteValidator enforces first-come-first-serve hostname ownership on HTTPRoutes through the
// Door. A route attached to a pool Gateway must name its hostnames.
type RouteValidator Door

var _ admission.Validator[*gwv1.HTTPRoute] = &RouteValidator{}

// ValidateCreate implements admission.Validator.
func (v *RouteValidator) ValidateCreate(ctx context.Context, r *gwv1.HTTPRoute) (admission.Warnings, error) {
	return (*Door)(v).route(ctx, "HTTPRoute", &r.ObjectMeta, &r.Spec.CommonRouteSpec, r.Spec.Hostnames, httpShapes(r), httpBackends(r), nil)
}

// ValidateUpdate implements admission.Validator. Every hostname and parentRef is checked again:
// a hostname transferred to another namespace, or whose claim is being released, stops being
// usable at the next change, unless the change only removes parentRefs (detaching).
func (v *RouteValidator) ValidateUpdate(ctx context.Context, old, r *gwv1.HTTPRoute) (admission.Warnings, error) {
	if bookkeeping(old, r, &old.Spec, &r.Spec) || detaching(old, r, old.Spec, r.Spec, httpRouteRefs) {
		return nil, nil
	}
	return (*Door)(v).route(ctx, "HTTPRoute", &r.ObjectMeta, &r.Spec.CommonRouteSpec, r.Spec.Hostnames, httpShapes(r), httpBackends(r), old.Spec.ParentRefs)
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
	return (*Door)(v).route(ctx, "GRPCRoute", &r.ObjectMeta, &r.Spec.CommonRouteSpec, r.Spec.Hostnames, grpcShapes(r), grpcBackends(r), nil)
}

// ValidateUpdate implements admission.Validator, checking everything again as for HTTPRoutes.
func (v *GRPCRouteValidator) ValidateUpdate(ctx context.Context, old, r *gwv1.GRPCRoute) (admission.Warnings, error) {
	if bookkeeping(old, r, &old.Spec, &r.Spec) || detaching(old, r, old.Spec, r.Spec, grpcRouteRefs) {
		return nil, nil
	}
	return (*Door)(v).route(ctx, "GRPCRoute", &r.ObjectMeta, &r.Spec.CommonRouteSpec, r.Spec.Hostnames, grpcShapes(r), grpcBackends(r), old.Spec.ParentRefs)
}

// ValidateDelete implements admission.Validator.
func (v *GRPCRouteValidator) ValidateDelete(context.Context, *gwv1.GRPCRoute) (admission.Warnings, error) {
	return nil, nil
}

// route admits a route of any kind: its hostnames through the Door, a hostless route only away
// from the pool Gateways, where it would match every Host on the shared load balancer, and a
// parentRef to a pool Gateway only where the route's hostnames are seated (seatedParents). On
// UPDATE, oldRefs are the parentRefs before: only the parentRefs the update adds are checked
// against the seats, so a route whose hostname moved to another Gateway is not wedged. shapes
// are what its rules ask of the ALB (albQuotas), backends its Service backendRefs, whose
// TargetGroupConfigurations must suit the ALB (routeTargetGroupConfigs).
func (door *Door) route(ctx context.Context, kind string, meta *metav1.ObjectMeta, common *gwv1.CommonRouteSpec, hostnames []gwv1.Hostname, shapes []ruleShape, backends []serviceBackend, oldRefs []gwv1.ParentReference) (admission.Warnings, error) {
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
	errs, err := door.seatedParents(ctx, meta.Namespace, common.ParentRefs, oldRefs, hostnames)
	if err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("looking up where the route's hostnames are seated: %w", err))
	}
	e.Errs = append(e.Errs, errs...)
	if errs, err = door.albQuotas(ctx, meta, common.ParentRefs, hostnames, shapes); err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("looking up the route's parent Gateways: %w", err))
	}
	e.Errs = append(e.Errs, errs...)
	if errs, err = door.routeTargetGroupConfigs(ctx, kind, meta, common.ParentRefs, hostnames, backends); err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("looking up the TargetGroupConfigurations of the route's Services: %w", err))
	}
	e.Errs = append(e.Errs, errs...)
	if errs, err = door.gatewayRules(ctx, kind, meta, common.ParentRefs, hostnames, shapes); err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("counting the ALB rules of the route's hostnames: %w", err))
	}
	e.Errs = append(e.Errs, errs...)
	return door.Admit(ctx, e)
}

// bookkeeping reports whether an update changes nothing a user decides: only its finalizers,
// owner references or managed fields change, or, for an object being deleted, anything but its
// spec. Such updates come from controllers and must never be wedged by a hostname the object can
// no longer use. The spec of an object being deleted is checked like any other: a finalizer of
// the tenant's own keeps such an object for as long as the tenant likes, and LBC serves routes
// and load balancer configurations being deleted like the others.
func bookkeeping(old, obj metav1.Object, oldSpec, spec any) bool {
	return equality.Semantic.DeepEqual(oldSpec, spec) &&
		(obj.GetDeletionTimestamp() != nil ||
			(equality.Semantic.DeepEqual(old.GetLabels(), obj.GetLabels()) &&
				equality.Semantic.DeepEqual(old.GetAnnotations(), obj.GetAnnotations())))
}
