package gatewaypool

import (
	"context"
	"errors"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/internal/ownlb"
	"github.com/opendi/gateway-orchestrator/internal/routeuse"
)

// gather reads the pool's snapshot once: its Gateways with their configurations and ALBs, the
// claims of its zones with what each needs on a Gateway (route rules and target groups, from the
// RouteHostname index), the routes of other namespaces that list their hostnames, and the
// GatewayClass's verdict. Every read is from the manager's cache except the configurations (one
// List of the pool's, see configurations) and the ALB's hosted zone, which ELBv2 is asked once per ALB. A reconcile
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
		st := GatewayState{Gateway: gw, Refusal: ownlb.Refusal(gw), Config: configs[gw.Name]}
		st.LoadBalancerHost, st.LoadBalancerZone, err = r.loadBalancer(ctx, gw)
		var unknown *unknownLoadBalancer
		switch {
		case errors.As(err, &unknown):
			st.UnknownLoadBalancer = unknown.host // its seats say so; the rest of the pool goes on
		case err != nil:
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
	poolNS, err := r.poolNamespaces(ctx)
	if err != nil {
		return nil, err
	}
	s.Claims = make([]ClaimState, 0, len(claims))
	for _, c := range claims {
		cs, err := r.claimState(ctx, pool, c, claimNames, poolNS)
		if err != nil {
			return nil, err
		}
		if cs.OwnerGone, err = r.ownerGone(ctx, c); err != nil {
			return nil, err
		}
		s.Claims = append(s.Claims, cs)
	}
	r.memos.pruneNeeds(pool.Name, claims)
	if s.ClassProblem, err = r.classProblem(ctx, pool); err != nil {
		return nil, err
	}
	return s, nil
}

// claimState is claim c as gathered: what it needs on a Gateway, from the routes listing its
// hostname, the routes of other namespaces among them, and whether its users need a pool seat at
// all (see ownlb). A claim whose need is remembered (see needMemo) is not looked up again: only
// a claim whose users all need the pool is remembered.
func (r *Reconciler) claimState(ctx context.Context, pool *v1alpha1.GatewayPool, c *v1alpha1.DomainClaim, claimNames, poolNS map[string]bool) (ClaimState, error) {
	http := pool.Spec.Template.HTTPListener
	need, ok, epoch := r.memos.need(pool.Name, c, http)
	if ok {
		return ClaimState{Claim: c, Need: need}, nil
	}
	cs, https, grpcs, err := r.lookUpClaim(ctx, c, claimNames, poolNS)
	if err != nil {
		return ClaimState{}, err
	}
	cs.Need = seat(c, https, grpcs, claimNames, http)
	if !hostname.IsWildcard(c.Spec.Hostname) && ownersOnly(c, https, grpcs) && len(cs.Strays) == 0 && cs.Own.Decision.Kind == ownlb.Pool && len(cs.Own.Decision.Objects) == 0 {
		r.memos.rememberNeed(pool.Name, c, cs.Need, http, epoch)
	}
	return cs, nil
}

