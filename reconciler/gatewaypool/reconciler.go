package gatewaypool

import (
	"context"
	"errors"
	"fmt"
	"runtime/pprof"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/backoff"
	"github.com/opendi/gateway-orchestrator/internal/claimstatus"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

const (
	// ControllerName names the pool's controller (in its metrics and logs).
	ControllerName = "gatewaypool"
	// LabelPool marks a Gateway (and its LoadBalancerConfiguration) as a pool's.
	LabelPool = "gateway.opendi.com/pool"
	// HTTPSListener and HTTPListener name the listeners of a pool Gateway without seats (and
	// every pool Gateway's listeners before each hostname had its own).
	HTTPSListener = "https"
	HTTPListener  = "http"
)

// LoadBalancerConfigurationGVK is LBC's configuration kind (group gateway.k8s.aws).
var LoadBalancerConfigurationGVK = lbc.GroupVersionKind

// +kubebuilder:rbac:groups=gateway.opendi.com,resources=gatewaypools,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.opendi.com,resources=gatewaypools/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gateways,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=gateway.k8s.aws,resources=loadbalancerconfigurations,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=grpcroutes,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gateways/status,verbs=get
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gatewayclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=listenersets,verbs=get;list;watch

var _ reconcile.Reconciler = &Reconciler{}

// Reconciler keeps a GatewayPool's Gateways — at least minGateways of them, each with an HTTPS
// listener (and HTTP when the template asks) and its own LBC LoadBalancerConfiguration carrying
// the template's ALB settings, referenced from spec.infrastructure.parametersRef — and runs steps
// 4, 5, 6 and 8 for the pool's claims: a seat on a Gateway, the certificate in the Gateway's
// configuration, the load balancer's address, and the owner's routes admitted. The claims of a
// ManagedZone without a pool it plans under the zone's own key (see reconcileZone).
type Reconciler struct {
	Client client.Client
	// APIReader reads from the API server without the cache: the pool lists its LBC
	// configurations' metadata with it and reads only those that changed (nil: Client lists them
	// in full every reconcile).
	APIReader client.Reader
	// ELB finds the canonical hosted zone of a Gateway's ALB; nil leaves claims without one.
	ELB ELB
	// ListenerSets counts ListenerSets among the objects with a load balancer of their own (their
	// parent Gateway's); set it only where their CRD is served (and index.SetupListenerSets was
	// called).
	ListenerSets bool
	// QuietPeriod overrides claimstatus.DefaultQuietPeriod (see writeClaimStatus).
	QuietPeriod time.Duration
	// Metrics are where the pool reports; nil reports nowhere.
	Metrics *Metrics
	// Backoff spaces out DescribeLoadBalancers after errors a quick retry cannot fix
	// (backoff.Default when zero).
	Backoff backoff.Policy

	// elbBackoff holds the run of such errors.
	elbBackoff backoff.Tracker

	// zones caches ALB DNS name → canonical hosted zone ID.
	zones sync.Map
	// misses holds DNS names ELBv2 knew no load balancer of, with when it was asked (see
	// hostedZone).
	misses sync.Map
	// pace spaces each pool's event-driven reconciles by the pool's size.
	pace pacer
	// memos keep each pool's answers that have not changed since its last reconcile.
	memos memos
	// written remembers the pool's claim status writes the cache has not shown yet.
	written claimstatus.Writes
}

// SetupWithManager registers the reconciler.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.elbBackoff.Policy = r.Backoff
	b := ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		// Spec changes only: the pool's status is its own write, and waking on it would run every
		// reconcile that changed the status a second time for nothing.
		For(&v1alpha1.GatewayPool{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&gwv1.Gateway{}, r.coalesced(func(_ context.Context, o client.Object) []reconcile.Request {
			if p := o.GetLabels()[LabelPool]; p != "" {
				return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: p}}}
			}
			return nil
		}, lbcVerdictChanged)).
		// Gateways that are not a pool's, and Ingresses, bring load balancers of their own: a claim
		// they use is planned again when one appears, changes or goes (see ownlb).
		Watches(&gwv1.Gateway{}, r.coalesced(r.ownLoadBalancerToPools, nil), builder.WithPredicates(ownLoadBalancerChanged)).
		Watches(&networkingv1.Ingress{}, r.coalesced(r.ownLoadBalancerToPools, nil), builder.WithPredicates(ownLoadBalancerChanged)).
		Watches(&v1alpha1.DomainClaim{}, r.coalesced(r.claimToPool, nil), builder.WithPredicates(claimInputsChanged)).
		Watches(&corev1.Namespace{}, r.coalesced(r.namespaceToPools, nil), builder.WithPredicates(namespaceCreatedOrDeleted)).
		// A zone that gains or loses its pool moves its claims between the pool and its own key.
		Watches(&v1alpha1.ManagedZone{}, r.coalesced(zoneToKey, nil), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&gwv1.HTTPRoute{}, r.coalesced(r.routeChanged, nil), builder.WithPredicates(routeInputsChanged)).
		Watches(&gwv1.GRPCRoute{}, r.coalesced(r.routeChanged, nil), builder.WithPredicates(routeInputsChanged)).
		Watches(&gwv1.GatewayClass{}, r.coalesced(r.classToPools, nil), builder.WithPredicates(predicate.GenerationChangedPredicate{}))
	if r.ListenerSets {
		b = b.Watches(&gwv1.ListenerSet{}, r.coalesced(r.ownLoadBalancerToPools, nil), builder.WithPredicates(ownLoadBalancerChanged))
	}
	return b.Complete(r)
}

