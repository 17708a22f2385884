// Package v1alpha1 holds the gateway.opendi.com/v1alpha1 API: ManagedZone, GatewayPool and
// DomainClaim, all cluster-scoped.
//
// +kubebuilder:object:generate=true
// +groupName=gateway.opendi.com
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every type in this package.
	GroupVersion = schema.GroupVersion{Group: "gateway.opendi.com", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this package with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&ManagedZone{}, &ManagedZoneList{},
		&GatewayPool{}, &GatewayPoolList{},
		&DomainClaim{}, &DomainClaimList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
