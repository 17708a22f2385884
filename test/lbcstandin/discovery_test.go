package lbcstandin

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/utils/ptr"

	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// issuedCertificate requests a certificate from the AWS test server and validates it, so that
// it is ISSUED.
func issuedCertificate(t *testing.T, s *awsfake.Server, c *acm.Client, zone, domain string) string {
	t.Helper()
	out, err := c.RequestCertificate(context.Background(), &acm.RequestCertificateInput{
		DomainName: aws.String(domain), ValidationMethod: acmtypes.ValidationMethodDns, IdempotencyToken: aws.String(t.Name()[:min(len(t.Name()), 10)] + "x"),
	})
	require.NoError(t, err)
	name, value := awsfake.ValidationRecord(domain)
	s.Route53.Put(zone, awsfake.RecordSet{Name: name, Type: "CNAME", TTL: ptr.To[int64](300), Values: []string{value}})
	return aws.ToString(out.CertificateArn)
}

func TestDiscoverCertificatesByListenerHostname(t *testing.T) {
	s := awsfake.New(awsfake.Options{})
	t.Cleanup(s.Close)
	client := acm.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1})
	zone := s.Route53.AddZone("example.com")
	ctx := context.Background()

	shop := issuedCertificate(t, s, client, zone, "shop.example.com")
	wildcard := issuedCertificate(t, s, client, zone, "*.apps.example.com")
	_, err := client.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("pending.example.com"), ValidationMethod: acmtypes.ValidationMethodDns})
	require.NoError(t, err)

	t.Run("an exact name and a wildcard one label above are found, the first sorted ARN is the default", func(t *testing.T) {
		got, err := DiscoverCertificates(ctx, client, []string{"shop.example.com", "api.apps.example.com"})
		require.NoError(t, err)
		all := append([]string{got.DefaultCertificate}, got.Certificates...)
		assert.ElementsMatch(t, []string{shop, wildcard}, all)
		assert.Equal(t, min(shop, wildcard), got.DefaultCertificate)
	})
	t.Run("a name is matched without regard to case", func(t *testing.T) {
		got, err := DiscoverCertificates(ctx, client, []string{"SHOP.example.com"})
		require.NoError(t, err)
		assert.Equal(t, shop, got.DefaultCertificate)
		assert.Empty(t, got.Certificates)
	})
	t.Run("a wildcard does not cover two labels below it", func(t *testing.T) {
		_, err := DiscoverCertificates(ctx, client, []string{"a.b.apps.example.com"})
		assert.EqualError(t, err, "no certificate found for host: a.b.apps.example.com")
	})
	t.Run("a certificate not yet issued is not discovered", func(t *testing.T) {
		_, err := DiscoverCertificates(ctx, client, []string{"pending.example.com"})
		assert.EqualError(t, err, "no certificate found for host: pending.example.com")
	})
}
