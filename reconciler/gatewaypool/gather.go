package gatewaypool

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/internal/routeuse"
)

// gather reads the pool's snapshot once: its Gateways with their configurations and ALBs, the
// claims of its zones with what each needs on a Gateway (route rules and target groups, from the
// RouteHostname index), the routes of other namespaces that list their hostnames, and the
// GatewayClass's verdict. Every read is from the manager's cache except the configurations (one
// List for the pool) and the ALB's hosted zone, which ELBv2 is asked once per ALB. A reconcile
// reads every claim of the pool, so the per-claim reads are one pair of index lookups whose
// routes are the cache's own objects, not copies.
func (r *Reconciler) gather(ctx context.Context, pool *v1alpha1.GatewayPool) (*Snapshot, error) {
	s := &Snapshot{Pool: pool}
	var gws gwv1.GatewayList
	if err := r.Client.List(ctx, &gws, client.InNamespace(pool.Spec.Namespace), client.MatchingLabels{LabelPool: pool.Name}); err != nil {
		return nil, err
	}
	configs, err := r.configurations(ctx, pool, gws.Items)
	if err != nil {
		return nil, err
	}
	for i := range gws.Items {
		gw := &gws.Items[i]
		st := GatewayState{Gateway: gw, Refusal: lbcRefusal(gw), Config: configs[gw.Name]}
		if st.LoadBalancerHost, st.LoadBalancerZone, err = r.loadBalancer(ctx, gw); err != nil {
			return nil, err
		}
		s.Gateways = append(s.Gateways, st)
	}
	claims, err := r.claimsOf(ctx, pool)
	if err != nil {
		return nil, err
	}
	claimNames := make(map[string]bool, len(claims))
	for _, c := range claims {
		claimNames[c.Name] = true
	}
	s.Claims = make([]ClaimState, 0, len(claims))
	for _, c := range claims {
		cs, err := r.claimState(ctx, pool, c, claimNames)
		if err != nil {
			return nil, err
		}
		s.Claims = append(s.Claims, cs)
	}
	r.memos.pruneNeeds(pool.Name, claims)
	if s.ClassConflict, err = r.classConflict(ctx, pool); err != nil {
		return nil, err
	}
	return s, nil
}

// claimState is claim c as gathered: what it needs on a Gateway, from the routes listing its
// hostname, and the routes of other namespaces among them. A claim whose need is remembered (see
// needMemo) is not looked up again.
func (r *Reconciler) claimState(ctx context.Context, pool *v1alpha1.GatewayPool, c *v1alpha1.DomainClaim, claimNames map[string]bool) (ClaimState, error) {
	need, ok, epoch := r.memos.need(pool.Name, c)
	if ok {
		return ClaimState{Claim: c, Need: need}, nil
	}
	var https gwv1.HTTPRouteList
	var grpcs gwv1.GRPCRouteList
	byHostname := client.MatchingFields{index.RouteHostname: c.Spec.Hostname}
	if err := r.Client.List(ctx, &https, byHostname, client.UnsafeDisableDeepCopy); err != nil {
		return ClaimState{}, err
	}
	if err := r.Client.List(ctx, &grpcs, byHostname, client.UnsafeDisableDeepCopy); err != nil {
		return ClaimState{}, err
	}
	strays, err := routeuse.Strays(ctx, r.Client, c, https.Items, grpcs.Items)
	if err != nil {
		return ClaimState{}, err
	}
	need = seat(c, https.Items, grpcs.Items, claimNames)
	if !hostname.IsWildcard(c.Spec.Hostname) && ownersOnly(c, https.Items, grpcs.Items) {
		r.memos.rememberNeed(pool.Name, c, need, epoch)
	}
	return ClaimState{Claim: c, Need: need, Strays: strays}, nil
}

// ownersOnly reports whether every route listed is in the claim's namespace.
func ownersOnly(c *v1alpha1.DomainClaim, https []gwv1.HTTPRoute, grpcs []gwv1.GRPCRoute) bool {
	for i := range https {
		if https[i].Namespace != c.Spec.Namespace {
			return false
		}
	}
	for i := range grpcs {
		if grpcs[i].Namespace != c.Spec.Namespace {
			return false
		}
	}
	return true
}

// configurations reads the LoadBalancerConfigurations of the pool's Gateways by name: one List of
// the pool's labelled configurations (LBC's kind is not in the manager's cache, so each read is a
// request to the API server), and a Get for a Gateway whose configuration is not among them (one
// written before it carried the label). A Gateway without one is missing from the map.
func (r *Reconciler) configurations(ctx context.Context, pool *v1alpha1.GatewayPool, gws []gwv1.Gateway) (map[string]*lbc.LoadBalancerConfiguration, error) {
	out := map[string]*lbc.LoadBalancerConfiguration{}
	if len(gws) == 0 {
		return out, nil
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(lbc.GroupVersionKind.GroupVersion().WithKind(lbc.GroupVersionKind.Kind + "List"))
	if err := r.Client.List(ctx, list, client.InNamespace(pool.Spec.Namespace), client.MatchingLabels{LabelPool: pool.Name}); err != nil {
		return nil, err
	}
	for i := range list.Items {
		cfg, err := lbc.FromUnstructured(&list.Items[i])
		if err != nil {
			return nil, err
		}
		out[cfg.Name] = cfg
	}
	for i := range gws {
		gw := &gws[i]
		if out[gw.Name] != nil {
			continue
		}
		u := lbc.NewUnstructured()
		err := r.Client.Get(ctx, client.ObjectKeyFromObject(gw), u)
		switch {
		case err == nil:
			cfg, err := lbc.FromUnstructured(u)
			if err != nil {
				return nil, err
			}
			out[gw.Name] = cfg
		case client.IgnoreNotFound(err) != nil:
			return nil, err
		}
	}
	return out, nil
}
