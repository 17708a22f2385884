package gatewaypool

import (
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/albrules"
)

// hostnamesOf counts the hostnames of a route that claim c answers for: its own, and for a
// wildcard claim, the names one label below it that have no claim of their own.
func hostnamesOf(c *v1alpha1.DomainClaim, hostnames []gwv1.Hostname, claimNames map[string]bool) int32 {
	return albrules.Hostnames(c.Spec.Hostname, hostnames, func(name string) bool { return claimNames[name] })
}
