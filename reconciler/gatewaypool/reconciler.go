package gatewaypool

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/claimstatus"
	"github.com/opendi/gateway-orchestrator/internal/conditions"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/reconciler/routes"
)

const (
	// LabelPool marks a Gateway (and its LoadBalancerConfiguration) as a pool's.
	LabelPool = "gateway.opendi.com/pool"
	// HTTPSListener and HTTPListener name the listeners of a pool Gateway without seats (and
	// every pool Gateway's listeners before each hostname had its own).
	HTTPSListener = "https"
	HTTPListener  = "http"
)

// LoadBalancerConfigurationGVK is LBC's configuration kind (group gateway.k8s.aws).
var LoadBalancerConfigurationGVK = schema.GroupVersionKind{Group: "gateway.k8s.aws", Version: "v1beta1", Kind: "LoadBalancerConfiguration"}

// +kubebuilder:rbac:groups=gateway.opendi.com,resources=gatewaypools,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.opendi.com,resources=gatewaypools/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gateways,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=gateway.k8s.aws,resources=loadbalancerconfigurations,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=grpcroutes,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gateways/status,verbs=get
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gatewayclasses,verbs=get;list;watch

// Reconciler keeps a GatewayPool's Gateways — at least minGateways of them, each with an HTTPS
// listener (and HTTP when the template asks) and its own LBC LoadBalancerConfiguration carrying
// the template's ALB settings, referenced from spec.infrastructure.parametersRef — and runs steps
// 4, 5, 6 and 8 for the pool's claims: a seat on a Gateway, the certificate in the Gateway's
// configuration, the load balancer's address, and the owner's routes admitted.
type Reconciler struct {
	Client client.Client
	// ELB finds the canonical hosted zone of a Gateway's ALB; nil leaves claims without one.
	ELB ELB

	// assigned remembers the assignments this reconciler wrote until the cache shows them.
	assigned map[types.UID]string
	// zones caches ALB DNS name → canonical hosted zone ID.
	zones sync.Map
}

// SetupWithManager registers the reconciler.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("gatewaypool").
		For(&v1alpha1.GatewayPool{}).
		Watches(&gwv1.Gateway{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			if p := o.GetLabels()[LabelPool]; p != "" {
				return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: p}}}
			}
			return nil
		})).
		Watches(&v1alpha1.DomainClaim{}, handler.EnqueueRequestsFromMapFunc(r.claimToPool)).
		Watches(&gwv1.HTTPRoute{}, handler.EnqueueRequestsFromMapFunc(r.routeToPools), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&gwv1.GRPCRoute{}, handler.EnqueueRequestsFromMapFunc(r.routeToPools), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(r)
}

// Reconcile implements reconcile.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	pool := &v1alpha1.GatewayPool{}
	if err := r.Client.Get(ctx, req.NamespacedName, pool); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !pool.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil // owner references remove the Gateways and configurations
	}
	log := logf.FromContext(ctx).WithValues("pool", pool.Name)

	var gws gwv1.GatewayList
	if err := r.Client.List(ctx, &gws, client.InNamespace(pool.Spec.Namespace), client.MatchingLabels{LabelPool: pool.Name}); err != nil {
		return reconcile.Result{}, err
	}
	have := map[string]*gwv1.Gateway{}
	for i := range gws.Items {
		have[gws.Items[i].Name] = &gws.Items[i]
	}
	for n := 1; n <= int(pool.Spec.MinGateways); n++ {
		name := GatewayName(pool.Name, n)
		if err := r.ensure(ctx, pool, name); err != nil {
			return reconcile.Result{}, fmt.Errorf("gateway %s/%s: %w", pool.Spec.Namespace, name, err)
		}
		if have[name] == nil {
			log.Info("created pool gateway", "gateway", name)
		}
	}
	for name := range have {
		if err := r.ensure(ctx, pool, name); err != nil {
			return reconcile.Result{}, fmt.Errorf("gateway %s/%s: %w", pool.Spec.Namespace, name, err)
		}
	}
	retry, loads, err := r.serve(ctx, pool)
	if err != nil {
		return reconcile.Result{}, err
	}
	if err := r.writeStatus(ctx, pool, loads); err != nil {
		return reconcile.Result{}, err
	}
	if retry {
		// A claim was written by another reconciler meanwhile: look again soon, without an error.
		return reconcile.Result{RequeueAfter: 200 * time.Millisecond}, nil
	}
	return reconcile.Result{}, nil
}

