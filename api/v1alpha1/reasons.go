package v1alpha1

import "k8s.io/apimachinery/pkg/api/meta"

// More condition reasons of DomainClaims: every reason a reconciler writes is named here.
const (
	// ReasonAccessDenied: IAM denied an AWS call; the message names the action.
	ReasonAccessDenied = "AccessDenied"
	// ReasonRequestFailed: ACM's RequestCertificate failed; it is tried again.
	ReasonRequestFailed = "RequestFailed"
	// ReasonDescribeFailed: ACM's DescribeCertificate failed; it is tried again.
	ReasonDescribeFailed = "DescribeFailed"
	// ReasonCertificateMissing: the recorded certificate no longer exists in ACM; a new one is
	// requested.
	ReasonCertificateMissing = "CertificateMissing"
	// ReasonRetrying: ACM failed the claim's certificate (FAILED, VALIDATION_TIMED_OUT); it was
	// deleted and the next attempt is being requested.
	ReasonRetrying = "Retrying"
	// ReasonRequested: ACM holds a certificate for the hostname.
	ReasonRequested = "Requested"
	// ReasonCertificateInUse: the claim goes, and load balancers still use its certificate.
	ReasonCertificateInUse = "InUse"
	// ReasonIssued: ACM issued the certificate.
	ReasonIssued = "Issued"
	// ReasonRenewable: ACM renews the certificate before it expires.
	ReasonRenewable = "Renewable"
	// ReasonCreated: the record is in the hosted zone.
	ReasonCreated = "Created"
	// ReasonChangeFailed: Route53 rejected the change; it is tried again.
	ReasonChangeFailed = "ChangeFailed"
	// ReasonThrottled: AWS kept throttling a call beyond the SDK's retries; the claim backs off.
	ReasonThrottled = "Throttled"
	// ReasonReady: every step of Ready is done.
	ReasonReady = "Ready"
	// ReasonDeleting: the claim is being deleted, so it is no longer Ready; the steps say how far
	// the removal has come.
	ReasonDeleting = "Deleting"
	// ReasonWaitingPrefix begins Ready's reason while a step has not started: "Waiting" and the
	// step's condition type (WaitingGatewayAssigned).
	ReasonWaitingPrefix = "Waiting"
)

// AliasRecordsGone reports whether a claim has no ALIAS record in DNS for sure: none was ever
// written (no DNSRecordReady condition, and neither a load balancer in status for one to point
// at nor a seat: reconciler/dns writes records only for the load balancer the status names, and
// a seat's load balancer is cleared when the seat moves, maybe while the claim's first change,
// not yet said in any condition, is queued) or reconciler/dns removed them (reason
// RecordsRemoved, or Unprovisioned after the claim lost its hostname), or removed them because
// nothing served the name (NoLoadBalancer) and the claim has had no load balancer or seat since
// (one it got since may have had records queued before the condition says so).
// Until then a deleting claim's certificate stays on its listener, so that the name never
// points at a load balancer that cannot serve it.
func (c *DomainClaim) AliasRecordsGone() bool {
	for _, cond := range c.Status.Conditions {
		if cond.Type == ConditionDNSRecord && cond.Reason != ReasonNoLoadBalancer {
			return cond.Reason == ReasonRecordsRemoved || cond.Reason == ReasonUnprovisioned
		}
	}
	return c.Status.LoadBalancerHostname == "" && c.Status.Gateway == nil
}

