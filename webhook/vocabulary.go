package webhook

import "github.com/opendi/gateway-orchestrator/api/v1alpha1"

// The webhooks' names for shared vocabulary, which lives in api/v1alpha1 (the reconcilers read
// it there and never import this package).
const (
	// AnnotationClaimedFor records on a DomainClaim the route whose admission made it.
	AnnotationClaimedFor = v1alpha1.AnnotationClaimedFor
	// LabelOwner carries a DomainClaim's owning namespace, for label selection.
	LabelOwner = v1alpha1.LabelOwner
	// LabelPool marks a Gateway as a GatewayPool's (its value is the pool's name).
	LabelPool = v1alpha1.LabelPool

	// Annotations that record who reserved or transferred a DomainClaim, and when (RFC 3339).
	AnnotationReservedBy    = v1alpha1.AnnotationReservedBy
	AnnotationReservedAt    = v1alpha1.AnnotationReservedAt
	AnnotationTransferredBy = v1alpha1.AnnotationTransferredBy
	AnnotationTransferredAt = v1alpha1.AnnotationTransferredAt
)

// Reasons of denials that only the claim protocol can reach, and of the namespace caps.
const (
	// ReasonConcurrent: an overlapping claim of another namespace was being made at the same
	// moment and did not settle in time.
	ReasonConcurrent = v1alpha1.ReasonConcurrentClaim
	// ReasonClaimRefused: the API server (another admission check) refused the claim itself.
	ReasonClaimRefused = v1alpha1.ReasonClaimRefused
	// ReasonCapped is the reason of a hostname denied by a namespace cap of its zone.
	ReasonCapped = v1alpha1.ReasonNamespaceCapReached
)
