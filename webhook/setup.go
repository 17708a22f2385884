// Package webhook holds the admission webhooks: hostname normalization and first-come-first-serve
// ownership for every object that carries a hostname (HTTPRoute, GRPCRoute, Ingress, Gateway,
// ListenerSet), through one Door, and cross-object checks for the project's CRDs. Decisions are
// pure functions over a View of the informer cache; the side effects are the DomainClaim
// create that makes a claim race-free, and the mark on an idle claim of the namespace
// (Claimer.Keep) that keeps a release from overtaking the object admitted for it.
package webhook

import (
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

// Register adds every webhook to the manager's webhook server, with its metrics registered with
// reg. The indexes of package index must be registered with the same manager.
func Register(mgr manager.Manager, reg prometheus.Registerer, opts ownership.Options, claimFinalizers ...string) error {
	view := ownership.CacheView{Reader: mgr.GetCache(), Live: mgr.GetAPIReader()}
	door := Door{
		View:    view,
		Reader:  mgr.GetCache(),
		Claimer: &Claimer{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Cache: mgr.GetCache(), View: view, Finalizers: claimFinalizers},
		Options: opts,
		Counter: view,
		Metrics: NewMetrics(reg),
	}
	if err := watchClassParams(mgr, &door); err != nil {
		return err
	}
	door.Live = mgr.GetAPIReader()
	if err := watchTargetGroupConfigs(mgr, &door); err != nil {
		return err
	}
	if err := managedBy(mgr, &gwv1.HTTPRoute{}).
		WithDefaulter(&RouteDefaulter{Reader: mgr.GetCache()}).
		WithValidator((*RouteValidator)(&door)).
		Complete(); err != nil {
		return err
	}
	if err := managedBy(mgr, &gwv1.GRPCRoute{}).
		WithDefaulter(&GRPCRouteDefaulter{Reader: mgr.GetCache()}).
		WithValidator((*GRPCRouteValidator)(&door)).
		Complete(); err != nil {
		return err
	}
	if err := managedBy(mgr, &gwv1.TLSRoute{}).
		WithValidator((*TLSRouteValidator)(&door)).Complete(); err != nil {
		return err
	}
	if err := managedBy(mgr, &corev1.Service{}).
		WithValidator((*ServiceValidator)(&door)).Complete(); err != nil {
		return err
	}
	if err := managedBy(mgr, &networkingv1.Ingress{}).
		WithValidator((*IngressValidator)(&door)).Complete(); err != nil {
		return err
	}
	if err := managedBy(mgr, &gwv1.Gateway{}).
		WithValidator((*GatewayValidator)(&door)).Complete(); err != nil {
		return err
	}
	if err := managedBy(mgr, &gwv1.ListenerSet{}).
		WithValidator((*ListenerSetValidator)(&door)).Complete(); err != nil {
		return err
	}
	registerLoadBalancerConfig(mgr, &door)
	registerTargetGroupConfig(mgr, &door)
	if err := managedBy(mgr, &v1alpha1.ManagedZone{}).
		WithValidator(&ZoneValidator{View: view, Reader: mgr.GetCache()}).Complete(); err != nil {
		return err
	}
	if err := managedBy(mgr, &v1alpha1.GatewayPool{}).
		WithValidator(&PoolValidator{Reader: mgr.GetCache()}).Complete(); err != nil {
		return err
	}
	return managedBy(mgr, &v1alpha1.DomainClaim{}).
		WithDefaulter(&ClaimRecorder{}).
		WithValidator(&ClaimValidator{View: ownership.LiveClaims{View: view, Live: mgr.GetAPIReader()}, Cache: view, Configurations: mgr.GetAPIReader()}).Complete()
}

// NamespaceSelector is the namespaceSelector of every webhook configuration: kube-system and
// the orchestrator's own namespace are never sent to the webhooks, so an unavailable webhook
// cannot wedge the cluster's own components or its own recovery. deploy/default patches the
// generated configurations with the same selector.
func NamespaceSelector(ownNamespace string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key:      corev1.LabelMetadataName,
		Operator: metav1.LabelSelectorOpNotIn,
		Values:   []string{metav1.NamespaceSystem, ownNamespace},
	}}}
}
