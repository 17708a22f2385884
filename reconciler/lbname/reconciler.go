// Package lbname is the load balancer name re-check: it reports Ingresses and LBC
// LoadBalancerConfigurations whose explicit ALB name (the load-balancer-name annotation,
// spec.loadBalancerName) is not their namespace's to name (ownership.DecideLoadBalancerName).
// Admission denies such a name (webhook/lbname.go), but not one admitted before the check
// existed, made around admission (a namespace the webhooks exclude, a webhook outage), or that
// became another namespace's later (a pool Gateway published on an ALB of that name after the
// configuration was admitted). LBC adopts the ALB either way, so this reconciler tells an admin.
//
//   - Watches: Ingresses that name an ALB; where LBC's CRD is served, LoadBalancerConfigurations
//     that name one; and Gateways and Ingresses whose ALBs change (status addresses and
//     hostnames), mapped through index.LoadBalancerName to the objects naming those ALBs.
//   - Owns: the PoolLoadBalancerName, ForeignLoadBalancerName and GeneratedLoadBalancerName
//     Warning Events on the naming object and on the Gateway or Ingress whose ALB it is. It writes
//     no object: nothing it reports is the orchestrator's.
//   - Reads: Gateways, Ingresses, IngressClasses and LoadBalancerConfigurations by ALB name
//     (ownership.ALBHolders) and GatewayPools (the pool's own configurations are skipped); live,
//     the naming object's metadata (managedFields: when it began to name the ALB).
package lbname

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

// Controller names, in logs and metrics.
const (
	IngressControllerName       = "ingress-load-balancer-name"
	ConfigurationControllerName = "configuration-load-balancer-name"
)

// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses;ingressclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gateways,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.k8s.aws,resources=loadbalancerconfigurations,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconciler reports the explicit ALB names of one kind (Ingress or LoadBalancerConfiguration)
// that are not their namespace's.
type Reconciler struct {
	// Reader is the manager's cache, with index.LoadBalancerName.
	Reader client.Reader
	// Live reads a naming object's managedFields, which the cache strips (namedSince); nil
	// dates every name from its object's creation.
	Live client.Reader
	// Recorder records the Events; the Setup functions supply the manager's.
	Recorder events.EventRecorder
	// configurations is set for the LoadBalancerConfiguration reconciler.
	configurations bool
	// told remembers, per object (namespace/name), what its last Events said (its UID, the
	// name, the reason and the holder), so that reconciling again does not repeat them.
	told sync.Map
}

// SetupIngresses registers the re-check of Ingresses, after index.Setup.
func SetupIngresses(mgr ctrl.Manager) error {
	r := &Reconciler{Reader: mgr.GetCache(), Live: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder("gateway-orchestrator")}
	return ctrl.NewControllerManagedBy(mgr).
		Named(IngressControllerName).
		For(&networkingv1.Ingress{}, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			return o.GetAnnotations()[lbc.LoadBalancerNameAnnotation] != ""
		}))).
		Watches(&gwv1.Gateway{}, handler.EnqueueRequestsFromMapFunc(r.namers(&networkingv1.IngressList{})), builder.WithPredicates(albsChanged)).
		Watches(&networkingv1.Ingress{}, handler.EnqueueRequestsFromMapFunc(r.namers(&networkingv1.IngressList{})), builder.WithPredicates(albsChanged)).
		Complete(r)
}

// SetupConfigurations registers the re-check of LoadBalancerConfigurations. Call it only where
// that kind is served, after index.SetupLoadBalancerConfigurations.
func SetupConfigurations(mgr ctrl.Manager) error {
	r := &Reconciler{Reader: mgr.GetCache(), Live: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder("gateway-orchestrator"), configurations: true}
	return ctrl.NewControllerManagedBy(mgr).
		Named(ConfigurationControllerName).
		For(lbc.NewUnstructured(), builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			n, _, _ := unstructured.NestedString(o.(*unstructured.Unstructured).Object, "spec", "loadBalancerName")
			return n != ""
		}))).
		Watches(&gwv1.Gateway{}, handler.EnqueueRequestsFromMapFunc(r.namers(lbc.NewUnstructuredList())), builder.WithPredicates(albsChanged)).
		Watches(&networkingv1.Ingress{}, handler.EnqueueRequestsFromMapFunc(r.namers(lbc.NewUnstructuredList())), builder.WithPredicates(albsChanged)).
		Complete(r)
}