// AliasRecordsGoneForDeletion reports whether a claim being deleted has no ALIAS record for
// sure, so that its certificate, and then the claim, may go. It is AliasRecordsGone, except that
// a bound claim holding its hostname (Claimed=True, Bound=True) with no DNSRecordReady at all is
// not taken at its word: reconciler/dns queues a claim's first records without a status write,
// so a load balancer of the claim's own that went within the batcher's window, or a crash
// between Route53's change and the condition, leaves a claim with no condition, no load
// balancer, no seat and a record. Such a claim goes once reconciler/dns has removed whatever of
// ours is at its hostname in Route53 or queued for it, and said RecordsRemoved: one status write
// at deletion, instead of one for every new claim before its first records. A claim never bound
// never had a load balancer or seat (Bound stays True once set), so it still goes without an
// AWS call; one that lost its hostname (Claimed=False) leaves the records at the name to the
// claim that holds it.
func (c *DomainClaim) AliasRecordsGoneForDeletion() bool {
	if meta.FindStatusCondition(c.Status.Conditions, ConditionDNSRecord) == nil &&
		meta.IsStatusConditionTrue(c.Status.Conditions, ConditionClaimed) && ProvisioningAllowed(c) {
		return false
	}
	return c.AliasRecordsGone()
}

// Reasons of admission's decisions on a hostname (internal/ownership and the webhooks): in
// denial messages, metrics and tests.
const (
	// ReasonOwned: the namespace already owns the hostname.
	ReasonOwned = "Owned"
	// ReasonCoveredByOwnWildcard: a wildcard claim of the namespace covers the hostname.
	ReasonCoveredByOwnWildcard = "CoveredByOwnWildcard"
	// ReasonFree: nobody owns the hostname; admission claims it.
	ReasonFree = "Free"
	// ReasonUnmanaged: no ManagedZone covers the hostname, and that is allowed.
	ReasonUnmanaged = "Unmanaged"
	// ReasonInvalidHostname: the hostname is not a valid DNS name.
	ReasonInvalidHostname = "InvalidHostname"
	// ReasonNamespaceNotAllowed: the hostname's ManagedZone does not admit the namespace.
	ReasonNamespaceNotAllowed = "NamespaceNotAllowed"
	// ReasonClaimedByOther: another namespace owns the hostname.
	ReasonClaimedByOther = "ClaimedByOther"
	// ReasonCoveredByOtherWildcard: another namespace's wildcard claim covers the hostname.
	ReasonCoveredByOtherWildcard = "CoveredByOtherWildcard"
	// ReasonWildcardOverlapsOther: the wildcard would cover a name another namespace owns.
	ReasonWildcardOverlapsOther = "WildcardOverlapsOther"
	// ReasonWildcardCoversZone: the wildcard would cover the whole zone, which it does not allow.
	ReasonWildcardCoversZone = "WildcardCoversZone"
	// ReasonClaimBeingReleased: the hostname's claim is being deleted.
	ReasonClaimBeingReleased = "ClaimBeingReleased"
	// ReasonClaimConflicted: the hostname's claim lost an overlap (Claimed=False/Conflicted).
	ReasonClaimConflicted = "ClaimConflicted"
	// ReasonMixedScripts: the hostname mixes scripts in a way that makes it look like another.
	ReasonMixedScripts = "MixedScripts"
	// ReasonConfusableWithOtherClaim: the hostname's UTS #39 skeleton equals that of another
	// namespace's claim in the same ManagedZone: it looks like that name.
	ReasonConfusableWithOtherClaim = "ConfusableWithOtherClaim"
	// ReasonClaimOfEarlierNamespace: the claim belongs to an earlier namespace of the same name.
	ReasonClaimOfEarlierNamespace = "ClaimOfEarlierNamespace"
	// ReasonTooLongForCertificate: the hostname is too long for an ACM certificate.
	ReasonTooLongForCertificate = "TooLongForCertificate"
	// ReasonConcurrentClaim: an overlapping claim of another namespace was being made at the same
	// moment and did not settle in time.
	ReasonConcurrentClaim = "ConcurrentClaim"
	// ReasonClaimRefused: the API server (another admission check) refused the claim itself.
	ReasonClaimRefused = "ClaimRefused"
	// ReasonNamespaceCapReached: the claim would take the namespace past a cap of its zone.
	ReasonNamespaceCapReached = "NamespaceCapReached"
	// ReasonCatchAllInSharedIngressGroup: an IngressGroup would mix a rule without host or a
	// defaultBackend of one namespace with managed hostnames of another on one ALB.
	ReasonCatchAllInSharedIngressGroup = "CatchAllInSharedIngressGroup"
	// ReasonMalformedConditionsAnnotation: an Ingress of an IngressGroup has a conditions
	// annotation LBC cannot decode, which would stop the whole group's load balancer.
	ReasonMalformedConditionsAnnotation = "MalformedConditionsAnnotation"
	// ReasonForeignCertificate: an Ingress's certificate-arn annotation, a Service's
	// aws-load-balancer-ssl-cert annotation, or an LBC LoadBalancerConfiguration's listener
	// certificates, name the certificate of another namespace's DomainClaim (a denial, and the
	// Warning Event of reconciler/lbconfig).
	ReasonForeignCertificate = "ForeignCertificate"
	// ReasonPoolLoadBalancerName: an LBC LoadBalancerConfiguration's loadBalancerName, or an
	// Ingress's load-balancer-name annotation, names the ALB of a pool Gateway, which LBC would
	// then take over (a denial).
	ReasonPoolLoadBalancerName = "PoolLoadBalancerName"
	// ReasonForeignLoadBalancerName: an LBC LoadBalancerConfiguration's loadBalancerName, or an
	// Ingress's load-balancer-name annotation, names the ALB another namespace's Gateway or
	// Ingress is on or named first, which LBC would then take over (a denial, and the Warning
	// Event of the re-check).
	ReasonForeignLoadBalancerName = "ForeignLoadBalancerName"
	// ReasonGeneratedLoadBalancerName: such a name has the shape LBC gives the ALBs it names
	// itself and is no ALB of the object's own namespace, so it may be another namespace's ALB,
	// now or once created (a denial, and the Warning Event of the re-check).
	ReasonGeneratedLoadBalancerName = "GeneratedLoadBalancerName"
	// ReasonNotOwnedYet: an object that binds no claim (a TLSRoute) lists a hostname under a
	// ManagedZone that its namespace does not own; it may not claim it (the claim would be
	// released while the object still lists the name).
	ReasonNotOwnedYet = "NotOwnedYet"
)

