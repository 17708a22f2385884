package awsfake_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// clients are the real SDK clients, with retries off so that every AWS answer is seen as is.
func clients(t *testing.T, opts awsfake.Options) (*awsfake.Server, *acm.Client, *route53.Client) {
	s := awsfake.New(opts)
	t.Cleanup(s.Close)
	cfg := aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		BaseEndpoint:     aws.String(s.URL),
		RetryMaxAttempts: 1,
	}
	return s, acm.NewFromConfig(cfg), route53.NewFromConfig(cfg)
}

func code(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func request(t *testing.T, c *acm.Client, domain, token string) string {
	t.Helper()
	out, err := c.RequestCertificate(context.Background(), &acm.RequestCertificateInput{
		DomainName: aws.String(domain), ValidationMethod: acmtypes.ValidationMethodDns, IdempotencyToken: aws.String(token),
		Tags: []acmtypes.Tag{{Key: aws.String("owner"), Value: aws.String("test")}},
	})
	require.NoError(t, err)
	return aws.ToString(out.CertificateArn)
}

func TestACMIdempotencyTokenHoldsForAnHour(t *testing.T) {
	clk := &clock{}
	_, c, _ := clients(t, awsfake.Options{Clock: clk})
	a := request(t, c, "a.example.com", "tok1")
	assert.Equal(t, a, request(t, c, "a.example.com", "tok1"), "same token, same certificate")
	assert.NotEqual(t, a, request(t, c, "a.example.com", "tok2"), "another token, another certificate")
	clk.Advance(61 * time.Minute)
	assert.NotEqual(t, a, request(t, c, "a.example.com", "tok1"), "after an hour the token is forgotten")

	tags, err := c.ListTagsForCertificate(context.Background(), &acm.ListTagsForCertificateInput{CertificateArn: aws.String(a)})
	require.NoError(t, err)
	assert.Equal(t, "owner", aws.ToString(tags.Tags[0].Key), "tags given on the request are kept")
}

func TestACMValidationRecordAndIssuance(t *testing.T) {
	clk := &clock{}
	s, c, r := clients(t, awsfake.Options{Clock: clk, ValidationRecordDelay: time.Second, IssueDelay: 5 * time.Second})
	ctx := context.Background()
	zone := s.Route53.AddZone("example.com")
	arn := request(t, c, "shop.example.com", "t")
	describe := func() *acmtypes.CertificateDetail {
		out, err := c.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
		require.NoError(t, err)
		return out.Certificate
	}
	assert.Nil(t, describe().DomainValidationOptions[0].ResourceRecord, "no record in the first moments")
	wild := request(t, c, "*.shop.example.com", "w")
	clk.Advance(time.Second)
	rr := describe().DomainValidationOptions[0].ResourceRecord
	require.NotNil(t, rr)
	assert.Regexp(t, `^_[0-9a-f]{32}\.shop\.example\.com\.$`, aws.ToString(rr.Name))
	wout, err := c.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(wild)})
	require.NoError(t, err)
	assert.Equal(t, aws.ToString(rr.Name), aws.ToString(wout.Certificate.DomainValidationOptions[0].ResourceRecord.Name), "a name and its wildcard share one record")

	assert.Equal(t, acmtypes.CertificateStatusPendingValidation, describe().Status)
	_, err = r.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &r53types.ChangeBatch{
		Changes: []r53types.Change{{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: rr.Name, Type: r53types.RRTypeCname, TTL: aws.Int64(300), ResourceRecords: []r53types.ResourceRecord{{Value: rr.Value}}}}}}})
	require.NoError(t, err)
	assert.Equal(t, acmtypes.CertificateStatusPendingValidation, describe().Status, "validation takes IssueDelay")
	clk.Advance(5 * time.Second)
	assert.Equal(t, acmtypes.CertificateStatusIssued, describe().Status, "issued once the CNAME has been there long enough")

	s.ACM.Fail(wild, "FAILED", "CAA_ERROR")
	wout, err = c.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(wild)})
	require.NoError(t, err)
	assert.Equal(t, acmtypes.CertificateStatusFailed, wout.Certificate.Status)
	assert.Equal(t, acmtypes.FailureReasonCaaError, wout.Certificate.FailureReason)
}

