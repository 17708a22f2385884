package awsclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opendi/gateway-orchestrator/internal/awsclient"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// sdkError wraps an API error the way the SDK returns it from a call: an OperationError around
// the HTTP response error around the deserialized error.
func sdkError(service, op string, status int, apiErr error) error {
	return &smithy.OperationError{ServiceID: service, OperationName: op, Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: apiErr},
		RequestID:     "req-1",
	}}
}

func TestIsAccessDeniedMatchesTheSDKsTypedErrors(t *testing.T) {
	iamMessage := "User: arn:aws:sts::123456789012:assumed-role/orchestrator/1 is not authorized to perform: route53:ChangeResourceRecordSets"
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"ACM's modelled AccessDeniedException", sdkError("ACM", "RequestCertificate", 400, &acmtypes.AccessDeniedException{Message: aws.String(iamMessage)}), true},
		{"Route53's AccessDenied, which its model does not declare", sdkError("Route 53", "ChangeResourceRecordSets", 403, &smithy.GenericAPIError{Code: "AccessDenied", Message: iamMessage, Fault: smithy.FaultClient}), true},
		{"Elastic Load Balancing's AccessDenied", sdkError("Elastic Load Balancing v2", "DescribeLoadBalancers", 403, &smithy.GenericAPIError{Code: "AccessDenied", Message: iamMessage}), true},
		{"a JSON service's AccessDeniedException that the operation does not declare", sdkError("ACM", "ListCertificates", 400, &smithy.GenericAPIError{Code: "AccessDeniedException"}), true},
		{"a denial wrapped once more by the caller", fmt.Errorf("requesting the certificate: %w", sdkError("ACM", "RequestCertificate", 400, &acmtypes.AccessDeniedException{})), true},
		{"throttling is not a denial", sdkError("ACM", "RequestCertificate", 400, &acmtypes.ThrottlingException{}), false},
		{"an invalid request is not a denial", sdkError("ACM", "RequestCertificate", 400, &acmtypes.ValidationException{}), false},
		{"Route53's NotAuthorizedException is about VPC associations, not IAM", sdkError("Route 53", "AssociateVPCWithHostedZone", 401, &r53types.NotAuthorizedException{}), false},
		{"credentials STS refuses are not a missing permission", sdkError("STS", "GetCallerIdentity", 403, &smithy.GenericAPIError{Code: "InvalidClientTokenId"}), false},
		{"text that reads like a denial but did not come from AWS", errors.New("AccessDenied: User is not authorized"), false},
		{"a canceled call", sdkError("ACM", "RequestCertificate", 0, context.Canceled), false},
		{"no error", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, awsclient.IsAccessDenied(tc.err))
		})
	}
}

// TestADeniedCallIsClassifiedInEachProtocol sends real SDK calls to the AWS test server, which
// answers as IAM does in each protocol, and classifies what the SDK returns.
func TestADeniedCallIsClassifiedInEachProtocol(t *testing.T) {
	s := awsfake.New(awsfake.Options{})
	t.Cleanup(s.Close)
	cfg, err := awsclient.Load(context.Background(), awsclient.Config{
		Endpoint: s.URL, Region: "us-east-1", MaxBackoff: 10 * time.Millisecond,
		Rates: map[string]float64{"acm:*": 1000, "acm:RequestCertificate": 1000, "route53:*": 1000, "elasticloadbalancing:*": 1000},
	}, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDORCHESTRATOR", "secret", "")))
	require.NoError(t, err)
	ctx := context.Background()
	acmClient, r53, elb := acm.NewFromConfig(cfg), route53.NewFromConfig(cfg), elbv2.NewFromConfig(cfg)
	for _, tc := range []struct {
		op     string
		status int
		call   func() error
	}{
		{"acm:RequestCertificate", http.StatusBadRequest, func() error {
			_, err := acmClient.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("a.example.com"), ValidationMethod: acmtypes.ValidationMethodDns})
			return err
		}},
		{"acm:DescribeCertificate", http.StatusBadRequest, func() error {
			_, err := acmClient.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/x")})
			return err
		}},
		{"route53:ListResourceRecordSets", http.StatusForbidden, func() error {
			_, err := r53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String("Z1")})
			return err
		}},
		{"route53:ChangeResourceRecordSets", http.StatusForbidden, func() error {
			_, err := r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String("Z1"), ChangeBatch: &r53types.ChangeBatch{
				Changes: []r53types.Change{{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{
					Name: aws.String("a.example.com."), Type: r53types.RRTypeTxt, TTL: aws.Int64(300), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(`"x"`)}},
				}}},
			}})
			return err
		}},
		{"elasticloadbalancing:DescribeLoadBalancers", http.StatusForbidden, func() error {
			_, err := elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
			return err
		}},
	} {
		t.Run(tc.op, func(t *testing.T) {
			s.SetFault(tc.op, &awsfake.Fault{Deny: true})
			t.Cleanup(func() { s.SetFault(tc.op, nil) })
			err := tc.call()
			require.Error(t, err)
			assert.True(t, awsclient.IsAccessDenied(err), "classified as denied: %v", err)
			var resp *awshttp.ResponseError
			require.ErrorAs(t, err, &resp)
			assert.Equal(t, tc.status, resp.HTTPStatusCode(), "the status AWS answers a denial with")
			assert.Equal(t, 1, s.Calls(tc.op), "a denial is not retried")
			msg := awsclient.Describe(tc.op, err)
			assert.Contains(t, msg, "missing AWS permission for "+tc.op)
			assert.Contains(t, awsclient.Message(err), "user/AKIDORCHESTRATOR is not authorized to perform: "+tc.op, "IAM's message names the caller and the action")
		})
	}
}
