package webhook

import (
	"context"
	"fmt"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

// Door is the one admission decision every object that carries a hostname goes through:
// normalization, ownership.Decide for each hostname, one response listing every bad hostname,
// the claims of free hostnames (never on dry-run) and metrics. The validators of each kind are
// thin typed adapters over it.
type Door struct {
	View ownership.View
	// Reader reads Gateways, GatewayPools and IngressClasses from the manager's cache.
	Reader client.Reader
	// Claimer creates the claims of free hostnames.
	Claimer *Claimer
	Options ownership.Options
	// ClassParams says the API server serves LBC's IngressClassParams, whose group an Ingress's
	// class may impose (read from Reader as unstructured objects).
	ClassParams bool
	// Counter counts a namespace's claims in a zone for the caps of ownership.CheckCaps; nil
	// enforces no caps.
	Counter ownership.ClaimCounter
	Metrics *Metrics
	// TargetGroupConfigs says LBC's TargetGroupConfigurations are cached (indexed by Service,
	// TargetGroupConfigService); Live reads the few Services their checks need.
	TargetGroupConfigs bool
	Live               client.Reader

	gate capGate
}

// Host is one hostname an object carries, and the field that holds it.
type Host struct {
	Path *field.Path
	Name string
}

// Entrance is what an adapter hands the Door: the object, its hostnames and any denial of its
// own (a hostless route on a shared Gateway).
type Entrance struct {
	Kind      schema.GroupKind
	Namespace string
	// Name is the object's name, or its generateName followed by "*".
	Name  string
	Hosts []Host
	// ManagedOnly lets hostnames outside every ManagedZone pass untouched (Ingresses and
	// Gateways may serve names this cluster does not hand out); routes are always decided.
	ManagedOnly bool
	// Errs are the adapter's own denials, reported together with the hostnames'.
	Errs field.ErrorList
	// OwnedOnly denies the hostnames under a ManagedZone that the namespace does not own yet
	// instead of claiming them: the object binds no claim (a TLSRoute: it keeps a claim in use,
	// see reconciler/claim, but provisions nothing), so a claim made for it would never be bound.
	OwnedOnly bool
}

// ObjectName is the name of an object being admitted, or its generateName followed by "*".
func ObjectName(name, generateName string) string {
	if name == "" {
		return generateName + "*"
	}
	return name
}

// Admit decides every hostname of e for its namespace and claims the free ones once all of them
// passed, so a denied object claims nothing it can avoid. The error is the denial (an Invalid
// status listing every bad hostname) or an internal error.
func (door *Door) Admit(ctx context.Context, e Entrance) (admission.Warnings, error) {
	start := time.Now()
	dryRun, creating := false, false
	if req, err := admission.RequestFromContext(ctx); err == nil {
		dryRun = req.DryRun != nil && *req.DryRun
		creating = req.Operation == admissionv1.Create
	}
	usedBy := e.Kind.Kind + " " + e.Namespace + "/" + e.Name
	log := logf.FromContext(ctx).WithValues("object", usedBy, "dryRun", dryRun)

	errs := e.Errs
	var claims, held []claim
	seen := map[string]bool{}
	outcome := "allowed"
	defer func() { door.Metrics.observe(outcome, time.Since(start)) }()

	for _, host := range e.Hosts {
		h, err := hostname.Normalize(host.Name)
		if err != nil {
			if !e.ManagedOnly {
				errs = append(errs, field.Invalid(host.Path, host.Name, err.Error()))
				door.Metrics.decision(ownership.ReasonInvalid)
			}
			continue
		}
		if seen[h] {
			continue
		}
		seen[h] = true
		d, err := ownership.Decide(ctx, door.View, h, e.Namespace, door.Options)
		if err != nil {
			outcome = "error"
			return nil, apierrors.NewInternalError(fmt.Errorf("deciding hostname %q: %w", h, err))
		}
		if e.ManagedOnly && d.Reason == ownership.ReasonNoZone {
			continue
		}
		if e.OwnedOnly && d.Verdict == ownership.Claim {
			d = d.Deny(v1alpha1.ReasonNotOwnedYet, "hostname %q is not claimed by namespace %q yet, and a %s does not claim hostnames; use it first in an HTTPRoute, GRPCRoute, Ingress or Gateway listener of the namespace, or ask a cluster admin for a DomainClaim",
				h, e.Namespace, e.Kind.Kind)
		}
		door.Metrics.decision(d.Reason)
		switch d.Verdict {
		case ownership.Deny:
			errs = append(errs, forbidden(host.Path, d))
		case ownership.Claim:
			claims = append(claims, claim{d, host.Path})
		case ownership.Allow:
			if d.Held != nil {
				held = append(held, claim{d, host.Path})
			}
		}
	}
	if len(errs) == 0 && !dryRun {
		var kept field.ErrorList
		var err error
		if claims, kept, err = door.keep(ctx, e, creating, held, claims); err != nil {
			outcome = "error"
			return nil, apierrors.NewInternalError(err)
		}
		errs = append(errs, kept...)
	}
	if len(errs) == 0 && !dryRun && door.Counter != nil && capped(claims, door.Options.Limits) {
		// Count and reserve in the namespace's turn, so that racing creates cannot pass a cap.
		done, err := door.gate.turn(ctx, e.Namespace)
		if err != nil {
			outcome = "error"
			return nil, apierrors.NewTimeoutError(fmt.Sprintf("waiting for namespace %q's other admissions to count its DomainClaims against the caps: %v", e.Namespace, err), 1)
		}
		errs, err = door.caps(ctx, e.Namespace, claims)
		if err == nil && len(errs) == 0 {
			// The claims count from now on; they are forgotten again unless admission makes them.
			r := door.gate.reserve(e.Namespace, claims)
			defer func() {
				if len(errs) > 0 || outcome == "error" {
					door.gate.forget(r)
				}
			}()
		}
		done()
		if err != nil {
			outcome = "error"
			return nil, apierrors.NewInternalError(err)
		}
	} else if len(errs) == 0 {
		capErrs, err := door.caps(ctx, e.Namespace, claims)
		if err != nil {
			outcome = "error"
			return nil, apierrors.NewInternalError(err)
		}
		errs = append(errs, capErrs...)
	}
	if len(errs) == 0 && !dryRun {
		ds := make([]ownership.Decision, len(claims))
		for i, c := range claims {
			ds[i] = c.d
		}
		// ClaimAll withdraws every claim it made when any hostname ends up denied.
		got, err := door.Claimer.ClaimAll(ctx, ds, e.Namespace, usedBy)
		if err != nil {
			outcome = "error"
			return nil, apierrors.NewInternalError(err)
		}
		for i, d := range got {
			if d.Verdict == ownership.Deny {
				door.Metrics.decision(d.Reason)
				errs = append(errs, forbidden(claims[i].path, d))
				continue
			}
			log.Info("claimed hostname", "hostname", d.Hostname, "namespace", e.Namespace)
		}
	}
	if len(errs) > 0 {
		outcome = "denied"
		log.V(1).Info("denied", "reasons", errs.ToAggregate().Error())
		return nil, apierrors.NewInvalid(e.Kind, e.Name, errs)
	}
	return nil, nil
}

// keep marks the idle claims through which e's namespace holds hostnames of e (Claimer.Keep), so
// that none is released before e is stored; a claim in use by another stored object of the
// namespace is left alone, without a write. A hostname whose claim went meanwhile is added to
// claims, to be claimed anew; one whose claim is being deleted, or is another namespace's now,
// is denied.
func (door *Door) keep(ctx context.Context, e Entrance, creating bool, held, claims []claim) ([]claim, field.ErrorList, error) {
	var errs field.ErrorList
	for _, h := range held {
		switch needsMark(h.d.Held) {
		case markNever:
			continue
		case markUnlessUsed:
			var self *Entrance
			if creating {
				self = &e
			}
			used, err := usedElsewhere(ctx, door.Reader, h.d.Held, self)
			if err != nil {
				return claims, nil, err
			}
			if used {
				continue
			}
		}
		d, err := door.Claimer.Keep(ctx, h.d, e.Namespace, time.Now())
		if err != nil {
			return claims, nil, err
		}
		switch d.Verdict {
		case ownership.Deny:
			door.Metrics.decision(d.Reason)
			errs = append(errs, forbidden(h.path, d))
		case ownership.Claim:
			claims = append(claims, claim{d, h.path})
		}
	}
	return claims, errs, nil
}

type claim struct {
	d    ownership.Decision
	path *field.Path
}

// caps denies the new claims of namespace ns that would take it past a cap of their zone
// (ownership.CheckCaps), one denial per zone, on the first such hostname. Counts come from the
// cache and from the claims this process made that the cache does not show yet (capGate).
func (door *Door) caps(ctx context.Context, ns string, claims []claim) (field.ErrorList, error) {
	if door.Counter == nil {
		return nil, nil
	}
	adding := map[string]int{}
	first := map[string]claim{}
	var order []string
	for _, c := range claims {
		if c.d.Zone == nil {
			continue
		}
		name := c.d.Zone.Name
		if adding[name] == 0 {
			first[name] = c
			order = append(order, name)
		}
		adding[name]++
	}
	var errs field.ErrorList
	for _, name := range order {
		c := first[name]
		lim := ownership.ZoneLimits(c.d.Zone, door.Options.Limits)
		if lim == (ownership.Limits{}) {
			continue
		}
		have, err := door.Counter.CountClaims(ctx, ns, c.d.Zone.Spec.Domain, lim)
		if err != nil {
			return nil, fmt.Errorf("counting the DomainClaims of namespace %q in ManagedZone %q: %w", ns, name, err)
		}
		fresh, err := door.gate.notYetCached(ctx, door.Reader, ns, c.d.Zone.Spec.Domain)
		if err != nil {
			return nil, fmt.Errorf("reading the DomainClaims namespace %q has just made: %w", ns, err)
		}
		have.Claims += fresh
		have.Unbound += fresh
		if msg := ownership.CheckCaps(c.d.Zone, ns, have, adding[name], door.Options.Limits); msg != "" {
			door.Metrics.decision(ReasonCapped)
			errs = append(errs, field.Forbidden(c.path, msg))
		}
	}
	return errs, nil
}

func forbidden(path *field.Path, d ownership.Decision) *field.Error {
	if d.Reason == ownership.ReasonInvalid {
		return field.Invalid(path, d.Hostname, d.Message)
	}
	return field.Forbidden(path, d.Message)
}
