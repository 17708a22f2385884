// Package claim reconciles the lifecycle of DomainClaims that does not touch AWS: whether a
// route still uses the hostname, binding the claim once a persisted object uses it, releasing
// route-made claims after their retention period, and settling wildcard overlaps that slipped
// through an admission race (the older claim wins).
//
// It watches DomainClaims (and the claims that overlap them), HTTPRoutes, GRPCRoutes, Ingresses,
// Gateways and, where their CRDs are served, ListenerSets and TLSRoutes (through the hostname
// index; a TLSRoute keeps a claim in use but binds nothing), and reads
// ManagedZones and Namespaces. It owns the Claimed, InUse and Bound conditions and the status
// fields managedZone, hostedZoneID, ownerNamespace, lastReferencedTime and releaseTime
// (claimstatus.Claim), written by server-side apply. It deletes released claims and clears
// admission-pending marks a crash left.
package claim

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/claimstatus"
	"github.com/opendi/gateway-orchestrator/internal/conditions"
	"github.com/opendi/gateway-orchestrator/internal/fairqueue"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

// +kubebuilder:rbac:groups=gateway.opendi.com,resources=domainclaims,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=gateway.opendi.com,resources=domainclaims/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=gateway.opendi.com,resources=managedzones;gatewaypools,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes;grpcroutes;gateways;listenersets;tlsroutes,verbs=get;list;watch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconciler keeps a DomainClaim's Claimed and InUse conditions current and releases unused
// route-made claims.
type Reconciler struct {
	Client   client.Client
	Clock    clock.PassiveClock
	Recorder events.EventRecorder
	// Settlements counts overlaps settled here, which admission's own protocol did not stop:
	// claims made outside admission, or objects that bypassed the webhooks.
	Settlements prometheus.Counter
	// ListenerSets counts ListenerSets among the objects that use a hostname; set it only where
	// their CRD is served (and index.SetupListenerSets was called).
	ListenerSets bool
	// TLSRoutes counts TLSRoutes among the objects that keep a claim in use (Usage.TLSRoutes); set
	// it only where their CRD is served (and index.SetupTLSRoutes was called).
	TLSRoutes bool

	// written remembers the reconciler's status writes the cache has not shown yet.
	written claimstatus.Writes
}

// ControllerName names the reconciler in logs and metrics.
const ControllerName = "domainclaim-lifecycle"

var _ reconcile.Reconciler = &Reconciler{}

// SetupWithManager registers the reconciler. The indexes of package index must be registered.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.Settlements == nil {
		r.Settlements = NewSettlementCounter(nil)
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&v1alpha1.DomainClaim{}).
		Watches(&gwv1.HTTPRoute{}, handler.EnqueueRequestsFromMapFunc(routeToClaims)).
		Watches(&gwv1.GRPCRoute{}, handler.EnqueueRequestsFromMapFunc(routeToClaims)).
		Watches(&networkingv1.Ingress{}, handler.EnqueueRequestsFromMapFunc(routeToClaims)).
		Watches(&gwv1.Gateway{}, handler.EnqueueRequestsFromMapFunc(routeToClaims)).
		Watches(&v1alpha1.DomainClaim{}, handler.EnqueueRequestsFromMapFunc(r.overlappingClaims)).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.namespaceClaims), builder.WithPredicates(namespaceComesOrGoes)).
		WithOptions(fairqueue.ClaimOptions(mgr.GetCache(), 4))
	if r.ListenerSets {
		b = b.Watches(&gwv1.ListenerSet{}, handler.EnqueueRequestsFromMapFunc(routeToClaims))
	}
	if r.TLSRoutes {
		b = b.Watches(&gwv1.TLSRoute{}, handler.EnqueueRequestsFromMapFunc(routeToClaims))
	}
	return b.Complete(r)
}

// namespaceComesOrGoes passes a namespace's creation and deletion (and the start of it): its
// claims then say what became of their owner (Usage.Owner).
var namespaceComesOrGoes = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetDeletionTimestamp().IsZero() != e.ObjectNew.GetDeletionTimestamp().IsZero()
	},
	GenericFunc: func(event.GenericEvent) bool { return false },
}

