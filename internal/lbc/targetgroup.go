package lbc

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// TargetGroupConfigurationGVK is LBC's TargetGroupConfiguration kind: the settings of the target
// groups LBC makes for one Service (spec.targetReference, in the configuration's namespace), by
// default and per route.
var TargetGroupConfigurationGVK = schema.GroupVersionKind{Group: "gateway.k8s.aws", Version: "v1beta1", Kind: "TargetGroupConfiguration"}

// TargetGroupConfiguration is the part of LBC's TargetGroupConfiguration the orchestrator reads:
// the Service it configures, and the target group settings that can make LBC's deploy of an ALB
// fail (see ALBIncompatible) or hand over another team's target group (the name).
type TargetGroupConfiguration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              TargetGroupConfigurationSpec `json:"spec,omitempty"`
}

// TargetGroupConfigurationSpec holds the Service configured, the default settings and the
// per-route ones.
type TargetGroupConfigurationSpec struct {
	// TargetReference is the object configured; LBC reads only Services (kind empty or
	// "Service"), in the configuration's namespace.
	TargetReference      *TargetReference     `json:"targetReference,omitempty"`
	DefaultConfiguration TargetGroupProps     `json:"defaultConfiguration,omitempty"`
	RouteConfigurations  []RouteConfiguration `json:"routeConfigurations,omitempty"`
}

// TargetReference names the object a TargetGroupConfiguration configures.
type TargetReference struct {
	Group *string `json:"group,omitempty"`
	Kind  *string `json:"kind,omitempty"`
	Name  string  `json:"name"`
}

// Service is the name of the Service the configuration configures, or "" when it configures
// none (no targetReference, or one of another kind: LBC reads such configurations for no
// Service).
func (c *TargetGroupConfiguration) Service() string {
	r := c.Spec.TargetReference
	if r == nil || r.Kind != nil && *r.Kind != "Service" {
		return ""
	}
	return r.Name
}

// RouteConfiguration is the settings for the target groups of the routes its identifier matches.
type RouteConfiguration struct {
	RouteIdentifier  RouteIdentifier  `json:"routeIdentifier"`
	TargetGroupProps TargetGroupProps `json:"targetGroupProps"`
}

