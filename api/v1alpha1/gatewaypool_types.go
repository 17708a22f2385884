package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GatewayPoolSpec describes the Gateways (one ALB each) that serve claimed hostnames.
// +kubebuilder:validation:XValidation:rule="self.minGateways <= self.maxGateways",message="minGateways must not exceed maxGateways"
type GatewayPoolSpec struct {
	// GatewayClassName is the GatewayClass of the pool's Gateways (the LBC's ALB class).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	GatewayClassName string `json:"gatewayClassName"`

	// Namespace is where the pool's Gateways and their LoadBalancerConfigurations live.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="namespace is immutable"
	Namespace string `json:"namespace"`

	// MaxCertificatesPerGateway is how many certificates one Gateway's ALB listener carries
	// besides its default certificate. 25 is the ALB default quota (adjustable with AWS).
	// +optional
	// +kubebuilder:default=25
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	MaxCertificatesPerGateway int32 `json:"maxCertificatesPerGateway,omitempty"`

	// MaxRulesPerGateway is how many ALB rules one Gateway may use. 100 is the ALB default quota.
	// LBC makes one rule per route rule, match and hostname on each listener a route attaches
	// to: with httpListener an HTTPRoute's rules count twice (HTTPS and HTTP). A route that would
	// give its hostname more rules than this is denied at admission.
	// +optional
	// +kubebuilder:default=100
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	MaxRulesPerGateway int32 `json:"maxRulesPerGateway,omitempty"`

	// MinGateways is how many Gateways the pool keeps even when they are empty.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	MinGateways int32 `json:"minGateways,omitempty"`

	// MaxGateways is how many Gateways the pool may create at most.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	MaxGateways int32 `json:"maxGateways,omitempty"`

	// Template shapes every Gateway of the pool.
	// +optional
	Template GatewayTemplate `json:"template,omitempty"`
}

// GatewayTemplate holds what every Gateway of a pool, and its ALB, is created with.
type GatewayTemplate struct {
	// Labels are copied onto each Gateway.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Labels map[string]string `json:"labels,omitempty"`

	// Annotations are copied onto each Gateway.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Annotations map[string]string `json:"annotations,omitempty"`

	// Scheme of the ALB.
	// +optional
	// +kubebuilder:default=internet-facing
	// +kubebuilder:validation:Enum=internet-facing;internal
	Scheme string `json:"scheme,omitempty"`

	// IPAddressType of the ALB. "dualstack" also gets AAAA ALIAS records.
	// +optional
	// +kubebuilder:default=ipv4
	// +kubebuilder:validation:Enum=ipv4;dualstack;dualstack-without-public-ipv4
	IPAddressType string `json:"ipAddressType,omitempty"`

	// SSLPolicy of the HTTPS listener, for example "ELBSecurityPolicy-TLS13-1-2-2021-06".
	// +optional
	// +kubebuilder:validation:MaxLength=128
	SSLPolicy string `json:"sslPolicy,omitempty"`

	// HTTPListener adds a plain HTTP:80 listener beside HTTPS:443 for each hostname. HTTPRoutes
	// attach to both, so their ALB rules count twice against maxRulesPerGateway.
	// +optional
	HTTPListener bool `json:"httpListener,omitempty"`
}

// GatewayPoolStatus is the observed state of a GatewayPool.
type GatewayPoolStatus struct {
	// ObservedGeneration is the generation the status reflects.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions describe the pool's state.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Gateways lists the pool's Gateways and their load.
	// +optional
	// +listType=map
	// +listMapKey=name
	Gateways []PoolGatewayStatus `json:"gateways,omitempty"`

	// GatewayCount is how many Gateways the pool has (the length of Gateways; a printer
	// column cannot count a list, and one that lists names shows only the first).
	// +optional
	GatewayCount int32 `json:"gatewayCount,omitempty"`

	// Claims is how many claims of the pool's zones there are, being deleted included.
	// +optional
	Claims int32 `json:"claims,omitempty"`

	// DeletingClaims is how many of them are being deleted.
	// +optional
	DeletingClaims int32 `json:"deletingClaims,omitempty"`

	// ClaimConditions counts the pool's claims (not being deleted) by the status of each of
	// the conditions the pool's steps lead to.
	// +optional
	// +listType=map
	// +listMapKey=type
	ClaimConditions []ClaimConditionCount `json:"claimConditions,omitempty"`
}

// ClaimConditionCount is how many of a pool's claims have a condition True, False or not yet.
type ClaimConditionCount struct {
	// Type is the condition type, for example GatewayAssigned.
	// +required
	Type string `json:"type"`
	// True counts claims with the condition True.
	// +optional
	True int32 `json:"true"`
	// False counts claims with the condition False.
	// +optional
	False int32 `json:"false"`
	// Unknown counts claims without the condition or with status Unknown.
	// +optional
	Unknown int32 `json:"unknown"`
}

// PoolGatewayStatus is one Gateway of a pool and how full it is.
type PoolGatewayStatus struct {
	// Name of the Gateway, in the pool's namespace.
	// +required
	Name string `json:"name"`
	// Certificates attached to the Gateway besides its default certificate.
	// +optional
	Certificates int32 `json:"certificates"`
	// Rules is the number of ALB rules the Gateway's routes use.
	// +optional
	Rules int32 `json:"rules"`
	// Seats is how many hostnames the Gateway serves (each has its own listeners).
	// +optional
	Seats int32 `json:"seats"`
	// TargetGroups is how many target groups the AWS Load Balancer Controller makes for the
	// Gateway's routes (one per route, Service backend and port; at most 100 per ALB).
	// +optional
	TargetGroups int32 `json:"targetGroups"`
	// Address is the load balancer's DNS name once it is provisioned.
	// +optional
	Address string `json:"address,omitempty"`
}

// GatewayPool is a set of Gateways, one ALB each, that serve claimed hostnames.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=gwpool,categories=gateway-orchestrator
// +kubebuilder:printcolumn:name="Class",type=string,JSONPath=`.spec.gatewayClassName`
// +kubebuilder:printcolumn:name="Namespace",type=string,JSONPath=`.spec.namespace`
// +kubebuilder:printcolumn:name="Min",type=integer,JSONPath=`.spec.minGateways`
// +kubebuilder:printcolumn:name="Max",type=integer,JSONPath=`.spec.maxGateways`
// +kubebuilder:printcolumn:name="Gateways",type=integer,JSONPath=`.status.gatewayCount`
// +kubebuilder:printcolumn:name="Claims",type=integer,JSONPath=`.status.claims`
// +kubebuilder:printcolumn:name="Seated",type=integer,JSONPath=`.status.claimConditions[?(@.type=="GatewayAssigned")].true`
// +kubebuilder:printcolumn:name="Claims Ready",type=integer,JSONPath=`.status.claimConditions[?(@.type=="Ready")].true`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Deleting",type=integer,JSONPath=`.status.deletingClaims`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type GatewayPool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec GatewayPoolSpec `json:"spec"`
	// +optional
	Status GatewayPoolStatus `json:"status,omitempty"`
}

// GatewayPoolList is a list of GatewayPools.
// +kubebuilder:object:root=true
type GatewayPoolList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GatewayPool `json:"items"`
}
