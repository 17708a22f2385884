package ownership

import (
	"crypto/sha256"
	"encoding/hex"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/opendi/gateway-orchestrator/internal/hostname"
)

// LabelBelowPrefix prefixes the labels that say which domains a DomainClaim's names lie strictly
// below: one label per ancestor domain (hostname.Ancestors), keyed by a hash of the domain
// because a domain can be longer than a label allows. They let admission ask the API server
// itself, not a cache, for every claim a new wildcard would overlap: one label-selected list.
const LabelBelowPrefix = "below.gateway.opendi.com/"

// BelowLabel is the label key that marks claims lying strictly below domain d.
func BelowLabel(d string) string {
	sum := sha256.Sum256([]byte(d))
	return LabelBelowPrefix + hex.EncodeToString(sum[:20]) // 40 characters: within the 63 a label name allows
}

// BelowLabels are the labels every DomainClaim for hostname h carries.
func BelowLabels(h string) map[string]string {
	out := map[string]string{}
	for _, d := range hostname.Ancestors(h) {
		out[BelowLabel(d)] = "true"
	}
	return out
}

// HasBelowLabels reports whether a claim's labels carry every label BelowLabels(h) asks for.
func HasBelowLabels(h string, have map[string]string) bool {
	for k, v := range BelowLabels(h) {
		if have[k] != v {
			return false
		}
	}
	return true
}

// BelowSelector selects the claims lying strictly below domain d.
func BelowSelector(d string) labels.Selector {
	req, err := labels.NewRequirement(BelowLabel(d), selection.Equals, []string{"true"})
	if err != nil {
		panic(err) // BelowLabel always makes a valid key
	}
	return labels.NewSelector().Add(*req)
}
