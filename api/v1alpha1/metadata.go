package v1alpha1

// AnnotationAdmissionPending marks a wildcard DomainClaim that admission has created but not yet
// confirmed: the request that made it is still checking, against the API server, for claims of
// other namespaces below it. A request for a name below a pending wildcard waits for the verdict
// (the annotation removed: the wildcard stays; the claim deleted: it yields). Claims without the
// annotation, admin claims among them, are settled.
const AnnotationAdmissionPending = "gateway.opendi.com/admission-pending"

// FinalizerAWSCleanup holds a DomainClaim until what it provisioned in AWS is gone: its ALIAS
// records (reconciler/dns), then its certificate and validation record (reconciler/certificate,
// which removes the finalizer last). Admission puts it on route-made claims when AWS is on.
const FinalizerAWSCleanup = "gateway.opendi.com/aws-cleanup"

// Tags on every ACM certificate the orchestrator requests: the claim's name and UID, and the
// cluster, so that a certificate requested before a crash is found again and never duplicated.
const (
	TagClaim    = "gateway.opendi.com/claim"
	TagClaimUID = "gateway.opendi.com/claim-uid"
	TagCluster  = "gateway.opendi.com/cluster"
	// TagCertificateAttempt is status.certificateAttempt of the claim when the certificate was
	// requested, on certificates of a retry (attempt 1 and later; none means 0), so that a
	// certificate of an older attempt is told from the current one after a crash.
	TagCertificateAttempt = "gateway.opendi.com/certificate-attempt"
)

// AnnotationRetryCertificate on an HTTPRoute that uses a claimed hostname, in the namespace that
// owns it, asks for the claim's failed certificate (FAILED, VALIDATION_TIMED_OUT) to be replaced
// at once instead of after its back-off (status.certificateRetryTime): any change of its value
// does, for example `kubectl annotate httproute shop gateway.opendi.com/retry-certificate="$(date +%s)" --overwrite`
// once the cause (a CAA record, the zone's delegation) is fixed.
const AnnotationRetryCertificate = "gateway.opendi.com/retry-certificate"

// AnnotationClaimedFor records on a DomainClaim that admission made the object whose admission
// made it ("HTTPRoute team-a/shop").
const AnnotationClaimedFor = "gateway.opendi.com/claimed-for"

// AnnotationClaimedForUID records on a DomainClaim that admission made the UID of the object
// whose admission made it (the API server assigns it before validating admission). The claim
// reconciler names that object first when it binds the claim; a create the API server refused
// after admission leaves no object with that UID, and the claim stays unbound.
const AnnotationClaimedForUID = "gateway.opendi.com/claimed-for-uid"

// AnnotationOwnerNamespace records on a DomainClaim that admission made the namespace it was made
// for as admission saw it, "<name>/<uid>", so that the namespace's UID is known from the claim's
// creation on, not only from reconciler/claim's first reconcile: a namespace deleted and created
// again before that reconcile has another UID and does not inherit the claim. reconciler/claim
// copies it into status.ownerNamespace; a transfer removes it (the new namespace's UID is recorded
// as first seen, as for claims without it: admin claims and older ones).
const AnnotationOwnerNamespace = "gateway.opendi.com/owner-namespace"

// AnnotationTransferredAt records on a DomainClaim when an admin last transferred it to another
// namespace (RFC 3339): from then on the new namespace owns the hostname, and denial messages
// say so.
const AnnotationTransferredAt = "gateway.opendi.com/transferred-at"

// AnnotationLastAdmitted records on a route-made DomainClaim when admission last admitted an
// object of the owning namespace for it while the claim was idle (no other object of the
// namespace used the hostname, or the claim was counting down to its release), RFC 3339.
// Admission writes it with the resourceVersion it read as a precondition, so a release planned
// from an older version of the claim fails its own precondition; and reconciler/claim counts
// the time as a last use, so a release planned from this version is pushed back by the
// retention. The object admitted is not yet stored when the mark is written: without the mark
// its claim could be released in that moment, and the hostname taken by another namespace.
const AnnotationLastAdmitted = "gateway.opendi.com/last-admitted"

// LabelOwner carries a DomainClaim's owning namespace, for label selection (`kubectl get dc -l
// gateway.opendi.com/owner=<ns>`). Admission puts it on the claims it makes, and the claim
// webhooks skip claims that carry it (an objectSelector).
const LabelOwner = "gateway.opendi.com/owner"

// LabelPool marks a Gateway (and its LoadBalancerConfiguration) as a GatewayPool's; its value is
// the pool's name. The pool reconciler sets it, and admission recognizes pool Gateways by it.
const LabelPool = "gateway.opendi.com/pool"

// Annotations that record on a DomainClaim who reserved it (created it by hand) or transferred
// it to another namespace, and when (RFC 3339; see also AnnotationTransferredAt).
const (
	AnnotationReservedBy    = "gateway.opendi.com/reserved-by"
	AnnotationReservedAt    = "gateway.opendi.com/reserved-at"
	AnnotationTransferredBy = "gateway.opendi.com/transferred-by"
)

// HTTPListenerName is the name of a pool Gateway's HTTP:80 listener for the claim named claim;
// its HTTPS:443 listener is named like the claim itself. The pool writes these listeners and
// admission reads them (a route's sectionName). A label with "--" in its third and fourth
// characters is reserved by IDNA2008 (only xn-- is in use), so no claim name, and therefore no
// HTTPS listener name, can start with "80--".
func HTTPListenerName(claim string) string { return "80--" + claim }