// albsChanged passes a Gateway's or Ingress's creates, and updates that change the ALBs it is on
// or names (index.LoadBalancerNameKeys): an ALB becomes its when its status says so.
var albsChanged = predicate.Funcs{
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		return !slices.Equal(index.LoadBalancerNameKeys(e.ObjectOld), index.LoadBalancerNameKeys(e.ObjectNew))
	},
}

// namers maps a Gateway or Ingress to the objects of list's kind that name (or are on) its ALBs.
func (r *Reconciler) namers(list client.ObjectList) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		var out []reconcile.Request
		for _, name := range index.LoadBalancerNameKeys(o) {
			l := list.DeepCopyObject().(client.ObjectList)
			if err := r.Reader.List(ctx, l, client.MatchingFields{index.LoadBalancerName: name}); err != nil {
				ctrl.LoggerFrom(ctx).Error(err, "listing the objects naming an ALB", "loadBalancerName", name)
				continue
			}
			for _, it := range objects(l) {
				out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(it)})
			}
		}
		return out
	}
}

// objects returns the items of an IngressList or an unstructured list.
func objects(l client.ObjectList) []client.Object {
	var out []client.Object
	switch l := l.(type) {
	case *networkingv1.IngressList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case *unstructured.UnstructuredList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	}
	return out
}

// Reconcile records a Warning Event on the object whose explicit ALB name is not its namespace's,
// and on the Gateway or Ingress whose ALB that is.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	n, err := r.read(ctx, req.NamespacedName)
	if err != nil {
		return reconcile.Result{}, err
	}
	if n.name == "" {
		r.told.Delete(req.String())
		return reconcile.Result{}, nil
	}
	obj, what, path, name := n.obj, n.what, n.path, n.name
	holders, err := ownership.ALBHolders(ctx, r.Reader, name)
	if err != nil {
		return reconcile.Result{}, err
	}
	since, err := r.namedSince(ctx, obj, n.field)
	if err != nil {
		return reconcile.Result{}, err
	}
	v := ownership.DecideLoadBalancerName(ownership.NameSubject{Namespace: obj.GetNamespace(), Group: n.group, UID: obj.GetUID(),
		Since: since}, name, holders)
	if v.Reason == "" {
		r.told.Delete(req.String())
		return reconcile.Result{}, nil
	}
	said := fmt.Sprintf("%s/%s/%s", obj.GetUID(), name, v.Reason)
	if v.Holder != nil {
		said += "/" + string(v.Holder.Object.GetUID())
	}
	if prev, ok := r.told.Swap(req.String(), said); ok && prev == said {
		return reconcile.Result{}, nil
	}
	log := ctrl.LoggerFrom(ctx).WithValues("loadBalancerName", name, "reason", v.Reason, "field", path)
	if v.Holder == nil {
		log.Info("an object names an ALB of LBC's generated shape that is not its namespace's")
		r.Recorder.Eventf(obj, nil, "Warning", v.Reason, "Name",
			"%s names ALB %q, of the shape the AWS Load Balancer Controller generates for Gateways and IngressGroups, and no Gateway or Ingress of namespace %s is on it: it may be another namespace's ALB, now or once created, which the controller would take over; choose a name of your own",
			path, name, obj.GetNamespace())
		return reconcile.Result{}, nil
	}
	h := v.Holder.Object
	whose := fmt.Sprintf("%s %s/%s", v.Holder.Kind, h.GetNamespace(), h.GetName())
	if v.Holder.Pool != "" {
		whose = fmt.Sprintf("pool Gateway %s/%s (GatewayPool %s)", h.GetNamespace(), h.GetName(), v.Holder.Pool)
	}
	log.Info("an object names another namespace's ALB", "holder", whose)
	r.Recorder.Eventf(obj, h, "Warning", v.Reason, "Name",
		"%s names ALB %q, which is the ALB of %s: the AWS Load Balancer Controller takes that ALB over for this %s; choose a name of your own",
		path, name, whose, what)
	// Its own action: the Events API merges Events of one object, related object, reason and
	// action into one series, keeping the first note, so this report on h must not hide h's own
	// report as the namer when both sides are reported.
	r.Recorder.Eventf(h, obj, "Warning", v.Reason, "NamedBy",
		"%s %s/%s of namespace %s names this object's ALB %q (%s): the AWS Load Balancer Controller takes it over for that %s",
		what, obj.GetNamespace(), obj.GetName(), obj.GetNamespace(), name, path, what)
	return reconcile.Result{}, nil
}