// Reconcile implements reconcile.Reconciler: gather one snapshot, plan, apply. It runs under the
// profiler label controller=gatewaypool (inherited by the goroutines it starts), so a CPU profile
// tells the pool's work apart from the rest of the process.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (res reconcile.Result, err error) {
	pprof.Do(ctx, pprof.Labels("controller", ControllerName), func(ctx context.Context) {
		res, err = r.reconcile(ctx, req)
	})
	return res, err
}

func (r *Reconciler) reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	if req.Namespace == noPoolNamespace {
		return r.reconcileZone(ctx, req)
	}
	pool := &v1alpha1.GatewayPool{}
	if err := r.Client.Get(ctx, req.NamespacedName, pool); err != nil {
		if !apierrors.IsNotFound(err) {
			return reconcile.Result{}, err
		}
		r.memos.forget(req.Name)
		return r.reconcileMissingPool(ctx, req) // zones may name it all the same
	}
	if !pool.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil // owner references remove the Gateways and configurations
	}
	snap, err := r.gather(ctx, pool)
	var waiting *backingOff
	if errors.As(err, &waiting) {
		return reconcile.Result{RequeueAfter: waiting.wait}, nil // logged when the back-off began
	}
	if err != nil {
		return reconcile.Result{}, err
	}
	defer func() { r.pace.done(pool.Name, len(snap.Claims), time.Now()) }()
	ctx, kept := claimstatus.WithHeld(ctx)
	out, err := r.apply(ctx, snap, planWith(snap, r.memos.plan(pool.Name)))
	switch {
	case err != nil:
		return reconcile.Result{}, err
	case out.retry:
		// A write met a newer object than the snapshot held: look again soon, without an error.
		return reconcile.Result{RequeueAfter: 200 * time.Millisecond}, nil
	case out.more:
		// Claim writes left for the next reconcile (see maxClaimWrites); they are decided already, so
		// they do not wait for the pace.
		return reconcile.Result{RequeueAfter: coalesceWindow}, nil
	}
	wait := kept.Wait()
	for _, g := range snap.Gateways {
		if g.UnknownLoadBalancer != "" && (wait == 0 || wait > unknownRecheck) {
			wait = unknownRecheck // ELBv2 is asked again then
		}
	}
	return reconcile.Result{RequeueAfter: wait}, nil
}

// claimToPool maps a claim to the pool that serves its zone, or to its zone's own key when the
// zone has no pool (see reconcileZone).
func (r *Reconciler) claimToPool(ctx context.Context, o client.Object) []reconcile.Request {
	c := o.(*v1alpha1.DomainClaim)
	if c.Status.ManagedZone == "" {
		return nil
	}
	z := &v1alpha1.ManagedZone{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: c.Status.ManagedZone}, z); err != nil {
		return nil
	}
	return zoneToKey(ctx, z)
}

// routeChanged drops what the pools remember of the hostnames a route lists (a change of its spec,
// its creation or deletion) and maps it to the pools serving them.
func (r *Reconciler) routeChanged(ctx context.Context, o client.Object) []reconcile.Request {
	r.memos.routesChanged(index.RouteKeys(o))
	return r.routeToPools(ctx, o)
}

