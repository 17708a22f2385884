package awsfake_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

func requestDomain(c *acm.Client, domain, token string) (*acm.RequestCertificateOutput, error) {
	return c.RequestCertificate(context.Background(), &acm.RequestCertificateInput{
		DomainName: aws.String(domain), ValidationMethod: acmtypes.ValidationMethodDns, IdempotencyToken: aws.String(token),
	})
}

func TestACMRejectsADomainNameOver64Characters(t *testing.T) {
	s, c, _ := clients(t, awsfake.Options{})
	suffix := ".example.com" // 12 characters
	for _, tc := range []struct {
		name   string
		domain string
		ok     bool
	}{
		{"64 characters are accepted", strings.Repeat("a", 52) + suffix, true},
		{"65 characters are rejected", strings.Repeat("a", 53) + suffix, false},
		{"a wildcard counts its *.", "*." + strings.Repeat("a", 51) + suffix, false},
		{"a 64-character wildcard is accepted", "*." + strings.Repeat("a", 50) + suffix, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := requestDomain(c, tc.domain, "tok")
			if tc.ok {
				require.NoError(t, err)
				return
			}
			var invalid *acmtypes.ValidationException
			require.ErrorAs(t, err, &invalid, "the SDK's typed ValidationException")
			assert.Contains(t, invalid.ErrorMessage(), "64 characters")
			assert.Empty(t, s.ACM.ForDomain(tc.domain), "no certificate is made")
		})
	}
}

func TestACMQuotasAnswerLimitExceeded(t *testing.T) {
	clk := &clock{}
	s, c, _ := clients(t, awsfake.Options{Clock: clk})
	ctx := context.Background()

	t.Run("the certificates in the account", func(t *testing.T) {
		s.ACM.SetQuota(2, 0)
		t.Cleanup(func() { s.ACM.SetQuota(0, 0) })
		a, err := requestDomain(c, "a.example.com", "a")
		require.NoError(t, err)
		_, err = requestDomain(c, "b.example.com", "b")
		require.NoError(t, err)
		_, err = requestDomain(c, "c.example.com", "c")
		var limit *acmtypes.LimitExceededException
		require.ErrorAs(t, err, &limit)
		assert.Contains(t, limit.ErrorMessage(), "Cannot request more certificates")
		again, err := requestDomain(c, "a.example.com", "a")
		require.NoError(t, err, "a retried request with its token makes nothing new and passes")
		assert.Equal(t, aws.ToString(a.CertificateArn), aws.ToString(again.CertificateArn))

		_, err = c.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: a.CertificateArn})
		require.NoError(t, err)
		_, err = requestDomain(c, "c.example.com", "c")
		require.NoError(t, err, "a deleted certificate frees its place")
	})

	t.Run("the certificates requested in a year, deleted ones included", func(t *testing.T) {
		for _, arn := range s.ACM.Certificates() {
			_, err := c.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(arn)})
			require.NoError(t, err)
		}
		s.ACM.SetQuota(0, 4) // three were requested in the first subtest
		t.Cleanup(func() { s.ACM.SetQuota(0, 0) })
		_, err := requestDomain(c, "d.example.com", "d")
		require.NoError(t, err)
		_, err = requestDomain(c, "e.example.com", "e")
		var limit *acmtypes.LimitExceededException
		require.ErrorAs(t, err, &limit)
		assert.Equal(t, "Error: you have reached your limit of 4 certificates in the last year.", limit.ErrorMessage())

		clk.Advance(366 * 24 * time.Hour)
		_, err = requestDomain(c, "e.example.com", "e2")
		require.NoError(t, err, "a year later the requests no longer count")
	})
}

func TestACMDoesNotFindANewCertificateForAShortWhile(t *testing.T) {
	clk := &clock{}
	_, c, _ := clients(t, awsfake.Options{Clock: clk, NotFoundAfterRequest: 3 * time.Second})
	ctx := context.Background()
	arn := aws.String(request(t, c, "new.example.com", "tok"))

	var notFound *acmtypes.ResourceNotFoundException
	_, err := c.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: arn})
	require.ErrorAs(t, err, &notFound, "DescribeCertificate right after the request")
	_, err = c.ListTagsForCertificate(ctx, &acm.ListTagsForCertificateInput{CertificateArn: arn})
	require.ErrorAs(t, err, &notFound, "ListTagsForCertificate right after the request")
	_, err = c.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: arn})
	require.ErrorAs(t, err, &notFound, "DeleteCertificate right after the request")

	clk.Advance(3 * time.Second)
	out, err := c.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: arn})
	require.NoError(t, err, "the certificate was there all along")
	assert.Equal(t, "new.example.com", aws.ToString(out.Certificate.DomainName))
	_, err = c.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: arn})
	require.NoError(t, err)
	_, err = c.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: arn})
	require.True(t, errors.As(err, &notFound), "and is gone once deleted")
}