// serve runs steps 4, 5, 6 and 8 for the pool's claims and removes empty surplus Gateways. It
// reports whether a claim's status could not be written for a conflict (retry soon).
func (r *Reconciler) serve(ctx context.Context, pool *v1alpha1.GatewayPool) (retry bool, loads map[string]*Load, err error) {
	claims, err := r.claimsOf(ctx, pool)
	if err != nil {
		return false, nil, err
	}
	var gws gwv1.GatewayList
	if err := r.Client.List(ctx, &gws, client.InNamespace(pool.Spec.Namespace), client.MatchingLabels{LabelPool: pool.Name}); err != nil {
		return false, nil, err
	}
	names := make([]string, 0, len(gws.Items))
	live, closed := map[string]bool{}, map[string]bool{}
	for _, g := range gws.Items {
		names = append(names, g.Name)
		if g.DeletionTimestamp.IsZero() {
			live[g.Name] = true
		} else {
			closed[g.Name] = true // a Gateway being deleted is never chosen
		}
	}
	moved := r.unseat(ctx, claims, live)
	exhausted, loads, err := r.seats(ctx, pool, claims, names, closed, moved)
	if err != nil {
		return false, nil, err
	}
	if err := r.Client.List(ctx, &gws, client.InNamespace(pool.Spec.Namespace), client.MatchingLabels{LabelPool: pool.Name}); err != nil {
		return false, nil, err
	}
	attached, admitted := map[string]bool{}, map[string]bool{}
	lbHost, lbZone, refused := map[string]string{}, map[string]string{}, map[string]string{}
	used := map[string]bool{}
	for _, c := range claims {
		if c.Status.Gateway != nil && c.DeletionTimestamp.IsZero() {
			used[c.Status.Gateway.Name] = true
		}
	}
	for i := range gws.Items {
		gw := &gws.Items[i]
		if gw.DeletionTimestamp.IsZero() && !used[gw.Name] && gatewayNumber(pool.Name, gw.Name) > int(pool.Spec.MinGateways) && !r.stillAttached(claims, gw.Name) {
			if err := r.Client.Delete(ctx, gw); client.IgnoreNotFound(err) != nil {
				return false, nil, err
			}
			logf.FromContext(ctx).Info("removed empty surplus gateway", "pool", pool.Name, "gateway", gw.Name)
			continue
		}
		a, err := r.attach(ctx, pool, gw, claims)
		if err != nil {
			return false, nil, err
		}
		for arn := range a {
			attached[arn] = true
		}
		a, err = r.admit(ctx, pool, gw, claims)
		if err != nil {
			return false, nil, err
		}
		for claim, ok := range a {
			admitted[claim] = ok
		}
		if lbHost[gw.Name], lbZone[gw.Name], err = r.loadBalancer(ctx, gw); err != nil {
			return false, nil, err
		}
		refused[gw.Name] = lbcRefusal(gw)
	}
	strays, err := routes.Strays(ctx, r.Client, claims)
	if err != nil {
		return false, nil, err
	}
	for _, c := range claims {
		if !claimed(c) {
			continue
		}
		var host, zone string
		ok := false
		if c.Status.Gateway != nil {
			host, zone = lbHost[c.Status.Gateway.Name], lbZone[c.Status.Gateway.Name]
			ok = admitted[c.Name]
		}
		st := claimStatus(pool, c, exhausted[c.Name], attached[c.Status.CertificateARN], ok, host, zone)
		if c.Status.Gateway != nil && refused[c.Status.Gateway.Name] != "" {
			setRefused(st, c, refused[c.Status.Gateway.Name])
		}
		setStrays(st, c, strays[c.Name])
		if equality.Semantic.DeepEqual(st, &c.Status) {
			continue
		}
		// The pool's slice of the status, whole (the seat may exist only here and in r.assigned).
		if _, err := claimstatus.Apply(ctx, r.Client, claimstatus.Pool, c, st); err != nil {
			return false, nil, err
		}
	}
	return retry, loads, nil
}