// routeToPools maps a route to the pools serving the claims its hostnames use, so that a route
// listing a hostname its namespace does not own is reported promptly.
func (r *Reconciler) routeToPools(ctx context.Context, o client.Object) []reconcile.Request {
	var raw []gwv1.Hostname
	switch rt := o.(type) {
	case *gwv1.HTTPRoute:
		raw = rt.Spec.Hostnames
	case *gwv1.GRPCRoute:
		raw = rt.Spec.Hostnames
	}
	seen := map[reconcile.Request]bool{}
	var reqs []reconcile.Request
	for _, h := range index.RouteKeys(&gwv1.HTTPRoute{Spec: gwv1.HTTPRouteSpec{Hostnames: raw}}) {
		c := &v1alpha1.DomainClaim{}
		if err := r.Client.Get(ctx, client.ObjectKey{Name: hostname.ClaimName(h)}, c); err != nil {
			continue
		}
		for _, req := range r.claimToPool(ctx, c) {
			if !seen[req] {
				seen[req] = true
				reqs = append(reqs, req)
			}
		}
	}
	return reqs
}

// desiredGateway shapes a pool Gateway from the pool's template, leaving fields others own
// (status, other labels and annotations) alone.
func desiredGateway(pool *v1alpha1.GatewayPool, gw *gwv1.Gateway) {
	t := pool.Spec.Template
	if gw.Labels == nil {
		gw.Labels = map[string]string{}
	}
	for k, v := range t.Labels {
		gw.Labels[k] = v
	}
	gw.Labels[LabelPool] = pool.Name
	if len(t.Annotations) > 0 && gw.Annotations == nil {
		gw.Annotations = map[string]string{}
	}
	for k, v := range t.Annotations {
		gw.Annotations[k] = v
	}
	if !metav1.IsControlledBy(gw, pool) {
		// A Gateway of an earlier pool of this name (deleted and made again before the garbage
		// collector, or LBC's finalizer, let the Gateway go) is adopted: the API server refuses a
		// second controller, and the pool would fail every reconcile without a word in its status.
		gw.OwnerReferences = append(withoutEarlierPool(gw.OwnerReferences, pool.Name), *metav1.NewControllerRef(pool, v1alpha1.GroupVersion.WithKind("GatewayPool")))
	}
	gw.Spec.GatewayClassName = gwv1.ObjectName(pool.Spec.GatewayClassName)
	gw.Spec.AllowedListeners = NoListenerSets()
	gw.Spec.Infrastructure = &gwv1.GatewayInfrastructure{ParametersRef: &gwv1.LocalParametersReference{
		Group: gwv1.Group(LoadBalancerConfigurationGVK.Group), Kind: gwv1.Kind(LoadBalancerConfigurationGVK.Kind), Name: gw.Name,
	}}
	if len(gw.Spec.Listeners) == 0 {
		// A new Gateway; the seats' listeners are written by admit.
		gw.Spec.Listeners = Listeners(nil, t.HTTPListener)
	}
}

// withoutEarlierPool is refs without those to a GatewayPool named name: an earlier pool of that
// name, since the current one does not control the object.
func withoutEarlierPool(refs []metav1.OwnerReference, name string) []metav1.OwnerReference {
	out := make([]metav1.OwnerReference, 0, len(refs)+1)
	for _, ref := range refs {
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err == nil && gv.Group == v1alpha1.GroupVersion.Group && ref.Kind == "GatewayPool" && ref.Name == name {
			continue
		}
		out = append(out, ref)
	}
	return out
}

// desiredConfiguration writes the template's ALB settings into LBC's configuration, and keeps the
// HTTPS:443 entry (whose certificates Plan writes).
func desiredConfiguration(pool *v1alpha1.GatewayPool, cfg *lbc.LoadBalancerConfiguration) {
	t := pool.Spec.Template
	if t.Scheme != "" {
		cfg.Spec.Scheme = t.Scheme
	}
	if t.IPAddressType != "" {
		cfg.Spec.IPAddressType = t.IPAddressType
	}
	cfg.Spec.Tags = map[string]string{LabelPool: pool.Name}
	cfg.Labels = map[string]string{LabelPool: pool.Name}
	https := cfg.Spec.EnsureListener(HTTPSProtocolPort)
	if t.SSLPolicy != "" {
		https.SSLPolicy = t.SSLPolicy
	}
}

