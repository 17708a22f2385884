package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ClaimSource says how a DomainClaim came to be.
// +kubebuilder:validation:Enum=Route;Admin
type ClaimSource string

const (
	// ClaimedByRoute marks a claim made at admission for an HTTPRoute. It is released after the
	// zone's retention period once no route of its namespace uses the hostname.
	ClaimedByRoute ClaimSource = "Route"
	// ClaimedByAdmin marks a claim an administrator made (a reservation or a transfer). It is
	// never released automatically.
	ClaimedByAdmin ClaimSource = "Admin"
)

// ProvisionPolicy says when a DomainClaim may spend AWS resources (a certificate, a seat on a
// pool Gateway, DNS records).
// +kubebuilder:validation:Enum=WhenBound;Always
type ProvisionPolicy string

const (
	// ProvisionWhenBound provisions once a persisted object of the owning namespace (an
	// HTTPRoute, GRPCRoute, Ingress, or a Gateway or ListenerSet listener) uses the hostname. It
	// is the default: a claim whose object the API server refused after admission costs nothing.
	ProvisionWhenBound ProvisionPolicy = "WhenBound"
	// ProvisionAlways provisions an admin claim at once, before any object uses the hostname
	// (for example to have the certificate issued ahead of a migration).
	ProvisionAlways ProvisionPolicy = "Always"
)

// DomainClaimSpec says which namespace owns a hostname.
// +kubebuilder:validation:XValidation:rule="!has(self.provision) || self.provision != 'Always' || !has(self.claimedBy) || self.claimedBy != 'Route'",message="provision: Always is for admin claims (claimedBy: Admin); a route's claim is provisioned once its route exists"
type DomainClaimSpec struct {
	// Hostname is the claimed hostname in normalized form: lower case, no trailing dot, punycode
	// for Unicode labels, and a wildcard only as the whole leftmost label ("*.example.com").
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="hostname is immutable"
	Hostname string `json:"hostname"`

	// Namespace owns the hostname. Changing it transfers the hostname.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespace string `json:"namespace"`

	// ClaimedBy says whether a route's admission or an administrator made the claim.
	// +optional
	// +kubebuilder:default=Admin
	ClaimedBy ClaimSource `json:"claimedBy,omitempty"`

	// Retention overrides the zone's retention period for this claim.
	// +optional
	Retention *metav1.Duration `json:"retention,omitempty"`

	// Provision says when the claim may spend AWS resources. WhenBound (the default) waits until
	// a persisted object of the owning namespace uses the hostname (condition Bound); Always,
	// only on admin claims, provisions at once.
	// +optional
	Provision ProvisionPolicy `json:"provision,omitempty"`
}

// ObjectRef names a namespaced object.
type ObjectRef struct {
	// Namespace of the object.
	// +required
	Namespace string `json:"namespace"`
	// Name of the object.
	// +required
	Name string `json:"name"`
}

// ValidationRecord is the DNS record ACM checks to validate a certificate.
type ValidationRecord struct {
	// Name of the CNAME record.
	// +required
	Name string `json:"name"`
	// Type of the record (CNAME).
	// +required
	Type string `json:"type"`
	// Value of the record.
	// +required
	Value string `json:"value"`
	// RecordZoneID is the Route53 hosted zone the CNAME was written in. When the claim's
	// ManagedZone names another hosted zone (its hostedZoneID changed, or a child zone now covers
	// the hostname), the record is written there and ours is deleted from this one. Empty for a
	// record written before the field existed: it is taken to be in the current zone's.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	RecordZoneID string `json:"recordZoneID,omitempty"`
}

