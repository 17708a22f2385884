package gatewaypool

import (
	"context"
	"sort"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/internal/routeuse"
)

// strayLoadBalancers lists the objects of other namespaces that bring a load balancer of their
// own from LBC (Gateways that are not a pool's, ListenerSets where served, Ingresses: those LBC
// serves, servedByLBC) and list claim c's hostname ("Kind namespace/name"), when c is the owner's
// (Claimed and not being deleted): a former owner's after a transfer, or one made where admission
// does not look. No listener of the pool keeps them off their own ALB, and LBC finds their
// certificate by hostname, so they may carry the owner's certificate although the ALIAS does not
// point at them: the claim's StrayRoutes condition names them, as it names routes. Other
// controllers' objects (an nginx Ingress, say) get no certificate from LBC and are not named.
func (r *Reconciler) strayLoadBalancers(ctx context.Context, c *v1alpha1.DomainClaim, poolNS map[string]bool) ([]string, error) {
	if !c.DeletionTimestamp.IsZero() || !meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionClaimed) {
		return nil, nil
	}
	byHostname := []client.ListOption{client.MatchingFields{index.RouteHostname: c.Spec.Hostname}, client.UnsafeDisableDeepCopy}
	var objs []client.Object
	var gws gwv1.GatewayList
	if err := r.Client.List(ctx, &gws, byHostname...); err != nil {
		return nil, err
	}
	for i := range gws.Items {
		if !isPoolGateway(&gws.Items[i], poolNS) {
			objs = append(objs, &gws.Items[i])
		}
	}
	if r.ListenerSets {
		var lss gwv1.ListenerSetList
		if err := r.Client.List(ctx, &lss, byHostname...); err != nil {
			return nil, err
		}
		for i := range lss.Items {
			objs = append(objs, &lss.Items[i])
		}
	}
	var ings networkingv1.IngressList
	if err := r.Client.List(ctx, &ings, byHostname...); err != nil {
		return nil, err
	}
	for i := range ings.Items {
		objs = append(objs, &ings.Items[i])
	}
	var strays []string
	for _, o := range objs {
		yes, err := routeuse.Foreign(ctx, r.Client, c, o, index.Hostnames(o))
		if err == nil && yes {
			yes, err = r.servedByLBC(ctx, o)
		}
		if err != nil {
			return nil, err
		}
		if yes {
			strays = append(strays, kindOf(o)+" "+o.GetNamespace()+"/"+o.GetName())
		}
	}
	sort.Strings(strays)
	return strays, nil
}

// servedByLBC reports whether the AWS Load Balancer Controller serves o, a Gateway, ListenerSet
// or Ingress, or may come to serve it without o being written again (package lbc decides; a class
// not created yet counts as LBC's).
func (r *Reconciler) servedByLBC(ctx context.Context, o client.Object) (bool, error) {
	switch o := o.(type) {
	case *gwv1.Gateway:
		return lbc.ServesGateway(ctx, r.Client, o)
	case *gwv1.ListenerSet:
		return lbc.ServesListenerSet(ctx, r.Client, o)
	case *networkingv1.Ingress:
		return lbc.ServesIngress(ctx, r.Client, o)
	}
	return false, nil
}

func kindOf(o client.Object) string {
	switch o.(type) {
	case *gwv1.Gateway:
		return "Gateway"
	case *gwv1.ListenerSet:
		return "ListenerSet"
	}
	return "Ingress"
}