func TestACMFailsAValidatedCertificateThatCAAForbidsAmazon(t *testing.T) {
	clk := &clock{}
	s, c, _ := clients(t, awsfake.Options{Clock: clk, IssueDelay: time.Second})
	ctx := context.Background()
	zone := s.Route53.AddZone("example.com")
	caa := func(values ...string) {
		s.Route53.Put(zone, awsfake.RecordSet{Name: "example.com.", Type: "CAA", TTL: aws.Int64(300), Values: values})
	}
	validate := func(domain string) {
		name, value := awsfake.ValidationRecord(domain)
		s.Route53.Put(zone, awsfake.RecordSet{Name: name, Type: "CNAME", TTL: aws.Int64(300), Values: []string{value}})
	}
	describe := func(arn string) *acmtypes.CertificateDetail {
		out, err := c.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
		require.NoError(t, err)
		return out.Certificate
	}
	caa(`0 issue "letsencrypt.org"`, `0 iodef "mailto:sec@example.com"`)
	validate("shop.example.com")
	failed := request(t, c, "shop.example.com", "a")
	describe(failed) // ACM sees the record from now on
	clk.Advance(time.Second)
	cert := describe(failed)
	assert.Equal(t, acmtypes.CertificateStatusFailed, cert.Status, "the parent's CAA set lets only another CA issue")
	assert.Equal(t, acmtypes.FailureReasonCaaError, cert.FailureReason)

	caa(`0 issue "letsencrypt.org"`, `0 issue "amazon.com"`)
	clk.Advance(time.Second)
	assert.Equal(t, acmtypes.CertificateStatusFailed, describe(failed).Status, "a failed certificate stays failed once CAA is fixed")
	fixed := request(t, c, "shop.example.com", "b")
	describe(fixed)
	clk.Advance(time.Second)
	assert.Equal(t, acmtypes.CertificateStatusIssued, describe(fixed).Status, "a new request after the fix is issued")

	caa(`0 issue "amazon.com"`, `0 issuewild ";"`)
	validate("*.wild.example.com")
	wild := request(t, c, "*.wild.example.com", "w")
	describe(wild)
	clk.Advance(time.Second)
	assert.Equal(t, acmtypes.FailureReasonCaaError, describe(wild).FailureReason, "issuewild governs a wildcard")
}

func TestACMDeleteAndList(t *testing.T) {
	s, c, _ := clients(t, awsfake.Options{})
	ctx := context.Background()
	var arns []string
	for i := 0; i < 5; i++ {
		arns = append(arns, request(t, c, fmt.Sprintf("h%d.example.com", i), fmt.Sprint(i)))
	}
	s.ACM.SetInUse(arns[0], []string{"lb"})
	_, err := c.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(arns[0])})
	assert.Equal(t, "ResourceInUseException", code(err))
	var inUse *acmtypes.ResourceInUseException
	assert.True(t, errors.As(err, &inUse), "the SDK sees the typed error")
	_, err = c.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(arns[1])})
	require.NoError(t, err)
	_, err = c.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arns[1])})
	assert.Equal(t, "ResourceNotFoundException", code(err))

	var seen []string
	p := acm.NewListCertificatesPaginator(c, &acm.ListCertificatesInput{MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		require.NoError(t, err)
		pages++
		for _, s := range out.CertificateSummaryList {
			seen = append(seen, aws.ToString(s.CertificateArn))
		}
	}
	assert.Equal(t, 2, pages)
	assert.Len(t, seen, 4)
	out, err := c.ListCertificates(ctx, &acm.ListCertificatesInput{CertificateStatuses: []acmtypes.CertificateStatus{acmtypes.CertificateStatusIssued}})
	require.NoError(t, err)
	assert.Empty(t, out.CertificateSummaryList, "the status filter applies")
}