// unseat takes the claims seated on a Gateway that is gone or being deleted off it, so that seats
// seats them again: their certificate moves with them (attach writes it into the new Gateway's
// configuration and out of the old one's) and their load balancer is forgotten until the new
// Gateway's is known, so the ALIAS is repointed rather than left on an ALB that goes away. It
// returns the former Gateway of each claim it unseated.
func (r *Reconciler) unseat(ctx context.Context, claims []*v1alpha1.DomainClaim, live map[string]bool) map[string]*v1alpha1.ObjectRef {
	moved := map[string]*v1alpha1.ObjectRef{}
	for _, c := range claims {
		if c.Status.Gateway == nil || live[c.Status.Gateway.Name] || !c.DeletionTimestamp.IsZero() {
			continue
		}
		if gw, ok := r.assigned[c.UID]; ok && live[gw] {
			// Seated again already; the cache has not seen it yet.
			c.Status.Gateway = &v1alpha1.ObjectRef{Namespace: c.Status.Gateway.Namespace, Name: gw}
			continue
		}
		logf.FromContext(ctx).Info("seating the claim again: its Gateway is gone or being deleted",
			"claim", c.Name, "hostname", c.Spec.Hostname, "gateway", c.Status.Gateway.Name)
		moved[c.Name] = c.Status.Gateway
		delete(r.assigned, c.UID)
		c.Status.Gateway = nil
		c.Status.LoadBalancerHostname, c.Status.LoadBalancerZoneID = "", ""
	}
	return moved
}

// stillAttached reports whether a claim being deleted still has its certificate on a Gateway,
// which must stay until the configuration has let go of it.
func (r *Reconciler) stillAttached(claims []*v1alpha1.DomainClaim, gw string) bool {
	for _, c := range claims {
		if c.Status.Gateway != nil && c.Status.Gateway.Name == gw && c.DeletionTimestamp.IsZero() {
			return true
		}
	}
	return false
}

// claimToPool maps a claim to the pool that serves its zone.
func (r *Reconciler) claimToPool(ctx context.Context, o client.Object) []reconcile.Request {
	c := o.(*v1alpha1.DomainClaim)
	if c.Status.ManagedZone == "" {
		return nil
	}
	z := &v1alpha1.ManagedZone{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: c.Status.ManagedZone}, z); err != nil || z.Spec.GatewayPoolRef == nil {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: z.Spec.GatewayPoolRef.Name}}}
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

