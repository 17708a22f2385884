package gatewaypool

import (
	"sort"
	"strconv"
	"strings"
)

// HTTPSProtocolPort is the LoadBalancerConfiguration listenerConfigurations[].protocolPort of the
// HTTPS listener of every pool Gateway (LBC's "PROTOCOL:PORT" form).
const HTTPSProtocolPort = "HTTPS:443"

// Gateway annotations that mirror the certificates for people and tools that read them. LBC
// itself ignores them: it takes certificates only from the LoadBalancerConfiguration.
const (
	AnnotationCertificateARN   = "alb.ingress.kubernetes.io/certificate-arn"
	AnnotationCertificateCount = "gateway.opendi.com/certificate-count"
)

// ListenerCertificates is the certificate part of LBC's HTTPS:443 listener configuration.
type ListenerCertificates struct {
	// DefaultCertificate is the listener's default certificate ARN.
	DefaultCertificate string
	// Certificates are the other ARNs, sorted.
	Certificates []string
}

// PlanCertificates computes, as pure data, the certificates of a Gateway's HTTPS listener from
// the ISSUED certificates of the claims assigned to it. The default certificate is stable: the
// current one stays while it is still wanted, so claims coming and going never change which
// certificate a client without SNI gets; only when it goes is the first of the rest promoted.
// The rest are sorted, so the written configuration changes only when the set does.
func PlanCertificates(currentDefault string, issued []string) ListenerCertificates {
	set := map[string]bool{}
	for _, a := range issued {
		if a != "" {
			set[a] = true
		}
	}
	rest := make([]string, 0, len(set))
	for a := range set {
		rest = append(rest, a)
	}
	sort.Strings(rest)
	out := ListenerCertificates{}
	if set[currentDefault] {
		out.DefaultCertificate = currentDefault
	} else if len(rest) > 0 {
		out.DefaultCertificate = rest[0]
	}
	for _, a := range rest {
		if a != out.DefaultCertificate {
			out.Certificates = append(out.Certificates, a)
		}
	}
	return out
}

// Annotations mirrors a listener's certificates into the Gateway annotations: every ARN, the
// default first, comma-separated, and how many there are besides the default.
func (l ListenerCertificates) Annotations() map[string]string {
	if l.DefaultCertificate == "" {
		return map[string]string{AnnotationCertificateARN: "", AnnotationCertificateCount: "0"}
	}
	all := append([]string{l.DefaultCertificate}, l.Certificates...)
	return map[string]string{
		AnnotationCertificateARN:   strings.Join(all, ","),
		AnnotationCertificateCount: strconv.Itoa(len(l.Certificates)),
	}
}
