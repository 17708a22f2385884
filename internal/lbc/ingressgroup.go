package lbc

import (
	"regexp"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// IngressGroupAnnotation puts an Ingress in an explicit IngressGroup: LBC merges every Ingress it
// serves with the same group name into one ALB, whatever their namespaces (pkg/ingress
// group_loader.go). LBC's --annotations-prefix can rename it; the orchestrator assumes the
// default prefix.
const IngressGroupAnnotation = "alb.ingress.kubernetes.io/group.name"

// IngressClassAnnotation is the deprecated class annotation LBC still honours; it takes
// precedence over spec.ingressClassName, and an Ingress it classifies gets no IngressClassParams.
const IngressClassAnnotation = "kubernetes.io/ingress.class"

// ingressGroupName is LBC's rule for a group name: lower-case alphanumerics, '-' and '.',
// alphanumeric at both ends, at most 63 characters. LBC leaves an Ingress whose group name
// breaks it out of every group.
var ingressGroupName = regexp.MustCompile(`^([a-z0-9][-a-z0-9.]*)?[a-z0-9]$`)

// maxIngressGroupName is LBC's limit on a group name's length.
const maxIngressGroupName = 63

// ExplicitIngressGroup is the IngressGroup an Ingress with these annotations names, or "" when it
// names none or a name LBC rejects.
func ExplicitIngressGroup(annotations map[string]string) string {
	return validGroup(annotations[IngressGroupAnnotation])
}

func validGroup(g string) string {
	if len(g) > maxIngressGroupName || !ingressGroupName.MatchString(g) {
		return ""
	}
	return g
}

// IngressClassParamsGVK is LBC's IngressClassParams kind (cluster-scoped), which an IngressClass
// of controller ingress.k8s.aws/alb may name as its parameters.
var IngressClassParamsGVK = schema.GroupVersionKind{Group: "elbv2.k8s.aws", Version: "v1beta1", Kind: "IngressClassParams"}

// ClassParamsGroup is the IngressGroup an IngressClassParams imposes on every Ingress of its
// classes (spec.group.name, which takes precedence over the Ingress's annotation), or "" when it
// imposes none or a name LBC rejects.
func ClassParamsGroup(params *unstructured.Unstructured) string {
	g, _, _ := unstructured.NestedString(params.Object, "spec", "group", "name")
	return validGroup(g)
}