func change(action r53types.ChangeAction, name, typ string, values ...string) r53types.Change {
	rs := &r53types.ResourceRecordSet{Name: aws.String(name), Type: r53types.RRType(typ), TTL: aws.Int64(60)}
	for _, v := range values {
		rs.ResourceRecords = append(rs.ResourceRecords, r53types.ResourceRecord{Value: aws.String(v)})
	}
	return r53types.Change{Action: action, ResourceRecordSet: rs}
}

func TestRoute53Rules(t *testing.T) {
	s, _, r := clients(t, awsfake.Options{})
	ctx := context.Background()
	zone := s.Route53.AddZone("example.com")
	send := func(cs ...r53types.Change) error {
		_, err := r.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &r53types.ChangeBatch{Changes: cs}})
		return err
	}
	invalid := func(t *testing.T, err error, msg string) {
		t.Helper()
		var icb *r53types.InvalidChangeBatch
		require.True(t, errors.As(err, &icb), "want InvalidChangeBatch, got %v", err)
		assert.Contains(t, strings.Join(icb.Messages, " "), msg)
	}
	require.NoError(t, send(change(r53types.ChangeActionCreate, "A.Example.com", "A", "192.0.2.1")))
	assert.Equal(t, "a.example.com.", s.Route53.Records(zone)[0].Name, "names are normalized")

	invalid(t, send(change(r53types.ChangeActionCreate, "a.example.com.", "A", "192.0.2.2")), "already exists")
	invalid(t, send(change(r53types.ChangeActionDelete, "a.example.com", "A", "192.0.2.9")), "do not match")
	invalid(t, send(change(r53types.ChangeActionDelete, "b.example.com", "A", "192.0.2.9")), "not found")
	invalid(t, send(change(r53types.ChangeActionCreate, "a.example.com", "CNAME", "x.example.net")), "conflicts with other records")
	invalid(t, send(change(r53types.ChangeActionCreate, "a.example.org", "A", "192.0.2.1")), "not permitted in zone")

	err := send(change(r53types.ChangeActionCreate, "c.example.com", "A", "192.0.2.3"), change(r53types.ChangeActionCreate, "a.example.com", "A", "192.0.2.1"))
	invalid(t, err, "already exists")
	assert.Len(t, s.Route53.Records(zone), 1, "a failing batch applies nothing")

	// Every invalid change of a batch gets its own message, in Route53's words, and the valid
	// changes beside them are not applied either.
	err = send(change(r53types.ChangeActionCreate, "c.example.com", "A", "192.0.2.3"),
		change(r53types.ChangeActionCreate, "A.example.com", "A", "192.0.2.1"),
		change(r53types.ChangeActionDelete, "d.example.com", "TXT", `"x"`),
		change(r53types.ChangeActionCreate, "a.example.com", "CNAME", "x.example.net"))
	var icb *r53types.InvalidChangeBatch
	require.ErrorAs(t, err, &icb)
	assert.Equal(t, []string{
		"Tried to create resource record set [name='a.example.com.', type='A'] but it already exists",
		"Tried to delete resource record set [name='d.example.com.', type='TXT'] but it was not found",
		"RRSet of type CNAME with DNS name a.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com.",
	}, icb.Messages)
	assert.Len(t, s.Route53.Records(zone), 1, "nothing of a rejected batch is applied, its valid changes included")
	invalid(t, send(change(r53types.ChangeActionCreate, "A.example.com", "TXT", `"x"`),
		change(r53types.ChangeActionCreate, "a.example.com", "CNAME", "x.example.net")),
		"RRSet of type CNAME with DNS name a.example.com. is not permitted")

	require.NoError(t, send(change(r53types.ChangeActionDelete, "a.example.com", "A", "192.0.2.1")), "an exact DELETE works")

	many := make([]string, 501)
	for i := range many {
		many[i] = fmt.Sprintf("192.0.2.%d", i%250)
	}
	invalid(t, send(change(r53types.ChangeActionUpsert, "m.example.com", "A", many...)), "records limit of 1000")
	require.NoError(t, send(change(r53types.ChangeActionCreate, "m.example.com", "A", many...)), "501 records fit when not UPSERTed")
	long := strings.Repeat("x", 250)
	var txt []string
	for i := 0; i < 65; i++ {
		txt = append(txt, fmt.Sprintf(`"%d%s"`, i, long))
	}
	invalid(t, send(change(r53types.ChangeActionUpsert, "t.example.com", "TXT", txt...)), "characters limit of 32000")

	_, err = r.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &r53types.ChangeBatch{
		Changes: []r53types.Change{{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: aws.String("*.example.com"), Type: r53types.RRTypeA,
			AliasTarget: &r53types.AliasTarget{DNSName: aws.String("lb.elb.amazonaws.com"), HostedZoneId: aws.String("Z35SXDOTRQ7X7K")}}}}}})
	require.NoError(t, err, "ALIAS records")
	out, err := r.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone), MaxItems: aws.Int32(1)})
	require.NoError(t, err)
	assert.True(t, out.IsTruncated, "paging")
	assert.Equal(t, `\052.example.com.`, aws.ToString(out.ResourceRecordSets[0].Name), "a wildcard name is listed escaped, as Route53 does")
	next, err := r.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone),
		StartRecordName: out.NextRecordName, StartRecordType: out.NextRecordType})
	require.NoError(t, err)
	assert.Equal(t, "m.example.com.", aws.ToString(next.ResourceRecordSets[0].Name))
}

