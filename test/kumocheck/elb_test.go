package kumocheck

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/sivchari/kumo"
	"github.com/stretchr/testify/require"

	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// elbScenario creates a tagged load balancer and an HTTP listener through the real SDK, reads
// them back, and returns what a caller of ours relies on, with generated IDs left out.
func elbScenario(t *testing.T, url string) []string {
	ctx := context.Background()
	e := elbv2.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")})
	created, err := e.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: aws.String("k8s-public-1"), Scheme: elbtypes.LoadBalancerSchemeEnumInternetFacing, Type: elbtypes.LoadBalancerTypeEnumApplication,
		Subnets: []string{"subnet-1", "subnet-2"},
		Tags:    []elbtypes.Tag{{Key: aws.String("gateway.opendi.com/gateway"), Value: aws.String("gateway-system/public-1")}},
	})
	require.NoError(t, err)
	arn := created.LoadBalancers[0].LoadBalancerArn
	_, err = e.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: arn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("404")}}}})
	require.NoError(t, err)

	var out []string
	lbs, err := e.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"k8s-public-1"}})
	require.NoError(t, err)
	for _, lb := range lbs.LoadBalancers {
		out = append(out, fmt.Sprintf("lb %s scheme=%s type=%s arn-matches=%t dns-has-name=%t zone-set=%t",
			aws.ToString(lb.LoadBalancerName), lb.Scheme, lb.Type, aws.ToString(lb.LoadBalancerArn) == aws.ToString(arn),
			strings.Contains(aws.ToString(lb.DNSName), "k8s-public-1"), aws.ToString(lb.CanonicalHostedZoneId) != ""))
	}
	tags, err := e.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{aws.ToString(arn)}})
	require.NoError(t, err)
	for _, d := range tags.TagDescriptions {
		for _, tg := range d.Tags {
			out = append(out, "tag "+aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
	}
	ls, err := e.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: arn})
	require.NoError(t, err)
	for _, l := range ls.Listeners {
		out = append(out, fmt.Sprintf("listener %s:%d", l.Protocol, aws.ToInt32(l.Port)))
	}
	sort.Strings(out)
	return out
}

func TestELBAgreesWithKumo(t *testing.T) {
	k := kumo.NewServer()
	defer k.Close()
	ours := awsfake.New(awsfake.Options{})
	defer ours.Close()
	theirs := elbScenario(t, k.URL)
	require.Len(t, theirs, 3)
	require.Equal(t, theirs, elbScenario(t, ours.URL))
}

// createdNames creates n load balancers named after prefix and reads back the names with that
// prefix, following NextMarker with the given page size (0: the server's default) as the
// orchestrator does when it looks up an ALB's hosted zone.
func createdNames(t *testing.T, url, prefix string, n int, pageSize int32) (names []string, pages int) {
	ctx := context.Background()
	e := elbv2.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")})
	for i := range n {
		_, err := e.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
			Name: aws.String(fmt.Sprintf("%s-%d", prefix, i)), Type: elbtypes.LoadBalancerTypeEnumApplication,
			Subnets: []string{"subnet-1", "subnet-2"}})
		require.NoError(t, err)
	}
	in := &elbv2.DescribeLoadBalancersInput{}
	if pageSize > 0 {
		in.PageSize = aws.Int32(pageSize)
	}
	for {
		out, err := e.DescribeLoadBalancers(ctx, in)
		require.NoError(t, err)
		pages++
		if pageSize > 0 {
			require.LessOrEqual(t, len(out.LoadBalancers), int(pageSize), "a page holds at most PageSize load balancers")
		}
		for _, lb := range out.LoadBalancers {
			if name := aws.ToString(lb.LoadBalancerName); strings.HasPrefix(name, prefix+"-") {
				names = append(names, name)
			}
		}
		if out.NextMarker == nil {
			break
		}
		require.Less(t, pages, 100, "the marker must make progress")
		in.Marker = out.NextMarker
	}
	sort.Strings(names)
	return names, pages
}

// TestPagedDescribeLoadBalancersAgreesWithKumo: kumo answers DescribeLoadBalancers in one page
// whatever PageSize says, so it cannot check paging itself; what it does check is that our
// server's pages, followed by marker, list exactly the load balancers kumo lists in one answer.
// Our server's paging is what the orchestrator's marker loop meets on a large account.
func TestPagedDescribeLoadBalancersAgreesWithKumo(t *testing.T) {
	k := kumo.NewServer()
	defer k.Close()
	ours := awsfake.New(awsfake.Options{})
	defer ours.Close()
	theirNames, _ := createdNames(t, k.URL, "k8s-paged", 3, 0)
	ourNames, ourPages := createdNames(t, ours.URL, "k8s-paged", 3, 1)
	require.Len(t, theirNames, 3)
	require.Equal(t, theirNames, ourNames, "every load balancer is listed once across the pages")
	require.GreaterOrEqual(t, ourPages, 3, "our server honours PageSize 1")
}
