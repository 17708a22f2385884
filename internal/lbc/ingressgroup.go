package lbc

import "regexp"

// IngressGroupAnnotation puts an Ingress in an explicit IngressGroup: LBC merges every Ingress it
// serves with the same group name into one ALB, whatever their namespaces (pkg/ingress
// group_loader.go). LBC's --annotations-prefix can rename it; the orchestrator assumes the
// default prefix.
const IngressGroupAnnotation = "alb.ingress.kubernetes.io/group.name"

// ingressGroupName is LBC's rule for a group name: lower-case alphanumerics, '-' and '.',
// alphanumeric at both ends, at most 63 characters. LBC leaves an Ingress whose group name
// breaks it out of every group.
var ingressGroupName = regexp.MustCompile(`^([a-z0-9][-a-z0-9.]*)?[a-z0-9]$`)

// maxIngressGroupName is LBC's limit on a group name's length.
const maxIngressGroupName = 63

// ExplicitIngressGroup is the IngressGroup an Ingress with these annotations names, or "" when it
// names none or a name LBC rejects.
func ExplicitIngressGroup(annotations map[string]string) string {
	g := annotations[IngressGroupAnnotation]
	if len(g) > maxIngressGroupName || !ingressGroupName.MatchString(g) {
		return ""
	}
	return g
}