// namespaceClaims maps a namespace to the claims it owns. Namespaces come and go rarely, so a
// scan of the cached claims is cheap enough.
func (r *Reconciler) namespaceClaims(ctx context.Context, o client.Object) []reconcile.Request {
	var l v1alpha1.DomainClaimList
	if err := r.Client.List(ctx, &l, client.UnsafeDisableDeepCopy); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for i := range l.Items {
		if l.Items[i].Spec.Namespace == o.GetName() {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Name: l.Items[i].Name}})
		}
	}
	return reqs
}

// routeToClaims maps a route to the claims its hostnames use.
func routeToClaims(_ context.Context, o client.Object) []reconcile.Request {
	keys := index.RouteKeys(o)
	reqs := make([]reconcile.Request, 0, len(keys))
	for _, h := range keys {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Name: hostname.ClaimName(h)}})
	}
	return reqs
}

// overlappingClaims maps a claim to the claims whose Claimed condition it can change.
func (r *Reconciler) overlappingClaims(ctx context.Context, o client.Object) []reconcile.Request {
	c := o.(*v1alpha1.DomainClaim)
	var reqs []reconcile.Request
	if hostname.IsWildcard(c.Spec.Hostname) {
		below, err := ownership.CacheView{Reader: r.Client}.ClaimsBelow(ctx, hostname.MatchDomain(c.Spec.Hostname))
		if err != nil {
			return nil
		}
		for _, b := range below {
			if b.Name != c.Name {
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Name: b.Name}})
			}
		}
	}
	for _, w := range hostname.CoveringWildcards(c.Spec.Hostname) {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Name: hostname.ClaimName(w)}})
	}
	return reqs
}