func TestRoute53ChangesArePendingThenInSync(t *testing.T) {
	clk := &clock{}
	s, _, r := clients(t, awsfake.Options{Clock: clk, ChangePendingFor: 10 * time.Second})
	ctx := context.Background()
	zone := s.Route53.AddZone("example.com")
	out, err := r.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &r53types.ChangeBatch{
		Changes: []r53types.Change{change(r53types.ChangeActionCreate, "a.example.com", "A", "192.0.2.1")}}})
	require.NoError(t, err)
	assert.Equal(t, r53types.ChangeStatusPending, out.ChangeInfo.Status)
	_, err = r.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &r53types.ChangeBatch{
		Changes: []r53types.Change{change(r53types.ChangeActionCreate, "b.example.com", "A", "192.0.2.1")}}})
	assert.Equal(t, "PriorRequestNotComplete", code(err), "an overlapping change to one zone is refused")
	assert.Equal(t, 2, s.CallsFor("route53:ChangeResourceRecordSets", zone), "a zone's record calls count for it, refused ones too")
	clk.Advance(10 * time.Second)
	got, err := r.GetChange(ctx, &route53.GetChangeInput{Id: out.ChangeInfo.Id})
	require.NoError(t, err)
	assert.Equal(t, r53types.ChangeStatusInsync, got.ChangeInfo.Status)
}

func TestThrottlingAndFaults(t *testing.T) {
	s, c, _ := clients(t, awsfake.Options{})
	ctx := context.Background()
	s.SetRate("acm:DescribeCertificate", 1, 1)
	arn := request(t, c, "a.example.com", "t")
	_, err := c.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
	require.NoError(t, err)
	_, err = c.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
	assert.Equal(t, "ThrottlingException", code(err), "past its rate an operation is throttled")
	assert.Equal(t, 1, s.Throttled("acm:DescribeCertificate"))
	assert.Equal(t, 2, s.Calls("acm:DescribeCertificate"))

	s.SetFault("acm:RequestCertificate", &awsfake.Fault{Code: "AccessDeniedException", Times: 1})
	_, err = c.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("b.example.com"), ValidationMethod: acmtypes.ValidationMethodDns})
	assert.Equal(t, "AccessDeniedException", code(err))
	request(t, c, "b.example.com", "x") // the fault fired once
	assert.Equal(t, 2, s.CallsFor("acm:RequestCertificate", "b.example.com"), "the refused call counts for the name it asked for")
	assert.Equal(t, 1, s.CallsFor("acm:RequestCertificate", "a.example.com"))
	assert.Equal(t, 2, s.CallsFor("acm:DescribeCertificate", arn), "calls that name a certificate count for it")
}

