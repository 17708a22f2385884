package webhook

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

const condSvcB = lbc.ConditionsAnnotationPrefix + "svc-b"

func withAnnotations(a map[string]string) *networkingv1.Ingress {
	return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "b", Annotations: a}}
}

func TestConditionHostsAreHostsOfTheIngress(t *testing.T) {
	ing := withAnnotations(map[string]string{condSvcB: `[{"field":"host-header","hostHeaderConfig":{"values":["shop.example.com"],"regexValues":["^.*$"]}}]`})
	hosts := conditionHosts(ing)
	require.Len(t, hosts, 1)
	assert.Equal(t, "shop.example.com", hosts[0].Name)
	assert.Equal(t, "metadata.annotations[alb.ingress.kubernetes.io/conditions.svc-b]", hosts[0].Path.String())
}

func TestAHostHeaderPatternIsACatchAll(t *testing.T) {
	for name, tc := range map[string]struct {
		value string
		want  string
	}{
		"a regexValues entry":         {`{"regexValues":[".*"]}`, "metadata.annotations[alb.ingress.kubernetes.io/conditions.svc-b]"},
		"a '*' value":                 {`{"values":["*"]}`, "metadata.annotations[alb.ingress.kubernetes.io/conditions.svc-b]"},
		"a '?' inside a label":        {`{"values":["sh?p.example.com"]}`, "metadata.annotations[alb.ingress.kubernetes.io/conditions.svc-b]"},
		"a wildcard hostname is none": {`{"values":["*.example.com"]}`, ""},
		"an exact hostname is none":   {`{"values":["b.example.com"]}`, ""},
	} {
		t.Run(name, func(t *testing.T) {
			got := catchAll(withAnnotations(map[string]string{condSvcB: `[{"field":"host-header","hostHeaderConfig":` + tc.value + `}]`}))
			if tc.want == "" {
				assert.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			assert.Equal(t, tc.want, got.String())
		})
	}
}

func TestMalformedConditionsAreDeniedOnlyInAGroup(t *testing.T) {
	door := &Door{}
	ing := withAnnotations(map[string]string{condSvcB: `[{"field":`})
	assert.Empty(t, door.malformedConditions(ing, ""), "an Ingress of its own ALB is left to LBC")
	errs := door.malformedConditions(ing, "shared")
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), `metadata.annotations[alb.ingress.kubernetes.io/conditions.svc-b]: Invalid value: "[{\"field\":": not a JSON list of rule conditions: the AWS Load Balancer Controller would build no load balancer for IngressGroup "shared"`)
}

func TestForeignCertificates(t *testing.T) {
	scheme := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(scheme))
	claim := func(name, ns, host, arn string) *v1alpha1.DomainClaim {
		return &v1alpha1.DomainClaim{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       v1alpha1.DomainClaimSpec{Hostname: host, Namespace: ns},
			Status:     v1alpha1.DomainClaimStatus{CertificateARN: arn},
		}
	}
	k := fake.NewClientBuilder().WithScheme(scheme).
		WithObjects(claim("shop", "team-a", "shop.example.com", "arn:shop"), claim("c", "team-c", "c.example.com", "arn:c")).
		WithStatusSubresource(&v1alpha1.DomainClaim{}).
		WithIndex(&v1alpha1.DomainClaim{}, index.ClaimCertificateARN, index.ClaimCertificateARNKeys).Build()
	door := &Door{Reader: k}
	for name, tc := range map[string]struct {
		arns string
		want []string
	}{
		"none":                        {"", nil},
		"an ARN that is no claim's":   {"arn:other", nil},
		"its own namespace's":         {"arn:c", nil},
		"another namespace's, listed": {"arn:other, arn:shop", []string{`metadata.annotations[alb.ingress.kubernetes.io/certificate-arn]: Forbidden: certificate arn:shop is the certificate of hostname "shop.example.com", owned by namespace team-a; an Ingress of namespace team-c may not put it on its load balancer (DomainClaim shop)`}},
	} {
		t.Run(name, func(t *testing.T) {
			ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "team-c", Name: "c", Annotations: map[string]string{lbc.CertificateARNAnnotation: tc.arns}}}
			errs, err := door.ingressCertificates(context.Background(), ing)
			require.NoError(t, err)
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
