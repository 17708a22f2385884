package lbc

import (
	"fmt"
	"regexp"
	"strings"
)

// LoadBalancerNameAnnotation is the Ingress annotation that names the group's ALB.
const LoadBalancerNameAnnotation = "alb.ingress.kubernetes.io/load-balancer-name"

// ALBNameFromDNS returns the name of the ALB whose DNS name is dns:
// [internal-]<name>-<id>.<region>.elb.amazonaws.com (or .com.cn), with or without the
// "dualstack." prefix of alias targets and a final dot. ALB names hold letters, digits and
// hyphens and never start with "internal-", so the name is everything before the last hyphen of
// the first label. ok is false for anything else.
func ALBNameFromDNS(dns string) (name string, ok bool) {
	dns = strings.TrimSuffix(strings.ToLower(dns), ".")
	dns = strings.TrimPrefix(dns, "dualstack.")
	label, rest, found := strings.Cut(dns, ".")
	if !found {
		return "", false
	}
	region, domain, found := strings.Cut(rest, ".")
	if !found || region == "" || (domain != "elb.amazonaws.com" && domain != "elb.amazonaws.com.cn") {
		return "", false
	}
	label = strings.TrimPrefix(label, "internal-")
	i := strings.LastIndexByte(label, '-')
	if i <= 0 || i == len(label)-1 {
		return "", false
	}
	name = label[:i]
	if len(name) > 32 || strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-") {
		return "", false
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return "", false
		}
	}
	return name, true
}

// generatedName is the shape of the names LBC gives the load balancers it names itself
// (pkg/gateway/model/model_build_loadbalancer.go and pkg/ingress/model_build_load_balancer.go,
// v3): "k8s-" + the first 8 letters and digits of the namespace + "-" + the first 8 of the
// Gateway's, Ingress's or Service's name + "-" + 10 hex digits of a SHA-256, or, for an explicit
// IngressGroup, "k8s-" + the first 17 letters and digits of the group's name + "-" + the hash.
var generatedName = regexp.MustCompile(`^k8s-([a-z0-9]{1,8}-[a-z0-9]{1,8}|[a-z0-9]{1,17})-[0-9a-f]{10}$`)

// GeneratedShape reports whether name (compared case-insensitively, as ELB compares names) has
// the shape of a name LBC generates. The hash covers the cluster's name, the scheme and either
// the Gateway's (or Service's) UID or, for Ingresses, the IngressGroup's namespace/name or
// group name: a tenant who knows the cluster's name can compute the ALB name of any Ingress or
// IngressGroup, present or future, and of any Gateway it can read.
func GeneratedShape(name string) bool {
	return generatedName.MatchString(strings.ToLower(name))
}

// GeneratedFor reports whether name is the name LBC generates for the load balancer of object
// name of namespace ns, or of IngressGroup group when group is not "": its shape, with their
// letters and digits cut as LBC cuts them. The hash is not checked (it covers inputs a tenant's
// object does not show, such as the cluster's name and a Gateway's UID).
func GeneratedFor(name, ns, objName, group string) bool {
	name = strings.ToLower(name)
	if !generatedName.MatchString(name) {
		return false
	}
	prefix := fmt.Sprintf("k8s-%.8s-%.8s-", alnumOf(ns), alnumOf(objName))
	if group != "" {
		prefix = fmt.Sprintf("k8s-%.17s-", alnumOf(group))
	}
	return strings.HasPrefix(name, prefix) && len(name) == len(prefix)+10
}

// alnumOf is s lower-cased without the characters LBC drops from the parts of a generated name.
func alnumOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, strings.ToLower(s))
}