// Reconcile implements reconcile.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	c := &v1alpha1.DomainClaim{}
	if err := r.Client.Get(ctx, req.NamespacedName, c); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !c.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}
	log := logf.FromContext(ctx).WithValues("claim", c.Name, "hostname", c.Spec.Hostname)
	ctx = logf.IntoContext(ctx, log)
	if c.Annotations[v1alpha1.AnnotationAdmissionPending] != "" {
		// Admission confirms its wildcard claims right after answering; a mark still there after
		// pendingHorizon was left by a crash, long after the request ended: remove it, so the
		// claim is settled like any other.
		if age := r.Clock.Since(c.CreationTimestamp.Time); age < pendingHorizon {
			return reconcile.Result{RequeueAfter: pendingHorizon - age}, nil
		}
		log.Info("removing a pending mark that admission left behind")
		patch := client.MergeFrom(c.DeepCopy())
		delete(c.Annotations, v1alpha1.AnnotationAdmissionPending)
		return reconcile.Result{}, client.IgnoreNotFound(r.Client.Patch(ctx, c, patch))
	}
	view := ownership.CacheView{Reader: r.Client}
	now := r.Clock.Now()

	zone, err := ownership.FindZone(ctx, view, c.Spec.Hostname)
	if err != nil {
		return reconcile.Result{}, err
	}
	routes, tlsRoutes, err := r.routesUsing(ctx, c)
	if err != nil {
		return reconcile.Result{}, err
	}
	owner := &corev1.Namespace{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: c.Spec.Namespace}, owner); apierrors.IsNotFound(err) {
		owner = nil
	} else if err != nil {
		return reconcile.Result{}, err
	}
	stale := ownership.Stale(c, owner)
	if stale {
		// The namespace was deleted and created again: its new routes do not keep the earlier
		// namespace's claim, which is released after its retention like any unused one.
		routes, tlsRoutes = nil, nil
	}
	usage := Usage{Routes: routes, TLSRoutes: tlsRoutes, Zone: zone, Now: now}
	switch {
	case stale:
		usage.Owner = OwnerRecreated
	case owner == nil:
		usage.Owner = OwnerDeleted
	}
	plan := PlanRelease(c, usage)
	if plan.ReleaseNow {
		return reconcile.Result{}, r.release(ctx, c)
	}
	if wait := routeWait(c, append(slices.Clip(routes), tlsRoutes...), now); wait > 0 {
		return reconcile.Result{RequeueAfter: wait}, nil // the route's event comes first, as a rule
	}

	st := c.Status.DeepCopy()
	st.ManagedZone, st.HostedZoneID = "", ""
	if zone != nil {
		st.ManagedZone, st.HostedZoneID = zone.Name, zone.Spec.HostedZoneID
	}
	if st.OwnerNamespace == nil || st.OwnerNamespace.Name != c.Spec.Namespace {
		// The namespace admission made the claim for, if it said; else the one that exists now.
		if rec := ownership.StampedNamespace(c); rec != nil {
			st.OwnerNamespace = rec
		} else if owner != nil && !stale {
			st.OwnerNamespace = &v1alpha1.NamespaceRecord{Name: owner.Name, UID: owner.UID}
		}
	}
	st.LastReferencedTime = metaTime(plan.LastReferenced)
	st.ReleaseTime = metaTime(plan.ReleaseAt)
	setCondition(st, c.Generation, v1alpha1.ConditionInUse, plan.InUse, plan.Reason, plan.Message)

	winner, err := r.olderOverlap(ctx, c)
	if err != nil {
		return reconcile.Result{}, err
	}
	if winner != nil {
		msg := fmt.Sprintf("overlaps %q, claimed earlier by namespace %q (DomainClaim %s); the older claim wins",
			winner.Spec.Hostname, winner.Spec.Namespace, winner.Name)
		if setCondition(st, c.Generation, v1alpha1.ConditionClaimed, false, v1alpha1.ReasonConflicted, msg) {
			r.Recorder.Eventf(c, winner, "Warning", v1alpha1.ReasonConflicted, "Settle", msg)
			r.Settlements.Inc()
			log.Info("settled an overlap admission did not see", "winner", winner.Name, "winnerNamespace", winner.Spec.Namespace)
		}
	} else if setCondition(st, c.Generation, v1alpha1.ConditionClaimed, true, v1alpha1.ReasonClaimed,
		fmt.Sprintf("hostname %s belongs to namespace %s", c.Spec.Hostname, c.Spec.Namespace)) {
		r.Recorder.Eventf(c, nil, "Normal", v1alpha1.ReasonClaimed, "Claim", "hostname %s belongs to namespace %s", c.Spec.Hostname, c.Spec.Namespace)
	}
	bind := PlanBind(c, usage, plan)
	if setCondition(st, c.Generation, v1alpha1.ConditionBound, bind.Bound, bind.Reason, bind.Message) && bind.Bound {
		r.Recorder.Eventf(c, nil, "Normal", v1alpha1.EventBound, "Bind", "%s", bind.Message)
		log.Info("claim bound", "reason", bind.Reason, "message", bind.Message)
	}
	// An unbound claim's waiting steps say so themselves: the certificate reconciler's
	// CertificateRequested, the pool's GatewayAssigned, and Ready (Bound is one of its steps).

	if _, err := r.written.Apply(ctx, r.Client, claimstatus.Claim, c, st); err != nil {
		return reconcile.Result{}, err
	}
	if plan.ReleaseAt != nil {
		return reconcile.Result{RequeueAfter: plan.ReleaseAt.Sub(now)}, nil
	}
	return reconcile.Result{}, nil
}

// routesUsing lists the owning namespace's live objects that use the claim's hostname: every
// kind whose admission claims hostnames ("HTTPRoute team-a/shop", "Ingress team-a/web"), the
// object whose admission made the claim (by UID) first; and, apart, its TLSRoutes that list
// it, which keep the claim but bind nothing.
func (r *Reconciler) routesUsing(ctx context.Context, c *v1alpha1.DomainClaim) (routes, tlsRoutes []string, err error) {
	madeFor := types.UID(c.Annotations[v1alpha1.AnnotationClaimedForUID])
	type users struct {
		kind  string
		list  client.ObjectList
		names *[]string
	}
	kinds := []users{
		{"HTTPRoute", &gwv1.HTTPRouteList{}, &routes}, {"GRPCRoute", &gwv1.GRPCRouteList{}, &routes},
		{"Ingress", &networkingv1.IngressList{}, &routes}, {"Gateway", &gwv1.GatewayList{}, &routes},
	}
	if r.ListenerSets {
		kinds = append(kinds, users{"ListenerSet", &gwv1.ListenerSetList{}, &routes})
	}
	if r.TLSRoutes {
		kinds = append(kinds, users{"TLSRoute", &gwv1.TLSRouteList{}, &tlsRoutes})
	}
	for _, users := range kinds {
		if err := r.Client.List(ctx, users.list, client.InNamespace(c.Spec.Namespace),
			client.MatchingFields{index.RouteHostname: c.Spec.Hostname}); err != nil {
			return nil, nil, err
		}
		if err := meta.EachListItem(users.list, func(o runtime.Object) error {
			if obj := o.(client.Object); obj.GetDeletionTimestamp().IsZero() {
				name := users.kind + " " + obj.GetNamespace() + "/" + obj.GetName()
				if madeFor != "" && obj.GetUID() == madeFor {
					*users.names = append([]string{name}, *users.names...)
				} else {
					*users.names = append(*users.names, name)
				}
			}
			return nil
		}); err != nil {
			return nil, nil, err
		}
	}
	return routes, tlsRoutes, nil
}