// naming is an object that names an ALB: what it is, the field naming it, the name and the
// object's IngressGroup.
type naming struct {
	obj                     client.Object
	what, path, name, group string
	// field is the path of the naming field in managedFields' fieldsV1 ("f:spec", ...).
	field []string
}

// read returns the naming of the object key; its name is "" when the object is gone, names no
// ALB, or is the pool's own configuration.
func (r *Reconciler) read(ctx context.Context, key types.NamespacedName) (naming, error) {
	if !r.configurations {
		ing := &networkingv1.Ingress{}
		if err := r.Reader.Get(ctx, key, ing); err != nil {
			return naming{}, client.IgnoreNotFound(err)
		}
		return naming{obj: ing, what: "Ingress", path: "metadata.annotations[" + lbc.LoadBalancerNameAnnotation + "]",
			name: ing.Annotations[lbc.LoadBalancerNameAnnotation], group: lbc.ExplicitIngressGroup(ing.Annotations),
			field: []string{"f:metadata", "f:annotations", "f:" + lbc.LoadBalancerNameAnnotation}}, nil
	}
	u := lbc.NewUnstructured()
	if err := r.Reader.Get(ctx, key, u); err != nil {
		return naming{}, client.IgnoreNotFound(err)
	}
	cfg, err := lbc.FromUnstructured(u)
	if err != nil {
		return naming{}, reconcile.TerminalError(err)
	}
	if pool, err := ownership.PoolObject(ctx, r.Reader, cfg); err != nil || pool {
		return naming{}, err
	}
	return naming{obj: u, what: "LoadBalancerConfiguration", path: "spec.loadBalancerName", name: cfg.Spec.LoadBalancerName,
		field: []string{"f:spec", "f:loadBalancerName"}}, nil
}

// namedSince is the latest time obj may have begun to name its ALB: the time of the last write
// of a managedFields entry that owns the naming field (fieldsV1 path field), else obj's
// creation. A name added after the object was created (around admission) dates from then, not
// from the creation: otherwise an object created first, without a name, that later named
// another namespace's ALB would count as having named it first, and the victim would be
// reported instead. The entry's time is an upper bound (any later write by the same manager
// moves it) while the other holders are dated by their creation, a lower bound; where the order
// cannot be known, both sides are reported.
func (r *Reconciler) namedSince(ctx context.Context, obj client.Object, field []string) (time.Time, error) {
	since := obj.GetCreationTimestamp().Time
	if r.Live == nil {
		return since, nil
	}
	live := &metav1.PartialObjectMetadata{}
	if r.configurations {
		live.SetGroupVersionKind(lbc.GroupVersionKind)
	} else {
		live.SetGroupVersionKind(networkingv1.SchemeGroupVersion.WithKind("Ingress"))
	}
	if err := r.Live.Get(ctx, client.ObjectKeyFromObject(obj), live); err != nil {
		return since, client.IgnoreNotFound(err)
	}
	if live.UID != obj.GetUID() {
		return since, nil
	}
	for _, e := range live.ManagedFields {
		if e.Time == nil || e.FieldsV1 == nil || !e.Time.After(since) {
			continue
		}
		var fields map[string]any
		if json.Unmarshal(e.FieldsV1.GetRawBytes(), &fields) != nil {
			continue
		}
		if owns(fields, field) {
			since = e.Time.Time
		}
	}
	return since, nil
}

// owns reports whether the fieldsV1 set fields holds path.
func owns(fields map[string]any, path []string) bool {
	for _, p := range path {
		next, ok := fields[p].(map[string]any)
		if !ok {
			return false
		}
		fields = next
	}
	return true
}
