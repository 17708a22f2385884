package webhook

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

// poolLoadBalancerName denies an object (what, for example "an Ingress") of namespace ns whose
// field path names (value) the ALB of a pool Gateway. ELB's CreateLoadBalancer is idempotent: the
// same name with the same settings returns the existing load balancer, so LBC would adopt the
// shared ALB for the object and rewrite its listeners and rules, serving or dropping every
// tenant's hostnames. The pool ALBs are read from the pool Gateways' status addresses (an ALB's
// DNS name holds its name; lbc.ALBNameFromDNS) in the cache; names compare case-insensitively.
func (door *Door) poolLoadBalancerName(ctx context.Context, path *field.Path, what, ns, value string) (field.ErrorList, error) {
	if value == "" || door.Reader == nil {
		return nil, nil
	}
	gws := &gwv1.GatewayList{}
	if err := door.Reader.List(ctx, gws, client.HasLabels{LabelPool}); err != nil {
		return nil, fmt.Errorf("listing the pool Gateways: %w", err)
	}
	for i := range gws.Items {
		gw := &gws.Items[i]
		if !addressesName(gw.Status.Addresses, value) {
			continue
		}
		pool, err := ownership.PoolObject(ctx, door.Reader, gw)
		if err != nil {
			return nil, err
		}
		if !pool {
			continue
		}
		door.Metrics.decision(v1alpha1.ReasonPoolLoadBalancerName)
		return field.ErrorList{field.Forbidden(path, fmt.Sprintf(
			"load balancer name %q is the shared ALB of pool Gateway %s/%s (GatewayPool %s); %s of namespace %s may not name it, since the AWS Load Balancer Controller would take that ALB over from every tenant: remove the name, or choose one no pool Gateway uses",
			value, gw.Namespace, gw.Name, gw.Labels[LabelPool], what, ns))}, nil
	}
	return nil, nil
}

// addressesName reports whether one of addresses is the DNS name of the ALB called name.
func addressesName(addresses []gwv1.GatewayStatusAddress, name string) bool {
	for _, a := range addresses {
		if n, ok := lbc.ALBNameFromDNS(a.Value); ok && strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}