// DomainClaimStatus is the observed state of a DomainClaim.
type DomainClaimStatus struct {
	// ObservedGeneration is the generation the status reflects.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions, one per reconcile step, rolled up into Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ManagedZone is the ManagedZone the hostname belongs to.
	// +optional
	ManagedZone string `json:"managedZone,omitempty"`

	// HostedZoneID is the Route53 hosted zone that holds the hostname's records.
	// +optional
	HostedZoneID string `json:"hostedZoneID,omitempty"`

	// CertificateARN is the ACM certificate for the hostname.
	// +optional
	CertificateARN string `json:"certificateARN,omitempty"`

	// ValidationRecord is the certificate's DNS validation record.
	// +optional
	ValidationRecord *ValidationRecord `json:"validationRecord,omitempty"`

	// CertificateAttempt numbers the certificate in certificateARN among those requested for the
	// claim: 0 for the first; one more each time a certificate that ACM failed (FAILED,
	// VALIDATION_TIMED_OUT) is deleted and another requested. The request's idempotency token and
	// the certificate's tag gateway.opendi.com/certificate-attempt derive from it.
	// +optional
	// +kubebuilder:validation:Minimum=0
	CertificateAttempt int32 `json:"certificateAttempt,omitempty"`

	// CertificateRetryTime is when the failed certificate in certificateARN is deleted and the
	// next attempt requested (a back-off from 15 minutes, doubling up to 24 hours). An
	// HTTPRoute of the owning namespace that uses the hostname asks for it at once when its
	// annotation gateway.opendi.com/retry-certificate changes.
	// +optional
	CertificateRetryTime *metav1.Time `json:"certificateRetryTime,omitempty"`

	// CertificateNotAfter is when the issued certificate expires. ACM renews it before then, but
	// only while a load balancer uses it.
	// +optional
	CertificateNotAfter *metav1.Time `json:"certificateNotAfter,omitempty"`

	// RenewalStatus is ACM's managed renewal status of the certificate, once a renewal began
	// (PENDING_AUTO_RENEWAL, PENDING_VALIDATION, SUCCESS or FAILED).
	// +optional
	RenewalStatus string `json:"renewalStatus,omitempty"`

	// Gateway is the pool Gateway the hostname is served by.
	// +optional
	Gateway *ObjectRef `json:"gateway,omitempty"`

	// LoadBalancerHostname is the DNS name of the assigned Gateway's ALB.
	// +optional
	LoadBalancerHostname string `json:"loadBalancerHostname,omitempty"`

	// LoadBalancerZoneID is the canonical hosted zone ID of the assigned Gateway's ALB, which an
	// ALIAS record needs (it is not in Gateway status; ELBv2 reports it).
	// +optional
	LoadBalancerZoneID string `json:"loadBalancerZoneID,omitempty"`

	// DualStack asks for an AAAA ALIAS beside the A record (a dual-stack ALB).
	// +optional
	DualStack bool `json:"dualStack,omitempty"`

	// AliasTarget is the load balancer the hostname's ALIAS records point at, as reconciler/dns
	// last confirmed them in Route53. It lags loadBalancerHostname while a change is on its way,
	// and is cleared when the records are deleted or found to be another's.
	// +optional
	AliasTarget *AliasTarget `json:"aliasTarget,omitempty"`

	// LastReferencedTime is when a route of the owning namespace was last seen using the hostname.
	// +optional
	LastReferencedTime *metav1.Time `json:"lastReferencedTime,omitempty"`

	// ReleaseTime is when an unused route-made claim will be released, if nothing uses it by then.
	// +optional
	ReleaseTime *metav1.Time `json:"releaseTime,omitempty"`

	// OwnerNamespace records the owning namespace's UID: the one admission saw when it made the
	// claim (annotation gateway.opendi.com/owner-namespace), else the one first seen. A namespace
	// deleted and re-created with the same name has another UID and does not inherit a route-made
	// claim: the claim is released after its retention and the new namespace must claim the
	// hostname again.
	// +optional
	OwnerNamespace *NamespaceRecord `json:"ownerNamespace,omitempty"`
}

// AliasTarget is where a hostname's ALIAS records point: Route53's alias target of its A record
// (and of its AAAA record when recordTypes lists one).
type AliasTarget struct {
	// DNSName is the DNS name of the load balancer the records point at.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	DNSName string `json:"dnsName"`
	// HostedZoneID is the load balancer's canonical hosted zone ID, the alias target's zone.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	HostedZoneID string `json:"hostedZoneID"`
	// RecordTypes are the types of the records that point there: A, and AAAA for a dual-stack
	// load balancer.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=2
	// +kubebuilder:validation:items:Enum=A;AAAA
	RecordTypes []string `json:"recordTypes,omitempty"`
	// Since is when reconciler/dns first confirmed the records at this load balancer.
	// +required
	Since metav1.Time `json:"since"`
	// RecordZoneID is the Route53 hosted zone the ALIAS records were written in (not the alias
	// target's zone, which is hostedZoneID). When the claim's ManagedZone names another hosted
	// zone (its hostedZoneID changed, or a child zone now covers the hostname), the records are
	// written there and ours are deleted from this one. Empty for records written before the
	// field existed: they are taken to be in the current zone's.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	RecordZoneID string `json:"recordZoneID,omitempty"`
}

// NamespaceRecord identifies one incarnation of a namespace.
type NamespaceRecord struct {
	// Name of the namespace.
	// +required
	Name string `json:"name"`
	// UID of the namespace.
	// +required
	UID types.UID `json:"uid"`
}

// DomainClaim records that one namespace owns one hostname. Its name is derived from the
// hostname (see the hostname package), so that two claims for one hostname collide in the API
// server and exactly one wins.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=dc,categories=gateway-orchestrator
// +kubebuilder:printcolumn:name="Hostname",type=string,JSONPath=`.spec.hostname`
// +kubebuilder:printcolumn:name="Owner",type=string,JSONPath=`.spec.namespace`
// +kubebuilder:printcolumn:name="Gateway",type=string,JSONPath=`.status.gateway.name`
// +kubebuilder:printcolumn:name="Alias",type=string,JSONPath=`.status.aliasTarget.dnsName`,priority=1
// +kubebuilder:printcolumn:name="Bound",type=string,JSONPath=`.status.conditions[?(@.type=="Bound")].status`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1
// +kubebuilder:printcolumn:name="By",type=string,JSONPath=`.spec.claimedBy`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type DomainClaim struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec DomainClaimSpec `json:"spec"`
	// +optional
	Status DomainClaimStatus `json:"status,omitempty"`
}

// DomainClaimList is a list of DomainClaims.
// +kubebuilder:object:root=true
type DomainClaimList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DomainClaim `json:"items"`
}
