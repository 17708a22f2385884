// Package lbc holds the AWS Load Balancer Controller's LoadBalancerConfiguration (group
// gateway.k8s.aws) as a typed value: the fields the orchestrator reads and writes, with one
// conversion from and to the unstructured object the client sends. LBC's module cannot be a
// dependency (the module proxy refuses it above v1.1.9), so the fields are declared here,
// spelled as in LBC's CRD.
package lbc

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// GroupVersionKind is LBC's LoadBalancerConfiguration kind.
var GroupVersionKind = schema.GroupVersionKind{Group: "gateway.k8s.aws", Version: "v1beta1", Kind: "LoadBalancerConfiguration"}

// ControllerName is LBC's Gateway controller name for ALBs: the controllerName of its
// GatewayClasses and of the route status.parents entries it writes.
const ControllerName = "gateway.k8s.aws/alb"

// MergingMode values: which configuration's listenerConfigurations entry wins when a GatewayClass's
// and a Gateway's configuration both have one for the same protocolPort.
const (
	// PreferGateway lets the Gateway's entry win.
	PreferGateway = "prefer-gateway"
	// PreferGatewayClass lets the GatewayClass's entry win; LBC's default.
	PreferGatewayClass = "prefer-gateway-class"
)

// LoadBalancerConfiguration is the part of LBC's configuration object the orchestrator uses.
type LoadBalancerConfiguration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              Spec `json:"spec,omitempty"`
}

// Spec is the load balancer's configuration.
type Spec struct {
	// MergingMode is PreferGateway or PreferGatewayClass ("" is LBC's default, the latter).
	MergingMode string `json:"mergingMode,omitempty"`
	// LoadBalancerName names the ALB.
	LoadBalancerName string `json:"loadBalancerName,omitempty"`
	// Scheme is internet-facing or internal ("" is LBC's default, internal).
	Scheme string `json:"scheme,omitempty"`
	// IPAddressType is ipv4, dualstack or dualstack-without-public-ipv4.
	IPAddressType string `json:"ipAddressType,omitempty"`
	// Tags are put on the load balancer's AWS resources.
	Tags map[string]string `json:"tags,omitempty"`
	// ListenerConfigurations configure the ALB listeners, one entry per protocolPort.
	ListenerConfigurations []ListenerConfiguration `json:"listenerConfigurations,omitempty"`
}

// ListenerConfiguration is one ALB listener's settings.
type ListenerConfiguration struct {
	// ProtocolPort is "PROTOCOL:PORT", for example "HTTPS:443".
	ProtocolPort string `json:"protocolPort"`
	// DefaultCertificate is the ARN a client without SNI (or with an unknown name) gets.
	DefaultCertificate string `json:"defaultCertificate,omitempty"`
	// Certificates are the listener's other certificate ARNs. With neither this nor
	// DefaultCertificate, LBC discovers ACM certificates by the listeners' hostnames.
	Certificates []string `json:"certificates,omitempty"`
	// SSLPolicy is the listener's security policy.
	SSLPolicy string `json:"sslPolicy,omitempty"`
}

// DeepCopy copies c.
func (c *LoadBalancerConfiguration) DeepCopy() *LoadBalancerConfiguration {
	out := &LoadBalancerConfiguration{TypeMeta: c.TypeMeta, Spec: c.Spec}
	objectMeta := c.ObjectMeta
	objectMeta.DeepCopyInto(&out.ObjectMeta)
	if c.Spec.Tags != nil {
		out.Spec.Tags = make(map[string]string, len(c.Spec.Tags))
		for k, v := range c.Spec.Tags {
			out.Spec.Tags[k] = v
		}
	}
	if c.Spec.ListenerConfigurations != nil {
		out.Spec.ListenerConfigurations = make([]ListenerConfiguration, len(c.Spec.ListenerConfigurations))
		for i, l := range c.Spec.ListenerConfigurations {
			l.Certificates = append([]string(nil), l.Certificates...)
			out.Spec.ListenerConfigurations[i] = l
		}
	}
	return out
}

// DeepCopyObject implements runtime.Object, so that an admission decoder can decode into c.
func (c *LoadBalancerConfiguration) DeepCopyObject() runtime.Object { return c.DeepCopy() }

// CertificateRef is one ACM certificate ARN an object puts on a load balancer, and the field
// that names it.
type CertificateRef struct {
	Path *field.Path
	ARN  string
}

// CertificateRefs lists the certificate ARNs c puts on its listeners
// (listenerConfigurations[].defaultCertificate and .certificates[]), each with its field.
func (c *LoadBalancerConfiguration) CertificateRefs() []CertificateRef {
	var out []CertificateRef
	for i, l := range c.Spec.ListenerConfigurations {
		p := field.NewPath("spec", "listenerConfigurations").Index(i)
		if l.DefaultCertificate != "" {
			out = append(out, CertificateRef{Path: p.Child("defaultCertificate"), ARN: l.DefaultCertificate})
		}
		for j, arn := range l.Certificates {
			if arn != "" {
				out = append(out, CertificateRef{Path: p.Child("certificates").Index(j), ARN: arn})
			}
		}
	}
	return out
}

// Listener returns the entry for protocolPort, or nil.
func (s *Spec) Listener(protocolPort string) *ListenerConfiguration {
	for i := range s.ListenerConfigurations {
		if s.ListenerConfigurations[i].ProtocolPort == protocolPort {
			return &s.ListenerConfigurations[i]
		}
	}
	return nil
}

// EnsureListener returns the entry for protocolPort, appending an empty one when there is none.
func (s *Spec) EnsureListener(protocolPort string) *ListenerConfiguration {
	if l := s.Listener(protocolPort); l != nil {
		return l
	}
	s.ListenerConfigurations = append(s.ListenerConfigurations, ListenerConfiguration{ProtocolPort: protocolPort})
	return &s.ListenerConfigurations[len(s.ListenerConfigurations)-1]
}

// NewUnstructured is an empty LoadBalancerConfiguration for the client to Get, List or Watch into.
func NewUnstructured() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(GroupVersionKind)
	return u
}

// NewUnstructuredList is an empty list of LoadBalancerConfigurations for the client to List into.
func NewUnstructuredList() *unstructured.UnstructuredList {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(GroupVersionKind.GroupVersion().WithKind(GroupVersionKind.Kind + "List"))
	return l
}

// FromUnstructured converts what the client read.
func FromUnstructured(u *unstructured.Unstructured) (*LoadBalancerConfiguration, error) {
	out := &LoadBalancerConfiguration{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out); err != nil {
		return nil, fmt.Errorf("LoadBalancerConfiguration %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	return out, nil
}

// ToUnstructured converts c for the client to send.
func (c *LoadBalancerConfiguration) ToUnstructured() (*unstructured.Unstructured, error) {
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(c)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: obj}
	u.SetGroupVersionKind(GroupVersionKind)
	return u, nil
}

// Mutate lets change edit u as a typed value and writes the result back into u, so that
// controllerutil.CreateOrPatch and client.MergeFrom can diff it. Fields outside the typed value
// do not survive: the orchestrator owns the whole spec of the configurations it creates.
func Mutate(u *unstructured.Unstructured, change func(*LoadBalancerConfiguration) error) error {
	c, err := FromUnstructured(u)
	if err != nil {
		return err
	}
	if err := change(c); err != nil {
		return err
	}
	out, err := c.ToUnstructured()
	if err != nil {
		return err
	}
	u.Object = out.Object
	return nil
}
