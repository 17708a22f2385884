package routeuse

import (
	"context"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
)

// Users lists the objects of the claim's namespace that use its hostname and are not being
// deleted: HTTPRoutes, GRPCRoutes, Ingresses and Gateways (by a listener's hostname).
func Users(ctx context.Context, rd client.Reader, c *v1alpha1.DomainClaim) ([]client.Object, error) {
	var out []client.Object
	for _, l := range []client.ObjectList{&gwv1.HTTPRouteList{}, &gwv1.GRPCRouteList{}, &networkingv1.IngressList{}, &gwv1.GatewayList{}} {
		if err := rd.List(ctx, l, client.InNamespace(c.Spec.Namespace), client.MatchingFields{index.RouteHostname: c.Spec.Hostname}); err != nil {
			return nil, err
		}
		if err := meta.EachListItem(l, func(o runtime.Object) error {
			if obj := o.(client.Object); obj.GetDeletionTimestamp().IsZero() {
				out = append(out, obj)
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Warn records a Warning Event on the cluster-scoped claim and on every object of its namespace
// that uses the hostname, where that object's owners look (kubectl describe, kubectl events -n).
func Warn(ctx context.Context, rd client.Reader, rec events.EventRecorder, c *v1alpha1.DomainClaim, reason, action, msg string) {
	rec.Eventf(c, nil, "Warning", reason, action, "%s", msg)
	users, err := Users(ctx, rd, c)
	if err != nil {
		return // the claim's Event stands
	}
	for _, o := range users {
		rec.Eventf(o, c, "Warning", reason, action, "hostname %s: %s", c.Spec.Hostname, msg)
	}
}
