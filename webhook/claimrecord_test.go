package webhook

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

func TestRecordWritesWhoReservedOrTransferred(t *testing.T) {
	now := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	claim := func(ns string, by v1alpha1.ClaimSource, ann map[string]string) *v1alpha1.DomainClaim {
		return &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Annotations: ann},
			Spec: v1alpha1.DomainClaimSpec{Hostname: "shop.example.com", Namespace: ns, ClaimedBy: by}}
	}
	for _, tc := range []struct {
		name   string
		c, old *v1alpha1.DomainClaim
		want   map[string]string
	}{
		{name: "an admin's reservation records the admin", c: claim("a", v1alpha1.ClaimedByAdmin, nil),
			want: map[string]string{AnnotationReservedBy: "alice", AnnotationReservedAt: "2026-11-27T03:00:00Z"}},
		{name: "a reservation overwrites a reserved-by the creator wrote itself",
			c:    claim("a", v1alpha1.ClaimedByAdmin, map[string]string{AnnotationReservedBy: "mallory"}),
			want: map[string]string{AnnotationReservedBy: "alice", AnnotationReservedAt: "2026-11-27T03:00:00Z"}},
		{name: "a route claim made by admission is not a reservation",
			c:    claim("a", v1alpha1.ClaimedByRoute, map[string]string{AnnotationClaimedFor: "HTTPRoute a/shop"}),
			want: map[string]string{AnnotationClaimedFor: "HTTPRoute a/shop"}},
		{name: "a transfer records who moved it and keeps the reservation",
			c:    claim("b", v1alpha1.ClaimedByAdmin, map[string]string{AnnotationReservedBy: "bob"}),
			old:  claim("a", v1alpha1.ClaimedByAdmin, map[string]string{AnnotationReservedBy: "bob"}),
			want: map[string]string{AnnotationReservedBy: "bob", AnnotationTransferredBy: "alice", AnnotationTransferredAt: "2026-11-27T03:00:00Z"}},
		{name: "a transfer drops the UID of the namespace admission made the claim for",
			c:    claim("b", v1alpha1.ClaimedByRoute, map[string]string{AnnotationClaimedFor: "HTTPRoute a/shop", v1alpha1.AnnotationOwnerNamespace: "a/uid-a"}),
			old:  claim("a", v1alpha1.ClaimedByRoute, map[string]string{AnnotationClaimedFor: "HTTPRoute a/shop", v1alpha1.AnnotationOwnerNamespace: "a/uid-a"}),
			want: map[string]string{AnnotationClaimedFor: "HTTPRoute a/shop", AnnotationTransferredBy: "alice", AnnotationTransferredAt: "2026-11-27T03:00:00Z"}},
		{name: "an update that keeps the namespace records nothing",
			c: claim("a", v1alpha1.ClaimedByRoute, nil), old: claim("a", v1alpha1.ClaimedByRoute, nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			Record(tc.c, tc.old, "alice", now)
			if tc.want == nil {
				assert.Empty(t, tc.c.Annotations)
				return
			}
			assert.Equal(t, tc.want, tc.c.Annotations)
		})
	}
}

func TestATransferMovesTheOwnerLabel(t *testing.T) {
	now := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	old := NewClaim("shop.example.com", "a", "HTTPRoute a/shop")
	c := old.DeepCopy()
	c.Spec.Namespace = "b"
	Record(c, old, "alice", now)
	assert.Equal(t, "b", c.Labels[LabelOwner], "kubectl get dc -l owner=b finds the transferred claim")
	assert.Equal(t, "a", old.Labels[LabelOwner])

	admin := &v1alpha1.DomainClaim{Spec: v1alpha1.DomainClaimSpec{Hostname: "shop.example.com", Namespace: "a"}}
	moved := admin.DeepCopy()
	moved.Spec.Namespace = "b"
	Record(moved, admin, "alice", now)
	assert.NotContains(t, moved.Labels, LabelOwner, "a claim without the label (an admin's) does not get one: it would skip the claim webhooks")
}
