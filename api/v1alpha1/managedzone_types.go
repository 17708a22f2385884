package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ManagedZoneSpec declares a DNS domain whose hostnames this cluster hands out.
type ManagedZoneSpec struct {
	// Domain is the DNS domain, for example "example.com". Hostnames equal to it or below it
	// belong to this zone unless another ManagedZone has a longer matching domain.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="domain is immutable; create a new ManagedZone instead"
	Domain string `json:"domain"`

	// HostedZoneID is the Route53 hosted zone that holds the domain's records. Changing it moves
	// the records of the zone's claims: they are written in the new hosted zone, then ours are
	// deleted from the old one (each claim's status records where its records are).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^[A-Z0-9]+$`
	HostedZoneID string `json:"hostedZoneID"`

	// AllowedNamespaces says which namespaces may claim hostnames in this zone. A namespace is
	// allowed when it is listed in names or matches the selector. Empty means no namespace may
	// claim (admins can still create DomainClaims by hand).
	// +optional
	AllowedNamespaces AllowedNamespaces `json:"allowedNamespaces,omitempty"`

	// AllowZoneWildcard lets a namespace claim the wildcard that covers every name of this zone
	// ("*.example.com" for domain "example.com", or a wildcard above it). Off by default, so that
	// one tenant cannot take the whole zone by accident.
	// +optional
	AllowZoneWildcard bool `json:"allowZoneWildcard,omitempty"`

	// AllowConfusableHostnames lets a namespace claim a Unicode (punycode) hostname that looks like
	// a hostname another namespace holds in this zone: one whose UTS #39 skeleton is the same, such
	// as Cyrillic "рау.example.com" next to "pay.example.com". Off by default, so that a tenant
	// cannot take a look-alike of another tenant's name for phishing. Names without a punycode
	// label are never compared (ASCII "modern" and "modem" are both allowed).
	// +optional
	AllowConfusableHostnames bool `json:"allowConfusableHostnames,omitempty"`

	// GatewayPoolRef names the GatewayPool that serves this zone's hostnames.
	// +optional
	GatewayPoolRef *LocalObjectReference `json:"gatewayPoolRef,omitempty"`

	// ClaimRetention is how long a hostname claimed by a route stays with its namespace after the
	// namespace's last route for it is gone, so that a redeploy does not lose the name.
	// +optional
	// +kubebuilder:default="24h"
	ClaimRetention *metav1.Duration `json:"claimRetention,omitempty"`

	// UnusedClaimRetention is how long a hostname claimed at admission stays claimed when no route
	// for it ever appeared (the route's creation was denied or rolled back after the claim was made).
	// +optional
	// +kubebuilder:default="5m"
	UnusedClaimRetention *metav1.Duration `json:"unusedClaimRetention,omitempty"`

	// Limits caps how many DomainClaims one namespace may hold in this zone. Unset caps fall back
	// to the orchestrator's cluster-wide defaults (flags --max-claims-per-namespace and
	// --max-unbound-claims-per-namespace; unlimited unless set).
	// +optional
	Limits *ZoneLimits `json:"limits,omitempty"`
}

// ZoneLimits caps the DomainClaims of one namespace in a ManagedZone. Admission denies a route,
// Ingress or Gateway whose new claims would go past a cap; claims that exist are never taken away.
type ZoneLimits struct {
	// MaxClaimsPerNamespace caps the claims a namespace holds for hostnames under the zone's
	// domain (claims being deleted do not count).
	// +optional
	// +kubebuilder:validation:Minimum=1
	MaxClaimsPerNamespace *int32 `json:"maxClaimsPerNamespace,omitempty"`

	// MaxUnboundClaimsPerNamespace caps the claims a namespace holds that admission made for an
	// object that no object has used yet: route-made claims whose Bound condition is not True.
	// They are the claims of requests that the API server refused after admission, or of
	// objects still being created.
	// +optional
	// +kubebuilder:validation:Minimum=1
	MaxUnboundClaimsPerNamespace *int32 `json:"maxUnboundClaimsPerNamespace,omitempty"`
}

// AllowedNamespaces selects namespaces by name and/or by label.
type AllowedNamespaces struct {
	// Names lists namespaces by name.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=1024
	Names []string `json:"names,omitempty"`

	// Selector selects namespaces by label. An empty selector ({}) selects every namespace.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
}

// LocalObjectReference names a cluster-scoped object of a kind the field implies.
type LocalObjectReference struct {
	// Name of the referenced object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// ManagedZoneStatus is the observed state of a ManagedZone.
type ManagedZoneStatus struct {
	// ObservedGeneration is the generation the status reflects.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions describe the zone's state.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Claims counts the zone's DomainClaims (those whose status.managedZone names it) by state.
	// The zonestatus reconciler writes it a few seconds after claims change, not on every change.
	// +optional
	Claims *ZoneClaimCounts `json:"claims,omitempty"`
}

// ZoneClaimCounts counts a ManagedZone's DomainClaims by state. A claim may count in several
// fields (a Conflicted claim is also not Ready).
type ZoneClaimCounts struct {
	// Total is every claim of the zone, deleting ones included.
	// +optional
	Total int32 `json:"total"`
	// Ready counts claims not being deleted whose Ready condition is True.
	// +optional
	Ready int32 `json:"ready"`
	// NotReady counts claims not being deleted whose Ready condition is not True.
	// +optional
	NotReady int32 `json:"notReady"`
	// Conflicted counts claims whose Claimed condition is False with reason Conflicted: an
	// older overlapping claim of another namespace owns the hostname.
	// +optional
	Conflicted int32 `json:"conflicted"`
	// Unbound counts route-made claims that are not Bound: no persisted object of their
	// namespace has used the hostname yet (the meaning of ZoneLimits.MaxUnboundClaimsPerNamespace).
	// +optional
	Unbound int32 `json:"unbound"`
	// Deleting counts claims being deleted (their records and certificate are being removed).
	// +optional
	Deleting int32 `json:"deleting"`
}

// ManagedZone is a DNS domain this cluster manages, and who may claim names in it.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=mz,categories=gateway-orchestrator
// +kubebuilder:printcolumn:name="Domain",type=string,JSONPath=`.spec.domain`
// +kubebuilder:printcolumn:name="Hosted Zone",type=string,JSONPath=`.spec.hostedZoneID`
// +kubebuilder:printcolumn:name="Pool",type=string,JSONPath=`.spec.gatewayPoolRef.name`
// +kubebuilder:printcolumn:name="Claims",type=integer,JSONPath=`.status.claims.total`
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.claims.ready`
// +kubebuilder:printcolumn:name="Not Ready",type=integer,JSONPath=`.status.claims.notReady`
// +kubebuilder:printcolumn:name="Conflicted",type=integer,JSONPath=`.status.claims.conflicted`
// +kubebuilder:printcolumn:name="Unbound",type=integer,JSONPath=`.status.claims.unbound`,priority=1
// +kubebuilder:printcolumn:name="Pool Found",type=string,JSONPath=`.status.conditions[?(@.type=="GatewayPoolFound")].status`,priority=1
// +kubebuilder:printcolumn:name="Deleting",type=integer,JSONPath=`.status.claims.deleting`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ManagedZone struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec ManagedZoneSpec `json:"spec"`
	// +optional
	Status ManagedZoneStatus `json:"status,omitempty"`
}

// ManagedZoneList is a list of ManagedZones.
// +kubebuilder:object:root=true
type ManagedZoneList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ManagedZone `json:"items"`
}
