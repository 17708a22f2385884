package preflight

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// LBCKinds are the AWS Load Balancer Controller's kinds the GatewayPool reconciler writes: one
// LoadBalancerConfiguration per pool Gateway carries its listener certificates. (LBC's
// TargetGroupConfiguration is not used: target groups keep LBC's defaults.)
var LBCKinds = []schema.GroupVersionKind{
	{Group: "gateway.k8s.aws", Version: "v1beta1", Kind: "LoadBalancerConfiguration"},
}

// LBC checks, when a GatewayPool exists, that the AWS Load Balancer Controller's kinds it needs
// (LBCKinds) are served. Without them no pool Gateway gets a certificate and every claim of the
// pool's zones stays not Ready; a pod that says so at start is easier to fix than claims that
// wait. Reader should read the API server (not a cache), and mapper should discover kinds
// (the manager's RESTMapper does).
func LBC(ctx context.Context, reader client.Reader, mapper meta.RESTMapper) error {
	return KindsForPools(ctx, reader, mapper, LBCKinds...)
}

// KindsForPools checks, when a GatewayPool exists, that every kind of kinds is served.
func KindsForPools(ctx context.Context, reader client.Reader, mapper meta.RESTMapper, kinds ...schema.GroupVersionKind) error {
	var pools v1alpha1.GatewayPoolList
	if err := reader.List(ctx, &pools, client.Limit(1)); err != nil {
		return fmt.Errorf("listing GatewayPools: %w", err)
	}
	if len(pools.Items) == 0 {
		return nil
	}
	var missing []string
	for _, k := range kinds {
		_, err := mapper.RESTMapping(k.GroupKind(), k.Version)
		switch {
		case meta.IsNoMatchError(err):
			missing = append(missing, fmt.Sprintf("%s (%s)", k.Kind, k.GroupVersion()))
		case err != nil:
			return fmt.Errorf("looking up %s: %w", k, err)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("GatewayPool %s exists, but the API server does not serve %s: install the AWS Load Balancer Controller with its Gateway API support and CRDs "+
			"(its gateway CRDs, and the controller with the ALBGatewayAPI feature gate) before the orchestrator, or delete the GatewayPools to run admission and DNS only",
			pools.Items[0].Name, strings.Join(missing, " and "))
	}
	return nil
}
