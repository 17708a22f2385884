// Package routes is the routes reconciler: it attaches routes created without parentRefs to the
// pool Gateways their hostnames are seated on, and tells routes what is wrong with them.
//
//   - Watches: HTTPRoutes and GRPCRoutes (one controller per kind, on generation and annotation
//     changes), and DomainClaims (mapped through the hostname index to the routes that list
//     the claim's hostname).
//   - Owns: the parentRefs it added to the routes it attaches automatically (recorded in the
//     v1alpha1.AnnotationAttachedTo annotation; they follow the seats of the route's
//     hostnames), that annotation and v1alpha1.AnnotationAutoAttach, and the Events it records
//     on routes. Never a parentRef a user wrote.
//   - Reads: the claims' status (status.gateway, GatewayAssigned) written by the pool reconciler,
//     and ManagedZones (the pool of a zone). It never writes a claim.
package routes

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/routeuse"
)

// Controller names, one per route kind, in logs and metrics.
const (
	// ControllerNameHTTPRoute names the controller of HTTPRoutes.
	ControllerNameHTTPRoute = "routes-HTTPRoute"
	// ControllerNameGRPCRoute names the controller of GRPCRoutes.
	ControllerNameGRPCRoute = "routes-GRPCRoute"
)

// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes;grpcroutes,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=gateway.opendi.com,resources=domainclaims;managedzones,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconciler reconciles HTTPRoutes and GRPCRoutes, one controller per kind.
type Reconciler struct {
	// Client reads from the manager's cache and patches routes.
	Client client.Client
	// Recorder records Events on routes; SetupWithManager supplies the manager's.
	Recorder events.EventRecorder
	// told remembers the last note of each Event per route and reason, so that reconciling
	// again does not repeat it.
	told sync.Map
}

// kind adapts the reconciler to one route kind.
type kind struct {
	r          *Reconciler
	name       string
	controller string
	new        func() client.Object
}

var _ reconcile.Reconciler = kind{}

func (r *Reconciler) kinds() []kind {
	return []kind{
		{r, "HTTPRoute", ControllerNameHTTPRoute, func() client.Object { return &gwv1.HTTPRoute{} }},
		{r, "GRPCRoute", ControllerNameGRPCRoute, func() client.Object { return &gwv1.GRPCRoute{} }},
	}
}

// SetupWithManager registers one controller per route kind. A route is looked at again when it
// changes and whenever a claim for one of its hostnames does.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder("gateway-orchestrator")
	}
	for _, k := range r.kinds() {
		if err := ctrl.NewControllerManagedBy(mgr).
			Named(k.controller).
			For(k.new(), builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
			Watches(&v1alpha1.DomainClaim{}, handler.EnqueueRequestsFromMapFunc(k.claimToRoutes)).
			Complete(k); err != nil {
			return err
		}
	}
	return nil
}

// claimToRoutes maps a claim to the routes of this kind, of any namespace, that list its hostname
// or, for a wildcard claim, a name one label below it.
func (k kind) claimToRoutes(ctx context.Context, o client.Object) []reconcile.Request {
	c := o.(*v1alpha1.DomainClaim)
	var reqs []reconcile.Request
	add := func(obj client.Object) {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(obj)})
	}
	opts := client.MatchingFields{index.RouteHostname: c.Spec.Hostname}
	switch k.name {
	case "HTTPRoute":
		var l gwv1.HTTPRouteList
		if err := k.r.Client.List(ctx, &l, opts); err != nil {
			return nil
		}
		for i := range l.Items {
			add(&l.Items[i])
		}
	case "GRPCRoute":
		var l gwv1.GRPCRouteList
		if err := k.r.Client.List(ctx, &l, opts); err != nil {
			return nil
		}
		for i := range l.Items {
			add(&l.Items[i])
		}
	}
	return reqs
}

