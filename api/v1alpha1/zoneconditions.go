package v1alpha1

// The conditions of a ManagedZone (reconciler/zonestatus writes them). DomainClaim conditions
// are in conditions.go.
const (
	// ZoneConditionGatewayPool says whether the GatewayPool the zone's spec.gatewayPoolRef names
	// exists: True with reason GatewayPoolExists, False with GatewayPoolNotFound. A zone without
	// spec.gatewayPoolRef has none.
	ZoneConditionGatewayPool = "GatewayPoolFound"
	// ReasonGatewayPoolExists: the GatewayPool the zone names exists.
	ReasonGatewayPoolExists = "GatewayPoolExists"
)