// ensure creates or updates one Gateway of the pool and its LoadBalancerConfiguration.
func (r *Reconciler) ensure(ctx context.Context, pool *v1alpha1.GatewayPool, name string) error {
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: pool.Spec.Namespace, Name: name}}
	if _, err := controllerutil.CreateOrPatch(ctx, r.Client, gw, func() error {
		desiredGateway(pool, gw)
		return controllerutil.SetControllerReference(pool, gw, r.Client.Scheme())
	}); err != nil {
		return err
	}
	cfg := &unstructured.Unstructured{}
	cfg.SetGroupVersionKind(LoadBalancerConfigurationGVK)
	cfg.SetNamespace(pool.Spec.Namespace)
	cfg.SetName(name)
	_, err := controllerutil.CreateOrPatch(ctx, r.Client, cfg, func() error {
		if err := desiredConfiguration(pool, cfg); err != nil {
			return err
		}
		return controllerutil.SetControllerReference(gw, cfg, r.Client.Scheme())
	})
	if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
		return fmt.Errorf("the AWS Load Balancer Controller's LoadBalancerConfiguration CRD is not installed: %w", err)
	}
	return err
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
	gw.Spec.GatewayClassName = gwv1.ObjectName(pool.Spec.GatewayClassName)
	gw.Spec.Infrastructure = &gwv1.GatewayInfrastructure{ParametersRef: &gwv1.LocalParametersReference{
		Group: gwv1.Group(LoadBalancerConfigurationGVK.Group), Kind: gwv1.Kind(LoadBalancerConfigurationGVK.Kind), Name: gw.Name,
	}}
	if len(gw.Spec.Listeners) == 0 {
		// A new Gateway; the seats' listeners are written by admit.
		gw.Spec.Listeners = Listeners(nil, t.HTTPListener)
	}
}

// desiredConfiguration writes the template's ALB settings into LBC's configuration, and keeps the
// HTTPS:443 entry (whose certificates the attachment step writes).
func desiredConfiguration(pool *v1alpha1.GatewayPool, cfg *unstructured.Unstructured) error {
	t := pool.Spec.Template
	set := func(v any, path ...string) error {
		return unstructured.SetNestedField(cfg.Object, v, append([]string{"spec"}, path...)...)
	}
	if t.Scheme != "" {
		if err := set(t.Scheme, "scheme"); err != nil {
			return err
		}
	}
	if t.IPAddressType != "" {
		if err := set(t.IPAddressType, "ipAddressType"); err != nil {
			return err
		}
	}
	if err := set(map[string]any{LabelPool: pool.Name}, "tags"); err != nil {
		return err
	}
	cfg.SetLabels(map[string]string{LabelPool: pool.Name})
	entries, _, _ := unstructured.NestedSlice(cfg.Object, "spec", "listenerConfigurations")
	found := false
	for i, e := range entries {
		m, ok := e.(map[string]any)
		if !ok || m["protocolPort"] != HTTPSProtocolPort {
			continue
		}
		found = true
		if t.SSLPolicy != "" {
			m["sslPolicy"] = t.SSLPolicy
		}
		entries[i] = m
	}
	if !found {
		e := map[string]any{"protocolPort": HTTPSProtocolPort}
		if t.SSLPolicy != "" {
			e["sslPolicy"] = t.SSLPolicy
		}
		entries = append(entries, e)
	}
	return set(entries, "listenerConfigurations")
}

// writeStatus reports each Gateway's certificates (from its configuration), ALB rules (from the
// seats of its claims) and address.
func (r *Reconciler) writeStatus(ctx context.Context, pool *v1alpha1.GatewayPool, loads map[string]*Load) error {
	var gws gwv1.GatewayList
	if err := r.Client.List(ctx, &gws, client.InNamespace(pool.Spec.Namespace), client.MatchingLabels{LabelPool: pool.Name}); err != nil {
		return err
	}
	st := pool.Status.DeepCopy()
	st.ObservedGeneration = pool.Generation
	st.Gateways = nil
	for _, gw := range gws.Items {
		s := v1alpha1.PoolGatewayStatus{Name: gw.Name}
		for _, a := range gw.Status.Addresses {
			if a.Type != nil && *a.Type == gwv1.HostnameAddressType {
				s.Address = a.Value
			}
		}
		cfg := &unstructured.Unstructured{}
		cfg.SetGroupVersionKind(LoadBalancerConfigurationGVK)
		if err := r.Client.Get(ctx, client.ObjectKey{Namespace: gw.Namespace, Name: gw.Name}, cfg); err == nil {
			s.Certificates = int32(len(ListenerCertificatesOf(cfg).Certificates))
		}
		if l := loads[gw.Name]; l != nil {
			s.Rules = l.Rules
		}
		st.Gateways = append(st.Gateways, s)
	}
	sort.Slice(st.Gateways, func(i, j int) bool {
		return gatewayNumber(pool.Name, st.Gateways[i].Name) < gatewayNumber(pool.Name, st.Gateways[j].Name)
	})
	if conflict, err := r.classConflict(ctx, pool); err != nil {
		return err
	} else if conflict != "" {
		conditions.Set(&st.Conditions, pool.Generation, v1alpha1.ConditionReady, false, "ClassOverridesCertificates", conflict)
	} else {
		conditions.Set(&st.Conditions, pool.Generation, v1alpha1.ConditionReady, true, "GatewaysProvisioned",
			fmt.Sprintf("%d Gateways in %s", len(st.Gateways), pool.Spec.Namespace))
	}
	if equality.Semantic.DeepEqual(st, &pool.Status) {
		return nil
	}
	patch := client.MergeFrom(pool.DeepCopy())
	pool.Status = *st
	return r.Client.Status().Patch(ctx, pool, patch)
}

