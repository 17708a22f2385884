package v1alpha1

import "k8s.io/apimachinery/pkg/api/meta"

// ProvisioningAllowed reports whether the claim may spend AWS resources: request a
// certificate, take a seat on a pool Gateway, write DNS records. It is the one gate every
// reconciler that provisions asks: the claim must be Bound (a persisted object uses the
// hostname, or an admin set spec.provision: Always). Bound never goes back to False while the
// claim exists, so what was provisioned is never stranded by the gate.
func ProvisioningAllowed(c *DomainClaim) bool {
	return meta.IsStatusConditionTrue(c.Status.Conditions, ConditionBound)
}
