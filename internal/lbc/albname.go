package lbc

import "strings"

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
