package webhook

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
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
	AnnotationClaimedFor = "gateway.opendi.com/claimed-for"
	// LabelOwner carries a DomainClaim's owning namespace, for label selection.
	LabelOwner = "gateway.opendi.com/owner"
	// HTTPSListener is the section name of the HTTPS listener on every pool Gateway.
	HTTPSListener = "https"
)

// +kubebuilder:webhook:path=/mutate-gateway-networking-k8s-io-v1-httproute,mutating=true,failurePolicy=fail,sideEffects=None,groups=gateway.networking.k8s.io,resources=httproutes,verbs=create;update,versions=v1,name=mhttproute.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5,reinvocationPolicy=IfNeeded
// +kubebuilder:webhook:path=/validate-gateway-networking-k8s-io-v1-httproute,mutating=false,failurePolicy=fail,sideEffects=NoneOnDryRun,groups=gateway.networking.k8s.io,resources=httproutes,verbs=create;update,versions=v1,name=vhttproute.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5

// RouteDefaulter normalizes an HTTPRoute's hostnames and opts a route without parentRefs into
// automatic attachment.
type RouteDefaulter struct {
	View ownership.View
}

var _ admission.Defaulter[*gwv1.HTTPRoute] = &RouteDefaulter{}

// Default implements admission.Defaulter.
func (m *RouteDefaulter) Default(ctx context.Context, r *gwv1.HTTPRoute) error {
	for i, raw := range r.Spec.Hostnames {
		// A hostname that cannot be normalized is left as it is for validation to report.
		if h, err := hostname.Normalize(string(raw)); err == nil {
			r.Spec.Hostnames[i] = gwv1.Hostname(h)
		}
	}
	if len(r.Spec.ParentRefs) == 0 && r.Annotations[AnnotationAutoAttach] == "" {
		if r.Annotations == nil {
			r.Annotations = map[string]string{}
		}
		r.Annotations[AnnotationAutoAttach] = "true"
	}
	if r.Annotations[AnnotationAutoAttach] != "true" {
		return nil
	}
	for _, raw := range r.Spec.Hostnames {
		gw, err := m.assignedGateway(ctx, string(raw), r.Namespace)
		if err != nil {
			return err
		}
		if gw != nil && !HasParent(r, *gw) {
			r.Spec.ParentRefs = append(r.Spec.ParentRefs, ParentRef(*gw))
		}
	}
	return nil
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

// ParentRef is the parentRef of a route attached to a pool Gateway's HTTPS listener.
func ParentRef(gw v1alpha1.ObjectRef) gwv1.ParentReference {
	return gwv1.ParentReference{
		Group:       ptr.To(gwv1.Group(gwv1.GroupName)),
		Kind:        ptr.To(gwv1.Kind("Gateway")),
		Namespace:   ptr.To(gwv1.Namespace(gw.Namespace)),
		Name:        gwv1.ObjectName(gw.Name),
		SectionName: ptr.To(gwv1.SectionName(HTTPSListener)),
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

// RouteValidator enforces first-come-first-serve hostname ownership on HTTPRoutes. A hostname
// new to the route is decided from the cache; a free one is claimed by creating its DomainClaim
// with a live API call, whose deterministic name makes concurrent claims collide in the API
// server so that exactly one wins.
type RouteValidator struct {
	View ownership.View
	// Claimer creates the claims of free hostnames.
	Claimer *Claimer
	Options ownership.Options
	Metrics *Metrics
}

var _ admission.Validator[*gwv1.HTTPRoute] = &RouteValidator{}

// ValidateCreate implements admission.Validator.
func (v *RouteValidator) ValidateCreate(ctx context.Context, r *gwv1.HTTPRoute) (admission.Warnings, error) {
	return v.validate(ctx, r, nil)
}

// ValidateUpdate implements admission.Validator. Only hostnames the update adds are checked.
func (v *RouteValidator) ValidateUpdate(ctx context.Context, old, r *gwv1.HTTPRoute) (admission.Warnings, error) {
	had := map[string]bool{}
	for _, raw := range old.Spec.Hostnames {
		h, err := hostname.Normalize(string(raw))
		if err == nil {
			had[h] = true
		}
	}
	return v.validate(ctx, r, had)
}

// ValidateDelete implements admission.Validator.
func (v *RouteValidator) ValidateDelete(context.Context, *gwv1.HTTPRoute) (admission.Warnings, error) {
	return nil, nil
}

func (v *RouteValidator) validate(ctx context.Context, r *gwv1.HTTPRoute, had map[string]bool) (admission.Warnings, error) {
	start := time.Now()
	dryRun := false
	if req, err := admission.RequestFromContext(ctx); err == nil && req.DryRun != nil {
		dryRun = *req.DryRun
	}
	log := logf.FromContext(ctx).WithValues("route", client.ObjectKeyFromObject(r), "dryRun", dryRun)

	var errs field.ErrorList
	var claims []ownership.Decision
	seen := map[string]bool{}
	outcome := "allowed"
	defer func() { v.Metrics.observe(outcome, time.Since(start)) }()

	for i, raw := range r.Spec.Hostnames {
		path := field.NewPath("spec", "hostnames").Index(i)
		h, err := hostname.Normalize(string(raw))
		if err != nil {
			errs = append(errs, field.Invalid(path, string(raw), err.Error()))
			v.Metrics.decision(ownership.ReasonInvalid)
			continue
		}
		if had[h] || seen[h] {
			continue
		}
		seen[h] = true
		d, err := ownership.Decide(ctx, v.View, h, r.Namespace, v.Options)
		if err != nil {
			outcome = "error"
			return nil, apierrors.NewInternalError(fmt.Errorf("deciding hostname %q: %w", h, err))
		}
		v.Metrics.decision(d.Reason)
		switch d.Verdict {
		case ownership.Deny:
			errs = append(errs, forbidden(path, d))
		case ownership.Claim:
			claims = append(claims, d)
		}
	}
	if len(errs) == 0 && !dryRun {
		// Claim only when every hostname passed, so a denied route claims nothing it can avoid.
		got, err := v.Claimer.ClaimAll(ctx, claims, r.Namespace, "HTTPRoute "+r.Namespace+"/"+routeName(r))
		if err != nil {
			outcome = "error"
			return nil, apierrors.NewInternalError(err)
		}
		for _, d := range got {
			if d.Verdict == ownership.Deny {
				v.Metrics.decision(d.Reason)
				errs = append(errs, forbidden(field.NewPath("spec", "hostnames").Index(indexOf(r, d.Hostname)), d))
				continue
			}
			log.Info("claimed hostname", "hostname", d.Hostname, "namespace", r.Namespace)
		}
	}
	if len(errs) > 0 {
		outcome = "denied"
		log.V(1).Info("denied", "reasons", errs.ToAggregate().Error())
		return nil, apierrors.NewInvalid(schema.GroupKind{Group: gwv1.GroupName, Kind: "HTTPRoute"}, r.Name, errs)
	}
	return nil, nil
}

func routeName(r *gwv1.HTTPRoute) string {
	if r.Name == "" {
		return r.GenerateName + "*"
	}
	return r.Name
}

func forbidden(path *field.Path, d ownership.Decision) *field.Error {
	if d.Reason == ownership.ReasonInvalid {
		return field.Invalid(path, d.Hostname, d.Message)
	}
	return field.Forbidden(path, d.Message)
}

func indexOf(r *gwv1.HTTPRoute, h string) int {
	for i, raw := range r.Spec.Hostnames {
		if n, err := hostname.Normalize(string(raw)); err == nil && n == h {
			return i
		}
	}
	return 0
}
