package integration

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// route53Alias reads the A record at h back through the Route53 API, as an operator's tooling
// would: the DNS name and hosted zone of its alias target ("" when there is no such record).
func route53Alias(ctx context.Context, t *testing.T, zoneID, h string) (dns, zone string) {
	t.Helper()
	r53 := route53.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(env.AWS.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")})
	out, err := r53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID),
		StartRecordName: aws.String(h), StartRecordType: r53types.RRTypeA, MaxItems: aws.Int32(1)})
	require.NoError(t, err)
	for _, rs := range out.ResourceRecordSets {
		if dnsbatch.Canonical(aws.ToString(rs.Name)) == dnsbatch.Canonical(h) && rs.Type == r53types.RRTypeA && rs.AliasTarget != nil {
			return dnsbatch.Canonical(aws.ToString(rs.AliasTarget.DNSName)), aws.ToString(rs.AliasTarget.HostedZoneId)
		}
	}
	return "", ""
}

// aliasTargetIsTheRecord checks that claim c's status.aliasTarget names the load balancer lb, and
// that the A record in Route53 is an ALIAS of exactly that load balancer.
func aliasTargetIsTheRecord(ctx context.Context, t *testing.T, z *v1alpha1.ManagedZone, c *v1alpha1.DomainClaim, lb string) {
	t.Helper()
	require.NotNil(t, c.Status.AliasTarget, "status.aliasTarget of %s", c.Name)
	got := c.Status.AliasTarget
	assert.Equal(t, lb, dnsbatch.Canonical(got.DNSName))
	assert.Equal(t, awsfake.ALBZoneID, got.HostedZoneID)
	assert.Equal(t, []string{"A"}, got.RecordTypes, "the stand-in's ALBs are IPv4 only")
	assert.False(t, got.Since.IsZero())
	dns, zone := route53Alias(ctx, t, z.Spec.HostedZoneID, c.Spec.Hostname)
	assert.Equal(t, dnsbatch.Canonical(got.DNSName), dns, "the record in Route53 points where the claim says")
	assert.Equal(t, got.HostedZoneID, zone)
}

func TestAliasTargetNamesTheLoadBalancerTheRecordsPointAtAsARouteMovesToItsOwnGateway(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	ns := tenant(t)
	gw := createOwnGateway(t, ns)
	h := "target." + z.Spec.Domain

	// Route53 takes its time: the window in which the ALIAS is moving is long enough to be seen.
	env.AWS.SetFault("route53:ChangeResourceRecordSets", &awsfake.Fault{Latency: 2 * time.Second})
	t.Cleanup(func() { env.AWS.SetFault("route53:ChangeResourceRecordSets", nil) })
	seated, poolALB := seatedThenMoved(t, z, p, ns, h, gw.Name)
	aliasTargetIsTheRecord(ctx, t, z, seated, poolALB)

	own := func() string { return ownALB(ns, gw.Name) }
	early := ""     // what the field named while the pool listener was already gone, if not the own ALB
	moving := false // seen: the status asks for the own ALB, the field still names the pool's, the seat is kept
	var c *v1alpha1.DomainClaim
	require.Eventually(t, func() bool {
		// The listener first: once it is gone, the claim must already name the own ALB.
		has, err := hasPoolListener(p, h)
		if err != nil {
			return false
		}
		c, err = getClaim(h)
		if err != nil {
			return false
		}
		named := "(none)"
		if c.Status.AliasTarget != nil {
			named = dnsbatch.Canonical(c.Status.AliasTarget.DNSName)
		}
		if !has && early == "" && named != own() {
			early = named
		}
		if has && named == poolALB && own() != "" && dnsbatch.Canonical(c.Status.LoadBalancerHostname) == own() {
			moving = true
		}
		return !has && own() != "" && named == own() && c.Status.Gateway == nil
	}, 60*time.Second, 100*time.Millisecond, "the ALIAS moves to the own ALB and the seat is given back")
	assert.True(t, moving, "the seat was kept while the ALIAS was moving")
	assert.Empty(t, early, "make before break, read from the field the pool reads: the listener went only once aliasTarget named the own ALB")
	aliasTargetIsTheRecord(ctx, t, z, c, own())
	assert.False(t, c.Status.AliasTarget.Since.Before(&seated.Status.AliasTarget.Since), "a new load balancer, a later since")
	assert.Contains(t, condition(c, v1alpha1.ConditionDNSRecord).Message, v1alpha1.AliasMessage(h, c.Status.LoadBalancerHostname),
		"the message for people stays")
}