// classConflict explains why the pool's certificates would not reach the ALBs when its
// GatewayClass references a LoadBalancerConfiguration with an HTTPS:443 entry of its own: LBC
// merges class and Gateway configurations per protocolPort, the whole entry wins, and unless
// the class's mergingMode is prefer-gateway the class's entry wins, silently discarding ours.
func (r *Reconciler) classConflict(ctx context.Context, pool *v1alpha1.GatewayPool) (string, error) {
	gc := &gwv1.GatewayClass{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: pool.Spec.GatewayClassName}, gc); err != nil {
		return "", client.IgnoreNotFound(err)
	}
	ref := gc.Spec.ParametersRef
	if ref == nil || string(ref.Group) != LoadBalancerConfigurationGVK.Group || string(ref.Kind) != LoadBalancerConfigurationGVK.Kind || ref.Namespace == nil {
		return "", nil
	}
	cfg := &unstructured.Unstructured{}
	cfg.SetGroupVersionKind(LoadBalancerConfigurationGVK)
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: string(*ref.Namespace), Name: ref.Name}, cfg); err != nil {
		return "", client.IgnoreNotFound(err)
	}
	mode, _, _ := unstructured.NestedString(cfg.Object, "spec", "mergingMode")
	if mode == "prefer-gateway" {
		return "", nil
	}
	if mode == "" {
		mode = "prefer-gateway-class (the default)"
	}
	entries, _, _ := unstructured.NestedSlice(cfg.Object, "spec", "listenerConfigurations")
	for _, e := range entries {
		if m, ok := e.(map[string]any); ok && m["protocolPort"] == HTTPSProtocolPort {
			return fmt.Sprintf("GatewayClass %s references LoadBalancerConfiguration %s/%s, which has its own %s entry and mergingMode %s: "+
				"the AWS Load Balancer Controller would use it instead of the certificates written for each Gateway. "+
				"Remove that entry or set its mergingMode to prefer-gateway", gc.Name, *ref.Namespace, ref.Name, HTTPSProtocolPort, mode), nil
		}
	}
	return "", nil
}

// ListenerCertificatesOf reads the HTTPS:443 certificates of a LoadBalancerConfiguration.
func ListenerCertificatesOf(cfg *unstructured.Unstructured) ListenerCertificates {
	entries, _, _ := unstructured.NestedSlice(cfg.Object, "spec", "listenerConfigurations")
	for _, e := range entries {
		m, ok := e.(map[string]any)
		if !ok || m["protocolPort"] != HTTPSProtocolPort {
			continue
		}
		out := ListenerCertificates{}
		out.DefaultCertificate, _ = m["defaultCertificate"].(string)
		if list, ok := m["certificates"].([]any); ok {
			for _, c := range list {
				if s, ok := c.(string); ok {
					out.Certificates = append(out.Certificates, s)
				}
			}
		}
		return out
	}
	return ListenerCertificates{}
}
