package lbc

import (
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
// the target group names it sets.
type TargetGroupConfiguration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              TargetGroupConfigurationSpec `json:"spec,omitempty"`
}

// TargetGroupConfigurationSpec holds the default settings and the per-route ones.
type TargetGroupConfigurationSpec struct {
	DefaultConfiguration TargetGroupProps     `json:"defaultConfiguration,omitempty"`
	RouteConfigurations  []RouteConfiguration `json:"routeConfigurations,omitempty"`
}

// RouteConfiguration is the settings for the target groups of one route.
type RouteConfiguration struct {
	TargetGroupProps TargetGroupProps `json:"targetGroupProps"`
}

// TargetGroupProps is a target group's settings; only its name here.
type TargetGroupProps struct {
	// TargetGroupName names the target group instead of LBC's generated name. ELBv2's
	// CreateTargetGroup is idempotent: a name some target group already has, with the same
	// settings, returns that target group.
	TargetGroupName string `json:"targetGroupName,omitempty"`
}

// NamedTargetGroup is a target group name a configuration sets, and the field that sets it.
type NamedTargetGroup struct {
	Path *field.Path
	Name string
}

// TargetGroupNames lists the target group names c sets, each with its field.
func (c *TargetGroupConfiguration) TargetGroupNames() []NamedTargetGroup {
	var out []NamedTargetGroup
	spec := field.NewPath("spec")
	if n := c.Spec.DefaultConfiguration.TargetGroupName; n != "" {
		out = append(out, NamedTargetGroup{Path: spec.Child("defaultConfiguration", "targetGroupName"), Name: n})
	}
	for i, r := range c.Spec.RouteConfigurations {
		if n := r.TargetGroupProps.TargetGroupName; n != "" {
			out = append(out, NamedTargetGroup{Path: spec.Child("routeConfigurations").Index(i).Child("targetGroupProps", "targetGroupName"), Name: n})
		}
	}
	return out
}

// DeepCopy copies c.
func (c *TargetGroupConfiguration) DeepCopy() *TargetGroupConfiguration {
	out := &TargetGroupConfiguration{TypeMeta: c.TypeMeta, Spec: c.Spec}
	c.DeepCopyInto(&out.ObjectMeta)
	out.Spec.RouteConfigurations = append([]RouteConfiguration(nil), c.Spec.RouteConfigurations...)
	return out
}

// DeepCopyObject implements runtime.Object, so that an admission decoder can decode into c.
func (c *TargetGroupConfiguration) DeepCopyObject() runtime.Object { return c.DeepCopy() }