// Reasons the pool reconciler gives its steps when they are done, and a GatewayPool's Ready.
const (
	// ReasonAssigned: the hostname has a seat on a pool Gateway (GatewayAssigned).
	ReasonAssigned = "Assigned"
	// ReasonAttached: the certificate is in the Gateway's LoadBalancerConfiguration
	// (CertificateAttached).
	ReasonAttached = "Attached"
	// ReasonProgrammed: the Gateway's load balancer is programmed (LoadBalancerReady).
	ReasonProgrammed = "Programmed"
	// ReasonAllowed: the hostname's listener admits the owner's routes (RoutesAllowed).
	ReasonAllowed = "Allowed"
	// ReasonOwnerNamespaceGone: the route-made claim's namespace was deleted (and maybe created
	// again under its name, which does not inherit the claim): the listener admits no namespace
	// until the claim is released (RoutesAllowed).
	ReasonOwnerNamespaceGone = "OwnerNamespaceGone"
	// ReasonGatewaysProvisioned: a GatewayPool's Gateways exist (the pool's Ready).
	ReasonGatewaysProvisioned = "GatewaysProvisioned"
	// ReasonClassOverridesCertificates: the GatewayClass's LoadBalancerConfiguration would
	// override the certificates the pool writes (the pool's Ready is False).
	ReasonClassOverridesCertificates = "ClassOverridesCertificates"
	// ReasonGatewayClassNotFound: the pool's spec.gatewayClassName names no GatewayClass, so no
	// controller programs its Gateways (the pool's Ready is False).
	ReasonGatewayClassNotFound = "GatewayClassNotFound"
	// ReasonGatewayClassNotLBC: the pool's GatewayClass is another controller's than the AWS Load
	// Balancer Controller's, which alone takes the pool's certificates (the pool's Ready is False).
	ReasonGatewayClassNotLBC = "GatewayClassNotLBC"
)