func TestACMReportsExpiryAndRenewalOfAnIssuedCertificate(t *testing.T) {
	s, c, _ := clients(t, awsfake.Options{})
	ctx := context.Background()
	zone := s.Route53.AddZone("example.com")
	arn := request(t, c, "renew.example.com", "t")
	name, value := awsfake.ValidationRecord("renew.example.com")
	s.Route53.Put(zone, awsfake.RecordSet{Name: name, Type: "CNAME", TTL: aws.Int64(300), Values: []string{value}})
	describe := func() *acmtypes.CertificateDetail {
		out, err := c.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
		require.NoError(t, err)
		return out.Certificate
	}
	cert := describe()
	require.Equal(t, acmtypes.CertificateStatusIssued, cert.Status)
	require.NotNil(t, cert.NotAfter)
	assert.InDelta(t, 395, time.Until(*cert.NotAfter).Hours()/24, 1, "valid for 395 days")
	assert.Equal(t, acmtypes.RenewalEligibilityIneligible, cert.RenewalEligibility, "ACM renews only certificates in use")
	assert.Nil(t, cert.RenewalSummary)

	s.ACM.SetInUse(arn, []string{"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/x/1"})
	assert.Equal(t, acmtypes.RenewalEligibilityEligible, describe().RenewalEligibility)
	s.ACM.SetRenewal(arn, "FAILED", "CAA_ERROR")
	rs := describe().RenewalSummary
	require.NotNil(t, rs)
	assert.Equal(t, acmtypes.RenewalStatusFailed, rs.RenewalStatus)
	assert.Equal(t, acmtypes.FailureReasonCaaError, rs.RenewalStatusReason)
}

func TestRoute53ListsEveryValueOfARecordSet(t *testing.T) {
	s, _, r := clients(t, awsfake.Options{})
	zone := s.Route53.AddZone("example.com")
	s.Route53.Put(zone, awsfake.RecordSet{Name: "owners.example.com", Type: "TXT", TTL: aws.Int64(300), Values: []string{`"a"`, `"b"`}})
	out, err := r.ListResourceRecordSets(context.Background(), &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone)})
	require.NoError(t, err)
	require.Len(t, out.ResourceRecordSets, 1)
	var values []string
	for _, rr := range out.ResourceRecordSets[0].ResourceRecords {
		values = append(values, aws.ToString(rr.Value))
	}
	assert.Equal(t, []string{`"a"`, `"b"`}, values, "one ResourceRecord per value")
}

func TestACMLimitsTheNamesOfACertificate(t *testing.T) {
	s, c, _ := clients(t, awsfake.Options{})
	names := func(n int, length int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("%0*d.example.com", length-len(".example.com"), i))
		}
		return out
	}
	for _, tc := range []struct {
		name string
		sans []string
		code string
	}{
		{"ten names with the DomainName are accepted", names(9, 20), ""},
		{"the DomainName repeated among the names counts once", append([]string{"san.example.com"}, names(9, 20)...), ""},
		{"eleven names pass the quota", names(10, 20), "LimitExceededException"},
		{"a name of 253 characters is accepted", names(1, 253), ""},
		{"a name of 254 characters is not", names(1, 254), "ValidationException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(s.ACM.ForDomain("san.example.com"))
			_, err := c.RequestCertificate(context.Background(), &acm.RequestCertificateInput{
				DomainName: aws.String("san.example.com"), ValidationMethod: acmtypes.ValidationMethodDns, SubjectAlternativeNames: tc.sans})
			if tc.code == "" {
				require.NoError(t, err)
				assert.Len(t, s.ACM.ForDomain("san.example.com"), before+1)
				return
			}
			var apiErr smithy.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.code, apiErr.ErrorCode())
			assert.Len(t, s.ACM.ForDomain("san.example.com"), before, "no certificate is made")
		})
	}
}
