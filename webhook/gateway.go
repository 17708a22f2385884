package webhook

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

// +kubebuilder:webhook:path=/validate-gateway-networking-k8s-io-v1-gateway,mutating=false,failurePolicy=fail,sideEffects=NoneOnDryRun,groups=gateway.networking.k8s.io,resources=gateways,verbs=create;update,versions=v1,name=vgateway.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5,patch=`{"matchConditions":[{"name":"has-hostnames","expression":"has(object.spec.listeners) && object.spec.listeners.exists(l, has(l.hostname))"}]}`
// +kubebuilder:webhook:path=/validate-gateway-networking-k8s-io-v1-listenerset,mutating=false,failurePolicy=fail,sideEffects=NoneOnDryRun,groups=gateway.networking.k8s.io,resources=listenersets,verbs=create;update,versions=v1,name=vlistenerset.gateway.opendi.com,admissionReviewVersions=v1,matchPolicy=Equivalent,timeoutSeconds=5,patch=`{"matchConditions":[{"name":"has-hostnames","expression":"has(object.spec.listeners) && object.spec.listeners.exists(l, has(l.hostname))"}]}`
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gateways;grpcroutes;listenersets,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.opendi.com,resources=gatewaypools,verbs=get;list;watch

// GatewayValidator checks the listener hostnames of Gateways that are not pool Gateways: a
// hostname under a ManagedZone must be owned by (or claimable for) the Gateway's namespace, as
// for a route. Hostnames outside every zone pass. Pool Gateways are the orchestrator's own.
type GatewayValidator Door

var _ admission.Validator[*gwv1.Gateway] = &GatewayValidator{}

// ValidateCreate implements admission.Validator.
func (v *GatewayValidator) ValidateCreate(ctx context.Context, gw *gwv1.Gateway) (admission.Warnings, error) {
	door := (*Door)(v)
	pool, err := door.isPoolObject(ctx, gw)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	if pool {
		return nil, nil
	}
	return door.Admit(ctx, listenerEntrance("Gateway", gw.Namespace, ObjectName(gw.Name, gw.GenerateName), listenerHosts(gw.Spec.Listeners)))
}

// ValidateUpdate implements admission.Validator: every listener hostname is checked again.
func (v *GatewayValidator) ValidateUpdate(ctx context.Context, old, gw *gwv1.Gateway) (admission.Warnings, error) {
	if bookkeeping(old, gw, &old.Spec, &gw.Spec) {
		return nil, nil
	}
	return v.ValidateCreate(ctx, gw)
}

// ValidateDelete implements admission.Validator.
func (v *GatewayValidator) ValidateDelete(context.Context, *gwv1.Gateway) (admission.Warnings, error) {
	return nil, nil
}

// ListenerSetValidator checks the listener hostnames of ListenerSets (standard in Gateway API
// v1.5 and later) like those of a Gateway.
type ListenerSetValidator Door

var _ admission.Validator[*gwv1.ListenerSet] = &ListenerSetValidator{}

// ValidateCreate implements admission.Validator.
func (v *ListenerSetValidator) ValidateCreate(ctx context.Context, ls *gwv1.ListenerSet) (admission.Warnings, error) {
	var hosts []*gwv1.Hostname
	for _, l := range ls.Spec.Listeners {
		hosts = append(hosts, l.Hostname)
	}
	return (*Door)(v).Admit(ctx, listenerEntrance("ListenerSet", ls.Namespace, ObjectName(ls.Name, ls.GenerateName), hosts))
}

// ValidateUpdate implements admission.Validator: every listener hostname is checked again.
func (v *ListenerSetValidator) ValidateUpdate(ctx context.Context, old, ls *gwv1.ListenerSet) (admission.Warnings, error) {
	if bookkeeping(old, ls, &old.Spec, &ls.Spec) {
		return nil, nil
	}
	return v.ValidateCreate(ctx, ls)
}

// ValidateDelete implements admission.Validator.
func (v *ListenerSetValidator) ValidateDelete(context.Context, *gwv1.ListenerSet) (admission.Warnings, error) {
	return nil, nil
}

func listenerHosts(ls []gwv1.Listener) []*gwv1.Hostname {
	out := make([]*gwv1.Hostname, 0, len(ls))
	for _, l := range ls {
		out = append(out, l.Hostname)
	}
	return out
}

// listenerEntrance is the Door's view of listeners, hosts[i] being listener i's hostname.
func listenerEntrance(kind, ns, name string, hosts []*gwv1.Hostname) Entrance {
	e := Entrance{Kind: schema.GroupKind{Group: gwv1.GroupName, Kind: kind}, Namespace: ns, Name: name, ManagedOnly: true}
	for i, h := range hosts {
		if h != nil {
			e.Hosts = append(e.Hosts, Host{Path: field.NewPath("spec", "listeners").Index(i).Child("hostname"), Name: string(*h)})
		}
	}
	return e
}

// isPoolObject reports whether obj is one of a pool's own objects (ownership.PoolObject).
func (door *Door) isPoolObject(ctx context.Context, obj metav1.Object) (bool, error) {
	if door.Reader == nil {
		return false, nil
	}
	return ownership.PoolObject(ctx, door.Reader, obj)
}

// poolParent returns "namespace/name" of the first parentRef of a route in namespace ns that
// names a pool Gateway (any Gateway in a GatewayPool's namespace, or one labelled as a pool's),
// or "".
func (door *Door) poolParent(ctx context.Context, ns string, refs []gwv1.ParentReference) (string, error) {
	if door.Reader == nil || len(refs) == 0 {
		return "", nil
	}
	var pools v1alpha1.GatewayPoolList
	if err := door.Reader.List(ctx, &pools); err != nil {
		return "", err
	}
	for _, ref := range refs {
		if !v1alpha1.IsGatewayRef(ref) {
			continue
		}
		gwNS := ns
		if ref.Namespace != nil {
			gwNS = string(*ref.Namespace)
		}
		key := gwNS + "/" + string(ref.Name)
		for _, p := range pools.Items {
			if p.Spec.Namespace == gwNS {
				return key, nil
			}
		}
		gw := &gwv1.Gateway{}
		err := door.Reader.Get(ctx, client.ObjectKey{Namespace: gwNS, Name: string(ref.Name)}, gw)
		if err != nil && !apierrors.IsNotFound(err) {
			return "", err
		}
		if err == nil && gw.Labels[LabelPool] != "" {
			return key, nil
		}
	}
	return "", nil
}
