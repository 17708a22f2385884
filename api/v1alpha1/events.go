package v1alpha1

// Reasons of the Events the reconcilers record (on DomainClaims unless said otherwise), besides
// condition reasons recorded as Events (ReasonReady, ReasonConflicted, ...).
const (
	// EventBound: a persisted object of the owning namespace uses the hostname (reconciler/claim).
	EventBound = "Bound"
	// EventReleased: an unused route-made claim was deleted after its retention (reconciler/claim).
	EventReleased = "Released"
	// EventCertificateRequested: ACM holds a new certificate for the hostname
	// (reconciler/certificate).
	EventCertificateRequested = "CertificateRequested"
	// EventCertificateIssued: ACM issued the certificate (reconciler/certificate).
	EventCertificateIssued = "CertificateIssued"
	// EventCertificateDeleted: the claim's certificate was deleted from ACM
	// (reconciler/certificate).
	EventCertificateDeleted = "CertificateDeleted"
	// EventDNSDrift: an ALIAS record was changed or deleted outside the orchestrator and is put
	// back (reconciler/dns).
	EventDNSDrift = "DNSDrift"
	// EventExternalDNSRecord: a record that external-dns owns holds the name and says what the
	// orchestrator would write, so it is used as it is (reconciler/dns).
	EventExternalDNSRecord = "ExternalDNSRecord"
	// EventHostnameNotOwned, on a route: it lists a hostname its namespace does not own (any
	// more) (reconciler/routes).
	EventHostnameNotOwned = "HostnameNotOwned"
	// EventHostnamesSpread, on a route: its hostnames sit on several Gateways of a pool
	// (reconciler/routes).
	EventHostnamesSpread = "HostnamesSpread"
	// EventAttachDenied, on a route: admission refuses the parentRefs the orchestrator would add,
	// because the route as it stands is refused (reconciler/routes).
	EventAttachDenied = "AttachDenied"
)
