package claimstatus

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/writebudget"
)

func TestAStatusApplyWaitsForItsClaimsNamespacesTurn(t *testing.T) {
	c := &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: "shop.example.com", UID: "u1"}, Spec: v1alpha1.DomainClaimSpec{Hostname: "shop.example.com", Namespace: "team-a"}}
	assert.Equal(t, "team-a", writebudget.Tenant(applyObject(c, &v1alpha1.DomainClaimStatus{})))
}
