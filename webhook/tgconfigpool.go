package webhook

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// TargetGroupConfigService indexes LBC TargetGroupConfigurations (cached as unstructured) by the
// Service they configure, "namespace/name", so a route's admission finds its backends'
// configurations with one in-memory lookup per backend.
const TargetGroupConfigService = "gateway.opendi.com/tgconfig-service"

// TargetGroupConfigServiceKeys is the TargetGroupConfigService key of a configuration.
func TargetGroupConfigServiceKeys(o client.Object) []string {
	c, err := toTargetGroupConfig(o)
	if err != nil || c.Service() == "" {
		return nil
	}
	return []string{c.Namespace + "/" + c.Service()}
}

func toTargetGroupConfig(o client.Object) (*lbc.TargetGroupConfiguration, error) {
	u, ok := o.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("%T is not unstructured", o)
	}
	c := &lbc.TargetGroupConfiguration{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, c); err != nil {
		return nil, err
	}
	return c, nil
}

func newTargetGroupConfigList() *unstructured.UnstructuredList {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(lbc.TargetGroupConfigurationGVK.GroupVersion().WithKind(lbc.TargetGroupConfigurationGVK.Kind + "List"))
	return l
}

// watchTargetGroupConfigs caches TargetGroupConfigurations, indexed by Service, where the API
// server serves the kind at start (a CRD installed later restarts the manager: see the
// orchestrator's served-kind watches), and lets route admission read them.
func watchTargetGroupConfigs(mgr manager.Manager, door *Door) error {
	gvk := lbc.TargetGroupConfigurationGVK
	_, err := mgr.GetRESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("looking up whether the API server serves %s: %w", gvk.GroupKind(), err)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), u, TargetGroupConfigService, TargetGroupConfigServiceKeys); err != nil {
		return fmt.Errorf("indexing TargetGroupConfigurations: %w", err)
	}
	if _, err := mgr.GetCache().GetInformer(context.Background(), u); err != nil {
		return fmt.Errorf("watching TargetGroupConfigurations: %w", err)
	}
	door.TargetGroupConfigs = true
	return nil
}

// serviceBackend is a route's backendRef to a Service, and its field.
type serviceBackend struct {
	Path    *field.Path
	Service types.NamespacedName
}

// serviceBackends lists the backendRefs of a route's rules that name Services (no group, kind
// Service or none), each with its field; refs(i) are rule i's backendRefs.
func serviceBackends(ns string, rules int, refs func(i int) []gwv1.BackendRef) []serviceBackend {
	var out []serviceBackend
	for i := range rules {
		for j, b := range refs(i) {
			if b.Group != nil && *b.Group != "" || b.Kind != nil && *b.Kind != "Service" {
				continue
			}
			svcNS := ns
			if b.Namespace != nil {
				svcNS = string(*b.Namespace)
			}
			out = append(out, serviceBackend{
				Path:    field.NewPath("spec", "rules").Index(i).Child("backendRefs").Index(j),
				Service: types.NamespacedName{Namespace: svcNS, Name: string(b.Name)},
			})
		}
	}
	return out
}

func httpBackends(r *gwv1.HTTPRoute) []serviceBackend {
	return serviceBackends(r.Namespace, len(r.Spec.Rules), func(i int) []gwv1.BackendRef {
		out := make([]gwv1.BackendRef, len(r.Spec.Rules[i].BackendRefs))
		for j, b := range r.Spec.Rules[i].BackendRefs {
			out[j] = b.BackendRef
		}
		return out
	})
}

func grpcBackends(r *gwv1.GRPCRoute) []serviceBackend {
	return serviceBackends(r.Namespace, len(r.Spec.Rules), func(i int) []gwv1.BackendRef {
		out := make([]gwv1.BackendRef, len(r.Spec.Rules[i].BackendRefs))
		for j, b := range r.Spec.Rules[i].BackendRefs {
			out[j] = b.BackendRef
		}
		return out
	})
}

// routeTargetGroupConfigs denies a pool route (poolPlace) whose backend Service has a
// TargetGroupConfiguration that, for this route (LBC's longest match over the default), asks for a
// target group LBC cannot build or ELBv2 refuses for an ALB (lbc.ALBIncompatible): LBC would fail
// the deploy of the whole shared Gateway. Routes without Service backends, and those whose
// Services have no configuration, pay one in-memory index lookup per backend and nothing else.
func (door *Door) routeTargetGroupConfigs(ctx context.Context, kind string, meta *metav1.ObjectMeta, refs []gwv1.ParentReference, hostnames []gwv1.Hostname, backends []serviceBackend) (field.ErrorList, error) {
	if !door.TargetGroupConfigs || door.Reader == nil {
		return nil, nil
	}
	type finding struct {
		path *field.Path
		cfg  string
		bad  lbc.Incompatibility
	}
	var found []finding
	seen := map[types.NamespacedName]bool{}
	for _, b := range backends {
		if seen[b.Service] {
			continue // each Service is reported once, on its first backendRef
		}
		seen[b.Service] = true
		l := newTargetGroupConfigList()
		if err := door.Reader.List(ctx, l, client.MatchingFields{TargetGroupConfigService: b.Service.String()}); err != nil {
			return nil, err
		}
		for i := range l.Items {
			c, err := toTargetGroupConfig(&l.Items[i])
			if err != nil {
				continue // LBC could not read it either
			}
			layers := c.Layers(kind, meta.Namespace, meta.Name)
			svc, err := door.serviceFor(ctx, layers, b.Service)
			if err != nil {
				return nil, err
			}
			for _, x := range lbc.ALBIncompatible(layers, svc) {
				found = append(found, finding{b.Path, c.Namespace + "/" + c.Name, x})
			}
		}
	}
	if len(found) == 0 {
		return nil, nil
	}
	where, err := door.poolPlace(ctx, meta, refs, hostnames)
	if err != nil || where == "" {
		return nil, err
	}
	var errs field.ErrorList
	for _, f := range found {
		errs = append(errs, field.Forbidden(f.path, fmt.Sprintf(
			"the Service's TargetGroupConfiguration %s sets %s to %q, a setting LBC cannot deploy on an ALB: %s; %s, whose ALB every team shares, and LBC could not deploy it any more for any team; "+
				"in the TargetGroupConfiguration, %s", f.cfg, f.bad.Path, f.bad.Value, f.bad.Why, where, f.bad.Fix)))
	}
	return errs, nil
}

// serviceFor reads the Service a configuration targets from the API server, only when deciding
// its layers needs it (lbc.NeedsService); nil when it does not, or when it does not exist.
func (door *Door) serviceFor(ctx context.Context, layers []lbc.PropsLayer, key types.NamespacedName) (*corev1.Service, error) {
	if !lbc.NeedsService(layers) || door.Live == nil {
		return nil, nil
	}
	svc := &corev1.Service{}
	if err := door.Live.Get(ctx, key, svc); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	return svc, nil
}
