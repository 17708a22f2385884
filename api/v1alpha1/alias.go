package v1alpha1

import (
	"slices"
	"strings"
)

// AliasMessage is how reconciler/dns begins DNSRecordReady's message once the ALIAS records of
// hostname h point at load balancer lb. It is for people; reconcilers read status.aliasTarget.
func AliasMessage(h, lb string) string { return "ALIAS " + h + " → " + lb }

// AliasPointsAt reports whether reconciler/dns has confirmed that the claim's ALIAS records point
// at load balancer lb (status.aliasTarget). DNS names compare without case and trailing dot.
func (c *DomainClaim) AliasPointsAt(lb string) bool {
	t := c.Status.AliasTarget
	return t != nil && lb != "" && sameDNSName(t.DNSName, lb)
}

func sameDNSName(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}

// Lists reports whether the records of type typ ("A", "AAAA") point at the target; false for no
// target.
func (t *AliasTarget) Lists(typ string) bool {
	return t != nil && slices.Contains(t.RecordTypes, typ)
}
