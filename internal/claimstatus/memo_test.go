package claimstatus

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// TestMemosOfDeletedClaimsAreDropped: a claim deleted before the cache showed an owner's last
// write to it never settles its memo; the memo is dropped once it is memoTTL old, so the map does
// not grow with every claim deleted young.
func TestMemosOfDeletedClaimsAreDropped(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	at := t0
	claim := func(uid string) *v1alpha1.DomainClaim {
		return &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: uid, UID: types.UID(uid)}}
	}
	before := &v1alpha1.DomainClaimStatus{}
	after := &v1alpha1.DomainClaimStatus{Conditions: []metav1.Condition{{Type: v1alpha1.ConditionDNSRecord, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonCreated}}}
	l := &Writes{now: func() time.Time { return at }}

	l.remember(DNS, claim("gone"), before, after)
	at = t0.Add(4 * time.Minute)
	l.remember(DNS, claim("young"), before, after)
	assert.True(t, l.stale(DNS, claim("gone"), after, before), "a memo within memoTTL still keeps the write from being sent again")
	at = t0.Add(memoTTL)
	l.remember(DNS, claim("new"), before, after)
	assert.Len(t, l.m, 2, "the memo of the claim deleted young is dropped, the others stay")
	assert.False(t, l.stale(DNS, claim("gone"), after, before))
	assert.True(t, l.stale(DNS, claim("young"), after, before))
}