func TestELBLoadBalancersListenersAndCertificates(t *testing.T) {
	s, c, _ := clients(t, awsfake.Options{})
	ctx := context.Background()
	e := elbv2.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")})
	lbOut, err := e.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("k8s-public-1"),
		Scheme: elbtypes.LoadBalancerSchemeEnumInternetFacing, Tags: []elbtypes.Tag{{Key: aws.String("gateway"), Value: aws.String("public-1")}}})
	require.NoError(t, err)
	lb := lbOut.LoadBalancers[0]
	assert.Contains(t, aws.ToString(lb.DNSName), "k8s-public-1-")
	assert.Equal(t, awsfake.ALBZoneID, aws.ToString(lb.CanonicalHostedZoneId))
	_, err = e.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("k8s-public-1"), Scheme: elbtypes.LoadBalancerSchemeEnumInternal})
	assert.Equal(t, "DuplicateLoadBalancerName", code(err))
	assert.Contains(t, err.Error(), "exists, but with different settings")

	desc, err := e.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"k8s-public-1"}})
	require.NoError(t, err)
	assert.Equal(t, aws.ToString(lb.LoadBalancerArn), aws.ToString(desc.LoadBalancers[0].LoadBalancerArn))
	_, err = e.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"missing"}})
	var nf *elbtypes.LoadBalancerNotFoundException
	assert.True(t, errors.As(err, &nf), "typed LoadBalancerNotFound, got %v", err)

	certA, certB := request(t, c, "a.example.com", "a"), request(t, c, "b.example.com", "b")
	notFound := []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse,
		FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("404")}}}
	_, err = e.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttps, Port: aws.Int32(443),
		DefaultActions: notFound,
		Certificates:   []elbtypes.Certificate{{CertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/missing")}}})
	assert.Equal(t, "CertificateNotFound", code(err))
	ln, err := e.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttps, Port: aws.Int32(443),
		DefaultActions: notFound,
		Certificates:   []elbtypes.Certificate{{CertificateArn: aws.String(certA)}}})
	require.NoError(t, err)
	listener := ln.Listeners[0].ListenerArn
	_, err = e.AddListenerCertificates(ctx, &elbv2.AddListenerCertificatesInput{ListenerArn: listener, Certificates: []elbtypes.Certificate{{CertificateArn: aws.String(certB)}}})
	require.NoError(t, err)
	certs, err := e.DescribeListenerCertificates(ctx, &elbv2.DescribeListenerCertificatesInput{ListenerArn: listener})
	require.NoError(t, err)
	require.Len(t, certs.Certificates, 2)
	assert.True(t, aws.ToBool(certs.Certificates[0].IsDefault))

	_, err = c.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(certB)})
	assert.Equal(t, "ResourceInUseException", code(err), "a certificate on a listener is in use")
	_, err = e.RemoveListenerCertificates(ctx, &elbv2.RemoveListenerCertificatesInput{ListenerArn: listener, Certificates: []elbtypes.Certificate{{CertificateArn: aws.String(certB)}}})
	require.NoError(t, err)
	_, err = c.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(certB)})
	assert.NoError(t, err, "detached, it can be deleted")

	tags, err := e.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{aws.ToString(lb.LoadBalancerArn)}})
	require.NoError(t, err)
	assert.Equal(t, "public-1", aws.ToString(tags.TagDescriptions[0].Tags[0].Value))
}

