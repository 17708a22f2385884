package v1alpha1

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AliasMessage is how reconciler/dns begins DNSRecordReady's message once the ALIAS records of
// hostname h point at load balancer lb.
func AliasMessage(h, lb string) string { return "ALIAS " + h + " → " + lb }

// AliasPointsAt reports whether reconciler/dns has said, for the claim's generation, that its
// ALIAS records point at load balancer lb (DNSRecordReady=True with AliasMessage for lb).
func (c *DomainClaim) AliasPointsAt(lb string) bool {
	for _, cond := range c.Status.Conditions {
		if cond.Type != ConditionDNSRecord {
			continue
		}
		m := AliasMessage(c.Spec.Hostname, lb)
		return cond.Status == metav1.ConditionTrue && cond.ObservedGeneration == c.Generation && lb != "" &&
			(cond.Message == m || strings.HasPrefix(cond.Message, m+";"))
	}
	return false
}
