package lbc

import (
	"encoding/json"
	"slices"
	"strings"
)

// ConditionsAnnotationPrefix starts LBC's per-backend conditions annotation
// (alb.ingress.kubernetes.io/conditions.<service>): a JSON list of rule conditions LBC adds to
// the rules of that backend. The values of a host-header condition (hostHeaderConfig.values,
// and regexValues) join the rule's host condition, OR-ed with spec.rules[].host, so they are
// hosts the Ingress serves.
const ConditionsAnnotationPrefix = "alb.ingress.kubernetes.io/conditions."

// CertificateARNAnnotation lists the ACM certificates LBC attaches to an Ingress's ALB
// (comma-separated ARNs).
const CertificateARNAnnotation = "alb.ingress.kubernetes.io/certificate-arn"

// ConditionHost is one host-header value of a conditions annotation.
type ConditionHost struct {
	// Annotation is the annotation's key.
	Annotation string
	// Index is the condition's index in the annotation's list.
	Index int
	// Value is the value as written.
	Value string
	// Pattern says the value matches hosts by a pattern that no hostname expresses: a
	// regexValues entry, or a value with ALB's wildcard characters ('*', '?') anywhere but a
	// leading "*." label.
	Pattern bool
}

// ruleCondition is the part of LBC's RuleCondition that carries hosts. LBC decodes the
// annotation with encoding/json, so keys match case-insensitively here too.
type ruleCondition struct {
	Field            string `json:"field"`
	HostHeaderConfig *struct {
		Values      []string `json:"values"`
		RegexValues []string `json:"regexValues"`
	} `json:"hostHeaderConfig"`
}

// hostHeaderField is LBC's condition field for the Host header.
const hostHeaderField = "host-header"

// IngressConditionHosts lists the host-header values of every conditions annotation in
// annotations, in key order. Bad lists the keys whose JSON LBC could not decode either (LBC then
// refuses to build the Ingress's ALB, or its whole IngressGroup's).
func IngressConditionHosts(annotations map[string]string) (hosts []ConditionHost, bad []string) {
	var keys []string
	for k := range annotations {
		if strings.HasPrefix(k, ConditionsAnnotationPrefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		var conds []ruleCondition
		if err := json.Unmarshal([]byte(annotations[k]), &conds); err != nil {
			bad = append(bad, k)
			continue
		}
		for i, c := range conds {
			if c.Field != hostHeaderField || c.HostHeaderConfig == nil {
				continue
			}
			for _, v := range c.HostHeaderConfig.Values {
				hosts = append(hosts, ConditionHost{Annotation: k, Index: i, Value: v, Pattern: isHostPattern(v)})
			}
			for _, v := range c.HostHeaderConfig.RegexValues {
				hosts = append(hosts, ConditionHost{Annotation: k, Index: i, Value: v, Pattern: true})
			}
		}
	}
	return hosts, bad
}

// isHostPattern reports whether ALB treats host-header value v as a pattern beyond a wildcard
// hostname: '*' (any characters) or '?' (one character) anywhere except a leading "*." label.
func isHostPattern(v string) bool {
	return strings.ContainsAny(strings.TrimPrefix(v, "*."), "*?")
}

// ServiceCertificateAnnotation lists the ACM certificates LBC (and the in-tree cloud provider)
// puts on the TLS listeners of a Service's NLB (comma-separated ARNs).
const ServiceCertificateAnnotation = "service.beta.kubernetes.io/aws-load-balancer-ssl-cert"

// CertificateARNs are the ARNs of an Ingress's certificate-arn annotation (comma-separated,
// blanks trimmed, empty entries dropped).
func CertificateARNs(annotations map[string]string) []string {
	return AnnotationARNs(annotations, CertificateARNAnnotation)
}

// AnnotationARNs are the ARNs of annotation key, read as LBC reads a list annotation
// (comma-separated, blanks trimmed, empty entries dropped).
func AnnotationARNs(annotations map[string]string, key string) []string {
	var out []string
	for _, a := range strings.Split(annotations[key], ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}
