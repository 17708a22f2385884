package gatewaypool

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/internal/routeuse"
)

// gather reads the pool's snapshot once: its Gateways with their configurations and ALBs, the
// claims of its zones with what each needs on a Gateway (route rules and target groups, from the
// RouteHostname index), the routes of other namespaces that list their hostnames, and the
// GatewayClass's verdict. Every read is from the manager's cache except the ALB's hosted zone,
// which ELBv2 is asked once per ALB.
func (r *Reconciler) gather(ctx context.Context, pool *v1alpha1.GatewayPool) (*Snapshot, error) {
	s := &Snapshot{Pool: pool}
	var gws gwv1.GatewayList
	if err := r.Client.List(ctx, &gws, client.InNamespace(pool.Spec.Namespace), client.MatchingLabels{LabelPool: pool.Name}); err != nil {
		return nil, err
	}
	for i := range gws.Items {
		gw := &gws.Items[i]
		st := GatewayState{Gateway: gw, Refusal: lbcRefusal(gw)}
		u := lbc.NewUnstructured()
		err := r.Client.Get(ctx, client.ObjectKeyFromObject(gw), u)
		switch {
		case err == nil:
			if st.Config, err = lbc.FromUnstructured(u); err != nil {
				return nil, err
			}
		case client.IgnoreNotFound(err) != nil:
			return nil, err
		}
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
	strays, err := routeuse.Strays(ctx, r.Client, claims)
	if err != nil {
		return nil, err
	}
	s.Claims = make([]ClaimState, 0, len(claims))
	for _, c := range claims {
		need, err := r.seat(ctx, c, claimNames)
		if err != nil {
			return nil, err
		}
		s.Claims = append(s.Claims, ClaimState{Claim: c, Need: need, Strays: strays[c.Name]})
	}
	if s.ClassConflict, err = r.classConflict(ctx, pool); err != nil {
		return nil, err
	}
	return s, nil
}
