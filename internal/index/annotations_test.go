package index

import (
	"testing"

	"github.com/stretchr/testify/assert"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

func TestIngressHostnamesIncludeConditionHosts(t *testing.T) {
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
			lbc.ConditionsAnnotationPrefix + "svc": `[{"field":"host-header","hostHeaderConfig":{"values":["shop.example.com","sh*p.example.com"],"regexValues":[".*"]}}]`,
		}},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "b.example.com"}}},
	}
	assert.Equal(t, []string{"b.example.com", "shop.example.com"}, Hostnames(ing), "patterns are no hostname")
}

func TestClaimCertificateARNKeys(t *testing.T) {
	assert.Nil(t, ClaimCertificateARNKeys(&v1alpha1.DomainClaim{}))
	c := &v1alpha1.DomainClaim{Status: v1alpha1.DomainClaimStatus{CertificateARN: "arn:x"}}
	assert.Equal(t, []string{"arn:x"}, ClaimCertificateARNKeys(c))
}
