package awsclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opendi/gateway-orchestrator/internal/awsclient"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

func acmClient(t *testing.T) (*awsfake.Server, *acm.Client) {
	s := awsfake.New(awsfake.Options{})
	t.Cleanup(s.Close)
	cfg, err := awsclient.Load(context.Background(), awsclient.Config{
		Endpoint: s.URL, Region: "us-east-1", MaxBackoff: 10 * time.Millisecond, Rates: map[string]float64{"acm:*": 1000, "acm:RequestCertificate": 1000},
	}, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKID", "secret", "")))
	require.NoError(t, err)
	return s, acm.NewFromConfig(cfg)
}

func requestCert(c *acm.Client, domain string) error {
	_, err := c.RequestCertificate(context.Background(), &acm.RequestCertificateInput{
		DomainName: aws.String(domain), ValidationMethod: acmtypes.ValidationMethodDns,
	})
	return err
}

func TestQuotaErrorsAreNotRetriedNorCalledThrottling(t *testing.T) {
	s, c := acmClient(t)
	s.ACM.SetQuota(1, 0)
	require.NoError(t, requestCert(c, "a.example.com"))

	err := requestCert(c, "b.example.com")
	require.Error(t, err)
	assert.True(t, awsclient.IsQuotaExceeded(err))
	assert.Equal(t, 2, s.Calls("acm:RequestCertificate"), "LimitExceededException is answered once, not retried")
	msg := awsclient.Describe("acm:RequestCertificate", err)
	assert.NotContains(t, msg, "throttling")
	assert.Contains(t, msg, "Cannot request more certificates in this account", "AWS's own message")
}

func TestThrottlingIsStillRetried(t *testing.T) {
	s, c := acmClient(t)
	s.SetFault("acm:RequestCertificate", &awsfake.Fault{Code: "ThrottlingException", Times: 2})
	require.NoError(t, requestCert(c, "a.example.com"))
	assert.Equal(t, 3, s.Calls("acm:RequestCertificate"))
	assert.False(t, awsclient.IsQuotaExceeded(&acmtypes.ThrottlingException{}))
}
