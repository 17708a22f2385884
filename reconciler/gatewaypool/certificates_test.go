package gatewaypool

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPlanCertificates(t *testing.T) {
	cases := []struct {
		name    string
		current string
		issued  []string
		want    ListenerCertificates
	}{
		{name: "no certificates, no default", want: ListenerCertificates{}},
		{name: "the first certificate becomes the default", issued: []string{"arn:b", "arn:a"},
			want: ListenerCertificates{DefaultCertificate: "arn:a", Certificates: []string{"arn:b"}}},
		{name: "the default stays when others are added", current: "arn:m", issued: []string{"arn:z", "arn:a", "arn:m"},
			want: ListenerCertificates{DefaultCertificate: "arn:m", Certificates: []string{"arn:a", "arn:z"}}},
		{name: "the default stays when others go", current: "arn:m", issued: []string{"arn:m"},
			want: ListenerCertificates{DefaultCertificate: "arn:m"}},
		{name: "a default that goes is replaced by the first of the rest", current: "arn:gone", issued: []string{"arn:c", "arn:b"},
			want: ListenerCertificates{DefaultCertificate: "arn:b", Certificates: []string{"arn:c"}}},
		{name: "duplicates and empty ARNs are dropped", issued: []string{"arn:a", "", "arn:a"},
			want: ListenerCertificates{DefaultCertificate: "arn:a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, PlanCertificates(tc.current, tc.issued))
		})
	}
}

func TestAnnotationsMirrorTheListener(t *testing.T) {
	l := ListenerCertificates{DefaultCertificate: "arn:d", Certificates: []string{"arn:a", "arn:b"}}
	assert.Equal(t, map[string]string{AnnotationCertificateARN: "arn:d,arn:a,arn:b", AnnotationCertificateCount: "2"}, l.Annotations())
	assert.Equal(t, "0", ListenerCertificates{}.Annotations()[AnnotationCertificateCount])
}