// TestELBCreateIsIdempotent: like ELB, a second create with the same name and settings returns
// the existing load balancer, whoever asks: naming another's ALB adopts it. Other settings are
// refused.
func TestELBCreateIsIdempotent(t *testing.T) {
	s, _, _ := clients(t, awsfake.Options{})
	ctx := context.Background()
	e := elbv2.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")})
	in := func(scheme elbtypes.LoadBalancerSchemeEnum, ip elbtypes.IpAddressType, typ elbtypes.LoadBalancerTypeEnum) *elbv2.CreateLoadBalancerInput {
		return &elbv2.CreateLoadBalancerInput{Name: aws.String("k8s-pool-a"), Scheme: scheme, IpAddressType: ip, Type: typ}
	}
	first, err := e.CreateLoadBalancer(ctx, in(elbtypes.LoadBalancerSchemeEnumInternetFacing, elbtypes.IpAddressTypeIpv4, elbtypes.LoadBalancerTypeEnumApplication))
	require.NoError(t, err)
	again, err := e.CreateLoadBalancer(ctx, in(elbtypes.LoadBalancerSchemeEnumInternetFacing, "", ""))
	require.NoError(t, err, "the defaults (ipv4, application) are the same settings")
	assert.Equal(t, aws.ToString(first.LoadBalancers[0].LoadBalancerArn), aws.ToString(again.LoadBalancers[0].LoadBalancerArn))
	assert.Equal(t, aws.ToString(first.LoadBalancers[0].DNSName), aws.ToString(again.LoadBalancers[0].DNSName))
	assert.Len(t, s.ELB.LoadBalancers(), 1)
	for _, other := range []*elbv2.CreateLoadBalancerInput{
		in(elbtypes.LoadBalancerSchemeEnumInternal, elbtypes.IpAddressTypeIpv4, elbtypes.LoadBalancerTypeEnumApplication),
		in(elbtypes.LoadBalancerSchemeEnumInternetFacing, elbtypes.IpAddressTypeDualstack, elbtypes.LoadBalancerTypeEnumApplication),
		in(elbtypes.LoadBalancerSchemeEnumInternetFacing, elbtypes.IpAddressTypeIpv4, elbtypes.LoadBalancerTypeEnumNetwork),
	} {
		_, err := e.CreateLoadBalancer(ctx, other)
		assert.Equal(t, "DuplicateLoadBalancerName", code(err), "%+v", other)
		assert.Contains(t, fmt.Sprint(err), "A load balancer with the same name 'k8s-pool-a' exists, but with different settings")
	}
	assert.Len(t, s.ELB.LoadBalancers(), 1)
}

func TestRoute53RefusesAnAliasToALoadBalancerThatDoesNotExist(t *testing.T) {
	s, _, r := clients(t, awsfake.Options{AliasTargetsMustExist: true})
	ctx := context.Background()
	zone := s.Route53.AddZone("example.com")
	e := elbv2.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")})
	lb, err := e.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("k8s-public-1")})
	require.NoError(t, err)
	alias := func(name, target string) r53types.Change {
		return r53types.Change{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: aws.String(name), Type: r53types.RRTypeA,
			AliasTarget: &r53types.AliasTarget{DNSName: aws.String(target), HostedZoneId: aws.String(awsfake.ALBZoneID), EvaluateTargetHealth: true}}}
	}
	send := func(cs ...r53types.Change) error {
		_, err := r.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &r53types.ChangeBatch{Changes: cs}})
		return err
	}
	err = send(alias("a.example.com", "dualstack."+aws.ToString(lb.LoadBalancers[0].DNSName)),
		alias("b.example.com", "k8s-gone-0123456789.us-east-1.elb.amazonaws.com"))
	var icb *r53types.InvalidChangeBatch
	require.ErrorAs(t, err, &icb)
	assert.Equal(t, []string{"Tried to create an alias that targets k8s-gone-0123456789.us-east-1.elb.amazonaws.com., type A in zone Z35SXDOTRQ7X7K, but that target was not found"},
		icb.Messages, "Route53's words")
	assert.Empty(t, s.Route53.Records(zone), "and nothing of the batch is applied")
	require.NoError(t, send(alias("a.example.com", "dualstack."+aws.ToString(lb.LoadBalancers[0].DNSName))), "an ALIAS to a load balancer that exists is made")
}
