package lbc

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIngressConditionHosts(t *testing.T) {
	const a, b = ConditionsAnnotationPrefix + "svc-a", ConditionsAnnotationPrefix + "svc-b"
	for _, tc := range []struct {
		name        string
		annotations map[string]string
		hosts       []ConditionHost
		bad         []string
	}{
		{name: "none", annotations: map[string]string{"other": "x"}},
		{
			name: "values and regexValues, in key order, other fields skipped",
			annotations: map[string]string{
				b: `[{"field":"host-header","hostHeaderConfig":{"values":["shop.example.com","*.example.com"]}}]`,
				a: `[{"field":"path-pattern","pathPatternConfig":{"values":["/x"]}},{"field":"host-header","hostHeaderConfig":{"regexValues":[".*"]}}]`,
			},
			hosts: []ConditionHost{
				{Annotation: a, Index: 1, Value: ".*", Pattern: true},
				{Annotation: b, Index: 0, Value: "shop.example.com"},
				{Annotation: b, Index: 0, Value: "*.example.com"},
			},
		},
		{
			name:        "ALB wildcards beyond a leading label are patterns",
			annotations: map[string]string{a: `[{"field":"host-header","hostHeaderConfig":{"values":["*","sh?p.example.com","shop*.example.com"]}}]`},
			hosts: []ConditionHost{
				{Annotation: a, Value: "*", Pattern: true},
				{Annotation: a, Value: "sh?p.example.com", Pattern: true},
				{Annotation: a, Value: "shop*.example.com", Pattern: true},
			},
		},
		{
			name:        "keys match case-insensitively, like LBC's decoder",
			annotations: map[string]string{a: `[{"Field":"host-header","HostHeaderConfig":{"Values":["shop.example.com"]}}]`},
			hosts:       []ConditionHost{{Annotation: a, Value: "shop.example.com"}},
		},
		{
			name:        "a field of another case is not host-header",
			annotations: map[string]string{a: `[{"field":"Host-Header","hostHeaderConfig":{"values":["shop.example.com"]}}]`},
		},
		{
			name:        "malformed",
			annotations: map[string]string{a: `{"field":"host-header"`, b: `[{"field":"host-header","hostHeaderConfig":{"values":["b.example.com"]}}]`},
			hosts:       []ConditionHost{{Annotation: b, Value: "b.example.com"}},
			bad:         []string{a},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hosts, bad := IngressConditionHosts(tc.annotations)
			assert.Equal(t, tc.hosts, hosts)
			assert.Equal(t, tc.bad, bad)
		})
	}
}

func TestCertificateARNs(t *testing.T) {
	assert.Nil(t, CertificateARNs(nil))
	assert.Equal(t, []string{"arn:a", "arn:b"}, CertificateARNs(map[string]string{CertificateARNAnnotation: " arn:a, ,arn:b "}))
}