// RouteIdentifier selects routes by kind, namespace and name; LBC takes the entry matching all
// three, else the one matching kind and namespace (no name), else the one matching kind (no
// namespace, no name).
type RouteIdentifier struct {
	Kind      string `json:"kind,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
}

// TargetGroupProps is a target group's settings, those the orchestrator checks. LBC v3 (v3.0 to
// v3.5) merges ipAddressType but never reads it: a target group's IP address type comes from the
// Service's spec.ipFamilies, so the field is not declared here.
type TargetGroupProps struct {
	// TargetGroupName names the target group instead of LBC's generated name. ELBv2's
	// CreateTargetGroup is idempotent: a name some target group already has, with the same
	// settings, returns that target group. Set but empty, LBC asks ELBv2 for a target group
	// without a name.
	TargetGroupName *string `json:"targetGroupName,omitempty"`
	// Protocol of the target group (HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP).
	Protocol *string `json:"protocol,omitempty"`
	// ProtocolVersion (HTTP1, HTTP2, GRPC) picks the health check matcher: gRPC codes for GRPC.
	ProtocolVersion *string `json:"protocolVersion,omitempty"`
	// TargetType is instance (the Service's NodePort on every node) or ip (the Pods).
	TargetType *string `json:"targetType,omitempty"`
	// TargetControlPort is the port of the target optimizer's agent.
	TargetControlPort *int32 `json:"targetControlPort,omitempty"`
	// HealthCheckConfig replaces LBC's health check settings as a whole when set.
	HealthCheckConfig *HealthCheckConfig `json:"healthCheckConfig,omitempty"`
	// TargetGroupAttributes are ELBv2 target group attributes, merged by key.
	TargetGroupAttributes []TargetGroupAttribute `json:"targetGroupAttributes,omitempty"`
}

// HealthCheckConfig is a target group's health check.
type HealthCheckConfig struct {
	HealthyThresholdCount   *int32              `json:"healthyThresholdCount,omitempty"`
	HealthCheckInterval     *int32              `json:"healthCheckInterval,omitempty"`
	HealthCheckPath         *string             `json:"healthCheckPath,omitempty"`
	HealthCheckPort         *string             `json:"healthCheckPort,omitempty"`
	HealthCheckProtocol     *string             `json:"healthCheckProtocol,omitempty"`
	HealthCheckTimeout      *int32              `json:"healthCheckTimeout,omitempty"`
	UnhealthyThresholdCount *int32              `json:"unhealthyThresholdCount,omitempty"`
	Matcher                 *HealthCheckMatcher `json:"matcher,omitempty"`
}

// HealthCheckMatcher holds the codes a healthy target answers with.
type HealthCheckMatcher struct {
	HTTPCode *string `json:"httpCode,omitempty"`
	GRPCCode *string `json:"grpcCode,omitempty"`
}

// TargetGroupAttribute is one ELBv2 target group attribute.
type TargetGroupAttribute struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// NamedTargetGroup is a target group name a configuration sets, and the field that sets it.
type NamedTargetGroup struct {
	Path *field.Path
	Name string
}

// TargetGroupNames lists the target group names c sets (empty ones too), each with its field.
func (c *TargetGroupConfiguration) TargetGroupNames() []NamedTargetGroup {
	var out []NamedTargetGroup
	spec := field.NewPath("spec")
	if n := c.Spec.DefaultConfiguration.TargetGroupName; n != nil {
		out = append(out, NamedTargetGroup{Path: spec.Child("defaultConfiguration", "targetGroupName"), Name: *n})
	}
	for i, r := range c.Spec.RouteConfigurations {
		if n := r.TargetGroupProps.TargetGroupName; n != nil {
			out = append(out, NamedTargetGroup{Path: spec.Child("routeConfigurations").Index(i).Child("targetGroupProps", "targetGroupName"), Name: *n})
		}
	}
	return out
}

// PropsLayer is one TargetGroupProps LBC merges for a route's target groups, and its field.
type PropsLayer struct {
	Path  *field.Path
	Props *TargetGroupProps
}

// Layers are the TargetGroupProps LBC merges for the target groups of the route of kind, namespace
// and name, highest first: the routeConfigurations entry that matches it best, if any (LBC's
// longest match: kind, namespace and name; else kind and namespace; else kind alone), then the
// defaultConfiguration. LBC takes each field from the first layer that sets it (the health check
// as a whole) and merges the attributes by key.
func (c *TargetGroupConfiguration) Layers(kind, namespace, name string) []PropsLayer {
	spec := field.NewPath("spec")
	best, rank := -1, 0
	for i, r := range c.Spec.RouteConfigurations {
		id := r.RouteIdentifier
		if id.Kind == kind && id.Namespace == namespace && id.Name == name {
			best = i
			break
		}
		switch {
		case id.Name != "":
		case id.Kind == kind && id.Namespace == namespace && rank < 2:
			best, rank = i, 2
		case id.Kind == kind && id.Namespace == "" && rank < 1:
			best, rank = i, 1
		}
	}
	var out []PropsLayer
	if best >= 0 {
		out = append(out, PropsLayer{Path: spec.Child("routeConfigurations").Index(best).Child("targetGroupProps"), Props: &c.Spec.RouteConfigurations[best].TargetGroupProps})
	}
	return append(out, PropsLayer{Path: spec.Child("defaultConfiguration"), Props: &c.Spec.DefaultConfiguration})
}

// AllLayers are every TargetGroupProps of c, each alone: what some route may get.
func (c *TargetGroupConfiguration) AllLayers() [][]PropsLayer {
	spec := field.NewPath("spec")
	def := PropsLayer{Path: spec.Child("defaultConfiguration"), Props: &c.Spec.DefaultConfiguration}
	out := [][]PropsLayer{{def}}
	for i := range c.Spec.RouteConfigurations {
		out = append(out, []PropsLayer{{Path: spec.Child("routeConfigurations").Index(i).Child("targetGroupProps"), Props: &c.Spec.RouteConfigurations[i].TargetGroupProps}, def})
	}
	return out
}

// DeepCopy copies c, through its JSON form (every field is plain data).
func (c *TargetGroupConfiguration) DeepCopy() *TargetGroupConfiguration {
	raw, err := json.Marshal(c)
	if err != nil {
		panic(err) // plain data always marshals
	}
	out := &TargetGroupConfiguration{}
	if err := json.Unmarshal(raw, out); err != nil {
		panic(err)
	}
	return out
}

// DeepCopyObject implements runtime.Object, so that an admission decoder can decode into c.
func (c *TargetGroupConfiguration) DeepCopyObject() runtime.Object { return c.DeepCopy() }