// classProblem says why the pool's Gateways cannot serve its certificates because of their
// GatewayClass: it does not exist, or it is another controller's (the AWS Load Balancer
// Controller then never programs them, and every claim would wait at LoadBalancerReady with no
// word of why), or it references a LoadBalancerConfiguration with an HTTPS:443 entry of its own:
// LBC merges class and Gateway configurations per protocolPort, the whole entry wins, and unless
// the class's mergingMode is prefer-gateway the class's entry wins, silently discarding ours.
func (r *Reconciler) classProblem(ctx context.Context, pool *v1alpha1.GatewayPool) (ClassProblem, error) {
	gc := &gwv1.GatewayClass{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: pool.Spec.GatewayClassName}, gc); err != nil {
		if apierrors.IsNotFound(err) {
			return ClassProblem{Reason: v1alpha1.ReasonGatewayClassNotFound, Message: fmt.Sprintf(
				"GatewayClass %s does not exist, so no controller programs the pool's Gateways: create it with controllerName %s (docs/install-eks.md, step 3), or set the pool's spec.gatewayClassName to the AWS Load Balancer Controller's class",
				pool.Spec.GatewayClassName, lbc.ControllerName)}, nil
		}
		return ClassProblem{}, err
	}
	if string(gc.Spec.ControllerName) != lbc.ControllerName {
		return ClassProblem{Reason: v1alpha1.ReasonGatewayClassNotLBC, Message: fmt.Sprintf(
			"GatewayClass %s belongs to controller %s, not to the AWS Load Balancer Controller (%s), which alone takes the certificates the pool writes: set the pool's spec.gatewayClassName to a class of %s",
			gc.Name, gc.Spec.ControllerName, lbc.ControllerName, lbc.ControllerName)}, nil
	}
	ref := gc.Spec.ParametersRef
	if ref == nil || string(ref.Group) != LoadBalancerConfigurationGVK.Group || string(ref.Kind) != LoadBalancerConfigurationGVK.Kind || ref.Namespace == nil {
		return ClassProblem{}, nil
	}
	u := lbc.NewUnstructured()
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: string(*ref.Namespace), Name: ref.Name}, u); err != nil {
		return ClassProblem{}, client.IgnoreNotFound(err)
	}
	cfg, err := lbc.FromUnstructured(u)
	if err != nil {
		return ClassProblem{}, err
	}
	mode := cfg.Spec.MergingMode
	if mode == lbc.PreferGateway {
		return ClassProblem{}, nil
	}
	if mode == "" {
		mode = lbc.PreferGatewayClass + " (the default)"
	}
	if cfg.Spec.Listener(HTTPSProtocolPort) != nil {
		return ClassProblem{Reason: v1alpha1.ReasonClassOverridesCertificates, Message: fmt.Sprintf("GatewayClass %s references LoadBalancerConfiguration %s/%s, which has its own %s entry and mergingMode %s: "+
			"the AWS Load Balancer Controller would use it instead of the certificates written for each Gateway. "+
			"Remove that entry or set its mergingMode to prefer-gateway", gc.Name, *ref.Namespace, ref.Name, HTTPSProtocolPort, mode)}, nil
	}
	return ClassProblem{}, nil
}

// classToPools wakes the pools of a GatewayClass that was created, changed or deleted: whether
// it exists and whose it is decide the pool's Ready.
func (r *Reconciler) classToPools(ctx context.Context, o client.Object) []reconcile.Request {
	var pools v1alpha1.GatewayPoolList
	if err := r.Client.List(ctx, &pools); err != nil {
		return nil
	}
	var out []reconcile.Request
	for i := range pools.Items {
		if pools.Items[i].Spec.GatewayClassName == o.GetName() {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Name: pools.Items[i].Name}})
		}
	}
	return out
}

// ListenerCertificatesOf reads the HTTPS:443 certificates of a LoadBalancerConfiguration as the
// client returned it.
func ListenerCertificatesOf(u *unstructured.Unstructured) ListenerCertificates {
	cfg, err := lbc.FromUnstructured(u)
	if err != nil {
		return ListenerCertificates{}
	}
	return CertificatesOf(cfg)
}

// CertificatesOf reads the HTTPS:443 certificates of a LoadBalancerConfiguration.
func CertificatesOf(cfg *lbc.LoadBalancerConfiguration) ListenerCertificates {
	l := cfg.Spec.Listener(HTTPSProtocolPort)
	if l == nil {
		return ListenerCertificates{}
	}
	return ListenerCertificates{DefaultCertificate: l.DefaultCertificate, Certificates: l.Certificates}
}
