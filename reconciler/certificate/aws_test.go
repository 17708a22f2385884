package certificate

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opendi/gateway-orchestrator/internal/awsclient"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// realAWS starts the AWS test server with hosted zone Z1 for example.com, and returns it with
// the real ACM client and a running Route53 batcher (stopped when the test ends) pointed at it.
func realAWS(t *testing.T) (*awsfake.Server, *acm.Client, *dnsbatch.Batcher) {
	t.Helper()
	s := awsfake.New(awsfake.Options{})
	t.Cleanup(s.Close)
	s.Route53.AddZoneWithID("Z1", "example.com")
	cfg, err := awsclient.Load(context.Background(), awsclient.Config{
		Endpoint: s.URL, Region: "us-east-1", MaxBackoff: 10 * time.Millisecond, Rates: map[string]float64{"acm:*": 1000, "route53:*": 1000},
	}, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKID", "secret", "")))
	require.NoError(t, err)
	b := &dnsbatch.Batcher{API: route53.NewFromConfig(cfg), Cluster: "test", Window: 10 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- b.Start(ctx) }()
	t.Cleanup(func() { cancel(); assert.NoError(t, <-stopped) })
	return s, acm.NewFromConfig(cfg), b
}