// release deletes an unused claim, with preconditions so that a claim changed meanwhile (used,
// transferred) is left alone and looked at again.
func (r *Reconciler) release(ctx context.Context, c *v1alpha1.DomainClaim) error {
	uid, rv := c.UID, c.ResourceVersion
	err := r.Client.Delete(ctx, c, &client.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if apierrors.IsConflict(err) {
		return fmt.Errorf("claim changed while being released; looking again: %w", err)
	}
	if err != nil {
		return err
	}
	logf.FromContext(ctx).Info("released unused claim", "namespace", c.Spec.Namespace)
	r.Recorder.Eventf(c, nil, "Normal", v1alpha1.EventReleased, "Release", "hostname %s released: no route of namespace %s used it for the retention period", c.Spec.Hostname, c.Spec.Namespace)
	return nil
}

// olderOverlap returns the oldest claim of another namespace that overlaps c and is older than
// c, or nil. Admission keeps overlaps out; only a race between two admissions lets one in.
func (r *Reconciler) olderOverlap(ctx context.Context, c *v1alpha1.DomainClaim) (*v1alpha1.DomainClaim, error) {
	view := ownership.CacheView{Reader: r.Client}
	var winner *v1alpha1.DomainClaim
	consider := func(o *v1alpha1.DomainClaim) {
		// A claim being deleted owns nothing; a pending one is still deciding in admission, which
		// withdraws or confirms it within moments (and this claim is looked at again then).
		if !o.DeletionTimestamp.IsZero() || o.Annotations[v1alpha1.AnnotationAdmissionPending] != "" {
			return
		}
		if o.Spec.Namespace != c.Spec.Namespace && o.Name != c.Name && ownership.Older(o, c) &&
			(winner == nil || ownership.Older(o, winner)) {
			winner = o
		}
	}
	for _, w := range hostname.CoveringWildcards(c.Spec.Hostname) {
		o, err := view.Claim(ctx, hostname.ClaimName(w))
		if err != nil {
			return nil, err
		}
		if o != nil {
			consider(o)
		}
	}
	if hostname.IsWildcard(c.Spec.Hostname) {
		below, err := view.ClaimsBelow(ctx, hostname.MatchDomain(c.Spec.Hostname))
		if err != nil {
			return nil, err
		}
		for i := range below {
			consider(below[i].DeepCopy())
		}
	}
	return winner, nil
}

// routeGrace is how long a route-made claim's first status waits for its route: admission
// creates the claim a moment before the API server stores the route, well within the webhooks'
// 5 s timeout. Waiting writes InUse once (True) instead of twice (False, then True).
const routeGrace = 5 * time.Second

// routeWait is how long a route-made claim that no route uses yet, and that has no status of
// this reconciler yet, still waits for its route.
func routeWait(c *v1alpha1.DomainClaim, routes []string, now time.Time) time.Duration {
	if len(routes) > 0 || c.Spec.ClaimedBy != v1alpha1.ClaimedByRoute || meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionInUse) != nil {
		return 0
	}
	return routeGrace - now.Sub(c.CreationTimestamp.Time)
}

// pendingHorizon is how long after its creation a claim's admission-pending mark is certainly
// stale: far beyond the webhooks' 5 s timeout.
const pendingHorizon = time.Minute

// setCondition sets a condition and reports whether its status changed.
func setCondition(st *v1alpha1.DomainClaimStatus, gen int64, typ string, ok bool, reason, msg string) bool {
	return conditions.Set(&st.Conditions, gen, typ, ok, reason, msg)
}

func metaTime(t *time.Time) *metav1.Time {
	if t == nil {
		return nil
	}
	mt := metav1.NewTime(t.Truncate(time.Second))
	return &mt
}
