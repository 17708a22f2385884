// Package lbconfig is the LoadBalancerConfiguration reconciler: it reports the AWS Load Balancer
// Controller's LoadBalancerConfigurations that put another namespace's claim certificate on a
// load balancer. Admission denies such a configuration (webhook/lbconfig.go); one it admitted
// while its namespace owned the claim keeps the certificate after the claim is transferred, and
// one made around admission (a namespace the webhooks exclude, a webhook outage) was never
// checked. LBC serves the certificate either way, so this reconciler tells both sides.
//
//   - Watches: LoadBalancerConfigurations (only where LBC's CRD is served, on spec and label
//     changes), and DomainClaims whose owner or certificate changes (mapped through
//     index.ConfigurationCertificateARN to the configurations naming the claim's certificate).
//   - Owns: the ForeignCertificate Warning Events it records on the configuration and on the
//     claim. It writes no object: the configuration is its namespace's, and LBC reads all of it.
//   - Reads: DomainClaims by certificate (index.ClaimCertificateARN) and GatewayPools (the
//     pool's own configurations carry many namespaces' certificates on purpose and are skipped).
package lbconfig

import (
	"context"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

// ControllerName names the controller in logs and metrics.
const ControllerName = "loadbalancerconfiguration"

// +kubebuilder:rbac:groups=gateway.k8s.aws,resources=loadbalancerconfigurations,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconciler reports LoadBalancerConfigurations naming another namespace's claim certificate.
type Reconciler struct {
	// Reader is the manager's cache (the manager's client would read LoadBalancerConfigurations,
	// which it handles as unstructured objects, from the API server, without the index).
	Reader client.Reader
	// Recorder records the Events; SetupWithManager supplies the manager's.
	Recorder events.EventRecorder
	// told remembers the Events recorded per configuration (its UID, the ARN and the claim's
	// owner), so that reconciling again does not repeat them.
	told sync.Map
}

// SetupWithManager registers the controller. Call it only where the LoadBalancerConfiguration
// kind is served, after index.SetupLoadBalancerConfigurations.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder("gateway-orchestrator")
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(lbc.NewUnstructured(), builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		Watches(&v1alpha1.DomainClaim{}, handler.EnqueueRequestsFromMapFunc(r.claimToConfigurations), builder.WithPredicates(ownerOrCertificateChanged)).
		Complete(r)
}

// ownerOrCertificateChanged passes a claim's updates that change who owns its certificate, or
// which certificate it has. A new claim has no certificate yet, and a deleted one owns nothing.
var ownerOrCertificateChanged = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, n := e.ObjectOld.(*v1alpha1.DomainClaim), e.ObjectNew.(*v1alpha1.DomainClaim)
		return o.Spec.Namespace != n.Spec.Namespace || o.Status.CertificateARN != n.Status.CertificateARN
	},
}

// claimToConfigurations maps a claim to the configurations naming its certificate.
func (r *Reconciler) claimToConfigurations(ctx context.Context, o client.Object) []reconcile.Request {
	arn := o.(*v1alpha1.DomainClaim).Status.CertificateARN
	if arn == "" {
		return nil
	}
	list := lbc.NewUnstructuredList()
	if err := r.Reader.List(ctx, list, client.MatchingFields{index.ConfigurationCertificateARN: arn}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing the LoadBalancerConfigurations of a certificate", "claim", o.GetName(), "certificateARN", arn)
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return out
}

// Reconcile records a ForeignCertificate Warning on the configuration and on each claim whose
// certificate it names while another namespace owns that claim.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	u := lbc.NewUnstructured()
	if err := r.Reader.Get(ctx, req.NamespacedName, u); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.String())
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	cfg, err := lbc.FromUnstructured(u)
	if err != nil {
		return reconcile.Result{}, reconcile.TerminalError(err)
	}
	if pool, err := ownership.PoolObject(ctx, r.Reader, cfg); err != nil || pool {
		return reconcile.Result{}, err
	}
	for _, ref := range cfg.CertificateRefs() {
		claims, err := ownership.ForeignCertificateClaims(ctx, r.Reader, cfg.Namespace, ref.ARN)
		if err != nil {
			return reconcile.Result{}, err
		}
		for i := range claims {
			c := &claims[i]
			key := fmt.Sprintf("%s/%s/%s/%s", req, cfg.UID, ref.ARN, c.Spec.Namespace)
			if _, seen := r.told.LoadOrStore(key, struct{}{}); seen {
				continue
			}
			ctrl.LoggerFrom(ctx).Info("a LoadBalancerConfiguration names another namespace's certificate",
				"claim", c.Name, "hostname", c.Spec.Hostname, "owner", c.Spec.Namespace, "field", ref.Path.String(), "certificateARN", ref.ARN)
			r.Recorder.Eventf(u, c, "Warning", v1alpha1.ReasonForeignCertificate, "Serve",
				"%s names certificate %s of hostname %q (DomainClaim %s), which namespace %s owns: the AWS Load Balancer Controller serves it on the load balancer of every Gateway that references this configuration; remove it",
				ref.Path, ref.ARN, c.Spec.Hostname, c.Name, c.Spec.Namespace)
			r.Recorder.Eventf(c, u, "Warning", v1alpha1.ReasonForeignCertificate, "Serve",
				"LoadBalancerConfiguration %s/%s of namespace %s names this claim's certificate (%s): the AWS Load Balancer Controller serves it on that namespace's load balancer",
				cfg.Namespace, cfg.Name, cfg.Namespace, ref.Path)
		}
	}
	return reconcile.Result{}, nil
}

// forget drops what was told about configuration key (namespace/name), which is gone.
func (r *Reconciler) forget(key string) {
	r.told.Range(func(k, _ any) bool {
		if s := k.(string); len(s) > len(key) && s[:len(key)+1] == key+"/" {
			r.told.Delete(k)
		}
		return true
	})
}