// lookUpClaim is claim c as gathered without its seat need: the routes of other namespaces that
// list its hostname and whether its users need a pool seat (see ownLoadBalancer), with the routes
// listing its hostname (the cache's own objects).
func (r *Reconciler) lookUpClaim(ctx context.Context, c *v1alpha1.DomainClaim, claimNames, poolNS map[string]bool) (ClaimState, []gwv1.HTTPRoute, []gwv1.GRPCRoute, error) {
	var https gwv1.HTTPRouteList
	var grpcs gwv1.GRPCRouteList
	byHostname := client.MatchingFields{index.RouteHostname: c.Spec.Hostname}
	if err := r.Client.List(ctx, &https, byHostname, client.UnsafeDisableDeepCopy); err != nil {
		return ClaimState{}, nil, nil, err
	}
	if err := r.Client.List(ctx, &grpcs, byHostname, client.UnsafeDisableDeepCopy); err != nil {
		return ClaimState{}, nil, nil, err
	}
	strays, err := routeuse.Strays(ctx, r.Client, c, https.Items, grpcs.Items)
	if err != nil {
		return ClaimState{}, nil, nil, err
	}
	lbs, err := r.strayLoadBalancers(ctx, c, poolNS)
	if err != nil {
		return ClaimState{}, nil, nil, err
	}
	strays = append(strays, lbs...)
	own, err := r.ownLoadBalancer(ctx, c, https.Items, grpcs.Items, claimNames, poolNS)
	if err != nil {
		return ClaimState{}, nil, nil, err
	}
	return ClaimState{Claim: c, Strays: strays, Own: own}, https.Items, grpcs.Items, nil
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

// configurations reads the LoadBalancerConfigurations of the pool's Gateways by name (LBC's kind is
// not in the manager's cache, so each read is a request to the API server): the pool's labelled
// configurations (see labelledConfigurations), and a Get for a Gateway whose configuration is not
// among them (one written before it carried the label). A Gateway without one is missing from the
// map. The configurations returned are shared with the memo and must not be changed.
func (r *Reconciler) configurations(ctx context.Context, pool *v1alpha1.GatewayPool, gws []gwv1.Gateway) (map[string]*lbc.LoadBalancerConfiguration, error) {
	if len(gws) == 0 {
		return map[string]*lbc.LoadBalancerConfiguration{}, nil
	}
	out, err := r.labelledConfigurations(ctx, pool)
	if err != nil {
		return nil, err
	}
	for i := range gws {
		gw := &gws[i]
		if out[gw.Name] != nil {
			continue
		}
		cfg, err := r.configuration(ctx, client.ObjectKeyFromObject(gw))
		switch {
		case err != nil:
			return nil, err
		case cfg != nil:
			out[gw.Name] = cfg
		}
	}
	return out, nil
}

// labelledConfigurations reads the pool's labelled configurations. With an APIReader it lists
// their metadata only and reads in full just those whose resourceVersion is not the one read
// before: a pool of N claims has N/25 configurations, and the pool's writes change a few of them
// per reconcile. Without one it lists them in full.
func (r *Reconciler) labelledConfigurations(ctx context.Context, pool *v1alpha1.GatewayPool) (map[string]*lbc.LoadBalancerConfiguration, error) {
	out := map[string]*lbc.LoadBalancerConfiguration{}
	in := []client.ListOption{client.InNamespace(pool.Spec.Namespace), client.MatchingLabels{LabelPool: pool.Name}}
	listKind := lbc.GroupVersionKind.GroupVersion().WithKind(lbc.GroupVersionKind.Kind + "List")
	if r.APIReader == nil {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(listKind)
		if err := r.Client.List(ctx, list, in...); err != nil {
			return nil, err
		}
		for i := range list.Items {
			cfg, err := lbc.FromUnstructured(&list.Items[i])
			if err != nil {
				return nil, err
			}
			out[cfg.Name] = cfg
		}
		return out, nil
	}
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(listKind)
	if err := r.APIReader.List(ctx, list, in...); err != nil {
		return nil, err
	}
	known := r.memos.configurations(pool.Name)
	for i := range list.Items {
		m := &list.Items[i]
		if cfg := known[m.Name]; cfg != nil && cfg.ResourceVersion == m.ResourceVersion {
			out[m.Name] = cfg
			continue
		}
		cfg, err := r.configuration(ctx, client.ObjectKey{Namespace: m.Namespace, Name: m.Name})
		if err != nil {
			return nil, err
		}
		if cfg != nil {
			out[m.Name] = cfg
		}
	}
	r.memos.rememberConfigurations(pool.Name, out)
	return out, nil
}

// configuration reads one configuration; nil when there is none.
func (r *Reconciler) configuration(ctx context.Context, key client.ObjectKey) (*lbc.LoadBalancerConfiguration, error) {
	var rd client.Reader = r.Client
	if r.APIReader != nil {
		rd = r.APIReader
	}
	u := lbc.NewUnstructured()
	if err := rd.Get(ctx, key, u); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	return lbc.FromUnstructured(u)
}
