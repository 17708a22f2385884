package webhook

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

// Claimer makes the claims of free hostnames inside admission: the one deliberate side effect of
// the webhooks. Every door that carries a hostname (routes, Ingresses, Gateway listeners) claims
// through it, so every door is race-free in the same way.
type Claimer struct {
	// Client creates claims; APIReader re-reads a claim that another request created first.
	Client    client.Client
	APIReader client.Reader
	// Finalizers are put on every claim admission creates (the AWS cleanup finalizer when the
	// AWS reconcilers run), saving each claim a write.
	Finalizers []string
}

// Claim creates the DomainClaim for d.Hostname (a decision with verdict Claim) for namespace ns;
// usedBy names the object whose admission makes it ("HTTPRoute team-a/shop"). It returns the
// final decision: Allow when the claim is ns's, Deny naming the owner when another request won.
// An error means the API server could not be asked.
func (c *Claimer) Claim(ctx context.Context, d ownership.Decision, ns, usedBy string) (ownership.Decision, error) {
	claim := NewClaim(d.Hostname, ns, usedBy, c.Finalizers...)
	for attempt := 0; attempt < 3; attempt++ {
		err := c.Client.Create(ctx, claim.DeepCopy())
		if err == nil {
			d.Verdict = ownership.Allow
			return d, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return d, err
		}
		won := &v1alpha1.DomainClaim{}
		err = c.APIReader.Get(ctx, client.ObjectKey{Name: claim.Name}, won)
		if apierrors.IsNotFound(err) {
			continue // released in between: try again
		}
		if err != nil {
			return d, err
		}
		return d.Owner(won, ns), nil
	}
	return d, fmt.Errorf("the DomainClaim %s kept appearing and disappearing; try again", claim.Name)
}

// NewClaim is the DomainClaim that admission creates for a free hostname h, owned by namespace
// ns, for the object usedBy.
func NewClaim(h, ns, usedBy string, finalizers ...string) *v1alpha1.DomainClaim {
	return &v1alpha1.DomainClaim{
		ObjectMeta: metav1.ObjectMeta{
			Name:        hostname.ClaimName(h),
			Finalizers:  finalizers,
			Labels:      map[string]string{LabelOwner: ns},
			Annotations: map[string]string{AnnotationClaimedFor: usedBy},
		},
		Spec: v1alpha1.DomainClaimSpec{
			Hostname:  h,
			Namespace: ns,
			ClaimedBy: v1alpha1.ClaimedByRoute,
		},
	}
}
