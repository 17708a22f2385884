package index

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
)

func TestClaimNamespaceDomainKeys(t *testing.T) {
	now := metav1.Now()
	claim := func(h string, by v1alpha1.ClaimSource, mut func(*v1alpha1.DomainClaim)) *v1alpha1.DomainClaim {
		c := &v1alpha1.DomainClaim{Spec: v1alpha1.DomainClaimSpec{Hostname: h, Namespace: "a", ClaimedBy: by}}
		if mut != nil {
			mut(c)
		}
		return c
	}
	bound := metav1.Condition{Type: v1alpha1.ConditionBound, Status: metav1.ConditionTrue}
	inUse := func(c *v1alpha1.DomainClaim) {
		c.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionInUse, Status: metav1.ConditionTrue}, bound}
		c.Status.LastReferencedTime = &now
	}
	for _, tc := range []struct {
		name  string
		claim *v1alpha1.DomainClaim
		want  []string
	}{
		{name: "a new route-made claim counts as claimed and unbound under every zone domain it may have",
			claim: claim("shop.example.com", v1alpha1.ClaimedByRoute, nil),
			want:  []string{"a/shop.example.com", "a/shop.example.com/unbound", "a/example.com", "a/example.com/unbound", "a/com", "a/com/unbound"}},
		{name: "a claim in use is bound", claim: claim("shop.example.com", v1alpha1.ClaimedByRoute, inUse),
			want: []string{"a/shop.example.com", "a/example.com", "a/com"}},
		{name: "a claim used once and let go is retained, not unbound",
			claim: claim("shop.example.com", v1alpha1.ClaimedByRoute, func(c *v1alpha1.DomainClaim) {
				c.Status.LastReferencedTime = &now
				c.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionInUse, Status: metav1.ConditionFalse}, bound}
			}),
			want: []string{"a/shop.example.com", "a/example.com", "a/com"}},
		{name: "an admin's claim is never unbound", claim: claim("*.example.com", v1alpha1.ClaimedByAdmin, nil),
			want: []string{"a/example.com", "a/com"}},
		{name: "a claim being deleted counts for nothing",
			claim: claim("shop.example.com", v1alpha1.ClaimedByRoute, func(c *v1alpha1.DomainClaim) { c.DeletionTimestamp = &now })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.ElementsMatch(t, tc.want, ClaimNamespaceDomainKeys(tc.claim))
		})
	}
}

func TestClaimSkeletonKeysMeetForLookAlikes(t *testing.T) {
	claim := func(h string) *v1alpha1.DomainClaim {
		return &v1alpha1.DomainClaim{Spec: v1alpha1.DomainClaimSpec{Hostname: h, Namespace: "a"}}
	}
	ascii := ClaimSkeletonKeys(claim("pay.example.com"))
	assert.Len(t, ascii, 1, "an ASCII name costs the index one key")
	unicode := ClaimSkeletonKeys(claim("xn--80a5ak.example.com"))
	assert.Equal(t, ascii[0], unicode[0], "Cyrillic рау looks like pay")
	assert.Equal(t, []string{ascii[0], hostname.ServedKey("*.example.com")}, unicode,
		"a Unicode name is also found by the ASCII names and wildcards beside it")
	assert.Contains(t, ClaimSkeletonKeys(claim("shop.xn--80a5ak.example.com")), hostname.ServedKey("*.pay.example.com"),
		"a Unicode name under a look-alike of pay.example.com is found from *.pay.example.com")
	assert.NotEqual(t, ascii, ClaimSkeletonKeys(claim("pan.example.com")))
	assert.Empty(t, ClaimSkeletonKeys(claim("")))
}

func BenchmarkClaimSkeletonKeys(b *testing.B) {
	c := &v1alpha1.DomainClaim{Spec: v1alpha1.DomainClaimSpec{Hostname: "host-1234.zone-abcdef.example.com", Namespace: "a"}}
	b.ReportAllocs()
	for b.Loop() {
		ClaimSkeletonKeys(c)
	}
}
