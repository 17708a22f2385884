package dnsbatch

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opendi/gateway-orchestrator/internal/awsclient"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// TestADeniedRoute53CallSaysWhichPermissionIsMissing sends the batcher's calls through the real
// Route53 client to the AWS test server, which denies them as IAM does (HTTP 403, AccessDenied).
func TestADeniedRoute53CallSaysWhichPermissionIsMissing(t *testing.T) {
	s := awsfake.New(awsfake.Options{})
	t.Cleanup(s.Close)
	zone := s.Route53.AddZone("example.com")
	cfg, err := awsclient.Load(context.Background(), awsclient.Config{
		Endpoint: s.URL, Region: "us-east-1", MaxBackoff: 10 * time.Millisecond, Rates: map[string]float64{"route53:*": 1000},
	}, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKID", "secret", "")))
	require.NoError(t, err)
	var mu sync.Mutex
	var told []string
	b := &Batcher{API: route53.NewFromConfig(cfg), Cluster: "test", Window: 10 * time.Millisecond, Notify: func(owner string) {
		mu.Lock()
		defer mu.Unlock()
		told = append(told, owner)
	}}
	ctx := run(t, b)
	w := want(0)
	w.Zone = zone

	s.SetFault("route53:ListResourceRecordSets", &awsfake.Fault{Deny: true})
	res, err := b.Ensure(ctx, "claim-0", w)
	require.Error(t, err)
	assert.True(t, awsclient.IsAccessDenied(err))
	assert.Equal(t, Failed, res.State)
	assert.Contains(t, res.Message, "missing AWS permission for route53:ListResourceRecordSets")

	s.SetFault("route53:ListResourceRecordSets", nil)
	s.SetFault("route53:ChangeResourceRecordSets", &awsfake.Fault{Deny: true})
	res, err = b.Ensure(ctx, "claim-0", w)
	require.NoError(t, err)
	assert.Equal(t, Pending, res.State, "the change is queued")
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(told) == 1
	}, 5*time.Second, 5*time.Millisecond, "the owner is told when the batch has failed")
	res, err = b.Ensure(ctx, "claim-0", w)
	require.Error(t, err)
	assert.True(t, awsclient.IsAccessDenied(err), "the batch's error is the SDK's, classified")
	assert.Equal(t, Failed, res.State)
	assert.Contains(t, res.Message, "missing AWS permission for route53:ChangeResourceRecordSets")
	assert.Equal(t, 1, s.Calls("route53:ChangeResourceRecordSets"), "a denial is not retried")
	assert.Empty(t, s.Route53.Records(zone), "nothing was written")

	s.SetFault("route53:ChangeResourceRecordSets", nil)
	res, err = b.Ensure(ctx, "claim-0", w)
	require.NoError(t, err)
	assert.Equal(t, Pending, res.State, "the failure was said once: the next Ensure tries again")
	require.Eventually(t, func() bool {
		res, err := b.Ensure(ctx, "claim-0", w)
		return err == nil && res.State == Done
	}, 5*time.Second, 10*time.Millisecond, "and once permitted, the change is made")
	assert.Len(t, s.Route53.Records(zone), 2, "the record and its ownership marker")
}
