package gatewaypool

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/internal/backoff"
)

// elbAnswers answers DescribeLoadBalancers with err, or with one ALB, and counts the calls.
type elbAnswers struct {
	err   error
	calls int
	// ipType is the ALB's IP address type ("" for LBC's default, ipv4).
	ipType elbtypes.IpAddressType
}

func (f *elbAnswers) DescribeLoadBalancers(context.Context, *elbv2.DescribeLoadBalancersInput, ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return &elbv2.DescribeLoadBalancersOutput{LoadBalancers: []elbtypes.LoadBalancer{
		{DNSName: aws.String("alb-1.elb.amazonaws.com"), CanonicalHostedZoneId: aws.String("ZALB"), IpAddressType: f.ipType}}}, nil
}

func TestADeniedLoadBalancerLookupBacksOffWithoutAnErrorPerReconcile(t *testing.T) {
	elb := &elbAnswers{err: &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized"}}
	r := &Reconciler{ELB: elb}
	r.elbBackoff.Policy = backoff.Policy{Base: 50 * time.Millisecond, Max: 50 * time.Millisecond}
	hostType := gwv1.HostnameAddressType
	gw := &gwv1.Gateway{Status: gwv1.GatewayStatus{
		Conditions: []metav1.Condition{{Type: string(gwv1.GatewayConditionProgrammed), Status: metav1.ConditionTrue}},
		Addresses:  []gwv1.GatewayStatusAddress{{Type: &hostType, Value: "alb-1.elb.amazonaws.com"}},
	}}
	ctx := context.Background()

	_, _, err := r.loadBalancer(ctx, gw)
	var waiting *backingOff
	require.ErrorAs(t, err, &waiting)
	assert.Equal(t, 1, elb.calls)
	assert.Positive(t, waiting.wait)
	assert.Contains(t, err.Error(), "missing AWS permission for elasticloadbalancing:DescribeLoadBalancers")

	_, _, err = r.loadBalancer(ctx, gw)
	require.ErrorAs(t, err, &waiting, "while the back-off runs")
	assert.Equal(t, 1, elb.calls, "no call while the back-off runs")

	time.Sleep(60 * time.Millisecond)
	elb.err = nil
	host, zone, err := r.loadBalancer(ctx, gw)
	require.NoError(t, err)
	assert.Equal(t, 2, elb.calls)
	assert.Equal(t, "ZALB", zone)
	assert.Equal(t, "alb-1.elb.amazonaws.com", host)
}

func TestATransientLoadBalancerLookupErrorIsReturnedAsItIs(t *testing.T) {
	boom := errors.New("connection reset")
	r := &Reconciler{ELB: &elbAnswers{err: boom}}
	hostType := gwv1.HostnameAddressType
	gw := &gwv1.Gateway{Status: gwv1.GatewayStatus{
		Conditions: []metav1.Condition{{Type: string(gwv1.GatewayConditionProgrammed), Status: metav1.ConditionTrue}},
		Addresses:  []gwv1.GatewayStatusAddress{{Type: &hostType, Value: "alb-1.elb.amazonaws.com"}},
	}}
	_, _, err := r.loadBalancer(context.Background(), gw)
	require.ErrorIs(t, err, boom)
}

func TestWhatELBv2SaysOfALoadBalancerIsAskedAgainAfterItsTTL(t *testing.T) {
	elb := &elbAnswers{}
	r := &Reconciler{ELB: elb}
	ctx := context.Background()
	const host = "alb-1.elb.amazonaws.com"
	info, err := r.hostedZone(ctx, host, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "ZALB", info.zone)
	assert.False(t, info.dualStack)

	elb.ipType = elbtypes.IpAddressTypeDualstack
	info, err = r.hostedZone(ctx, host, time.Minute)
	require.NoError(t, err)
	assert.False(t, info.dualStack, "cached within the TTL")
	assert.Equal(t, 1, elb.calls)

	age := func() {
		z, _ := r.zones.Load(host)
		old := z.(elbInfo)
		old.fetched = old.fetched.Add(-elbInfoTTL - time.Second)
		r.zones.Store(host, old)
	}
	age()
	info, err = r.hostedZone(ctx, host, time.Minute)
	require.NoError(t, err)
	assert.True(t, info.dualStack, "an ALB switched to dual-stack is seen after the TTL")
	assert.Equal(t, 2, elb.calls)

	age()
	elb.err = errors.New("connection reset")
	info, err = r.hostedZone(ctx, host, time.Minute)
	require.NoError(t, err, "an old answer stands while ELBv2 cannot be asked")
	assert.Equal(t, "ZALB", info.zone)
	assert.Equal(t, 3, elb.calls)

	elb.err = nil
	info, err = r.hostedZone(ctx, "gone.elb.amazonaws.com", time.Minute)
	require.NoError(t, err)
	assert.Empty(t, info.zone, "a name ELBv2 does not know")
}