// Reconcile implements reconcile.Reconciler for one route kind.
func (k kind) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	obj := k.new()
	if err := k.r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.GetDeletionTimestamp().IsZero() {
		return reconcile.Result{}, nil
	}
	common, raw := spec(obj)
	rt, err := k.r.gather(ctx, obj, common, raw)
	if err != nil {
		return reconcile.Result{}, err
	}
	p := PlanRoute(rt)
	for _, note := range p.NotOwned {
		k.r.tell(obj, "Warning", v1alpha1.EventHostnameNotOwned, note)
	}
	if p.Spread != "" {
		k.r.tell(obj, "Normal", v1alpha1.EventHostnamesSpread, p.Spread)
	}
	if !p.Changes() {
		return reconcile.Result{}, nil
	}
	// The lock keeps a user's concurrent change of parentRefs from being overwritten by a list
	// computed from the version before it.
	patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
	annotations := obj.GetAnnotations()
	p.Apply(&annotations, &common.ParentRefs)
	obj.SetAnnotations(annotations)
	if err := k.r.Client.Patch(ctx, obj, patch); err != nil {
		if apierrors.IsConflict(err) {
			// Someone else wrote the route meanwhile: plan again from the newer version.
			return reconcile.Result{RequeueAfter: 100 * time.Millisecond}, nil
		}
		if apierrors.IsNotFound(err) {
			return reconcile.Result{}, nil
		}
		if apierrors.IsInvalid(err) || apierrors.IsForbidden(err) {
			// Retrying cannot help until the route's owner changes it or a claim changes, and
			// either reconciles the route again.
			k.r.tell(obj, "Warning", v1alpha1.EventAttachDenied, attachDeniedNote(p.Add, err))
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, err
	}
	logf.FromContext(ctx).Info("attached route", "kind", k.name, "route", req.NamespacedName, "opted-in", p.Mark, "gateways", p.Add, "detached", len(p.Detach))
	return reconcile.Result{}, nil
}

// spec returns the parts of a route every kind shares.
func spec(obj client.Object) (*gwv1.CommonRouteSpec, []gwv1.Hostname) {
	switch rt := obj.(type) {
	case *gwv1.HTTPRoute:
		return &rt.Spec.CommonRouteSpec, rt.Spec.Hostnames
	case *gwv1.GRPCRoute:
		return &rt.Spec.CommonRouteSpec, rt.Spec.Hostnames
	}
	return &gwv1.CommonRouteSpec{}, nil
}

// gather reads, from the cache, the claim that answers for each hostname of a route and the pool
// its seated claims are on.
func (r *Reconciler) gather(ctx context.Context, obj client.Object, common *gwv1.CommonRouteSpec, raw []gwv1.Hostname) (Route, error) {
	rt := Route{Namespace: obj.GetNamespace(), Annotations: obj.GetAnnotations(), ParentRefs: common.ParentRefs}
	seen := map[string]bool{}
	for _, h := range raw {
		name, err := hostname.Normalize(string(h))
		if err != nil || seen[name] {
			continue
		}
		seen[name] = true
		c, err := routeuse.AnsweringClaim(ctx, r.Client, name)
		if err != nil {
			return rt, err
		}
		rt.Hostnames = append(rt.Hostnames, Hostname{Name: name, Claim: c})
		if rt.Pool == "" && c != nil && c.Status.ManagedZone != "" && c.SeatFor(rt.Namespace) != nil {
			z := &v1alpha1.ManagedZone{}
			if err := r.Client.Get(ctx, client.ObjectKey{Name: c.Status.ManagedZone}, z); err == nil && z.Spec.GatewayPoolRef != nil {
				rt.Pool = z.Spec.GatewayPoolRef.Name
			}
		}
	}
	return rt, nil
}

// tell records an Event on a route once per distinct note. The AWS Load Balancer Controller owns
// the status.parents entries of routes on its Gateways and overwrites them, so the orchestrator
// explains itself with Events on the route and conditions on the claim instead.
func (r *Reconciler) tell(o client.Object, typ, reason, note string) {
	key := string(o.GetUID()) + "/" + reason
	if prev, ok := r.told.Load(key); ok && prev == note {
		return
	}
	r.told.Store(key, note)
	if r.Recorder != nil {
		r.Recorder.Eventf(o, nil, typ, reason, "Route", "%s", note)
	}
}

// attachDeniedNote says which Gateways the route could not be attached to, and admission's answer.
func attachDeniedNote(gws []v1alpha1.ObjectRef, err error) string {
	names := make([]string, 0, len(gws))
	for _, gw := range gws {
		names = append(names, gw.Namespace+"/"+gw.Name)
	}
	return fmt.Sprintf("the orchestrator cannot attach this route to Gateway %s where its hostnames are seated, because admission refuses the route as it stands; fix what it says: %v",
		strings.Join(names, ", "), err)
}
