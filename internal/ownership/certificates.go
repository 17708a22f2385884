package ownership

import (
	"context"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
)

// ForeignCertificateClaims returns the DomainClaims of other namespaces whose certificate is
// arn, read through index.ClaimCertificateARN (one lookup), when no claim of namespace ns holds
// it too: an object of ns that puts arn on a load balancer would serve those claims' hostnames
// with their owners' certificate. An ARN that is no claim's is not the orchestrator's and has
// none.
func ForeignCertificateClaims(ctx context.Context, r client.Reader, ns, arn string) ([]v1alpha1.DomainClaim, error) {
	var claims v1alpha1.DomainClaimList
	if err := r.List(ctx, &claims, client.MatchingFields{index.ClaimCertificateARN: arn}); err != nil {
		return nil, fmt.Errorf("listing the DomainClaims of certificate %q: %w", arn, err)
	}
	if slices.ContainsFunc(claims.Items, func(c v1alpha1.DomainClaim) bool { return c.Spec.Namespace == ns }) {
		return nil, nil
	}
	return claims.Items, nil
}

// PoolObject reports whether obj is one of a pool's own objects (a Gateway or its
// LoadBalancerConfiguration): labelled with the name of a GatewayPool whose spec.namespace is
// obj's namespace. The label alone proves nothing, since any tenant can set it on an object of
// its own.
func PoolObject(ctx context.Context, r client.Reader, obj metav1.Object) (bool, error) {
	name := obj.GetLabels()[v1alpha1.LabelPool]
	if name == "" {
		return false, nil
	}
	pool := &v1alpha1.GatewayPool{}
	if err := r.Get(ctx, client.ObjectKey{Name: name}, pool); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	return pool.Spec.Namespace == obj.GetNamespace(), nil
}
