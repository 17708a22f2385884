package certificate

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/go-logr/logr/funcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/opendi/gateway-orchestrator/internal/awsclient"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// TestThePollerLogsNoErrorWhenStopped polls through the real ACM client against the AWS test
// server: a failing ListCertificates is logged as an error, while a call cut short because the
// manager stops (Ctrl-C) is not, so a clean shutdown leaves no error lines.
func TestThePollerLogsNoErrorWhenStopped(t *testing.T) {
	s := awsfake.New(awsfake.Options{})
	t.Cleanup(s.Close)
	cfg, err := awsclient.Load(context.Background(), awsclient.Config{
		Endpoint: s.URL, Region: "us-east-1", MaxBackoff: 10 * time.Millisecond, Rates: map[string]float64{"acm:*": 1000},
	}, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKID", "secret", "")))
	require.NoError(t, err)
	out, err := acm.NewFromConfig(cfg).RequestCertificate(context.Background(), &acm.RequestCertificateInput{DomainName: aws.String("a.example.com"), ValidationMethod: types.ValidationMethodDns})
	require.NoError(t, err)

	var mu sync.Mutex
	var errs []string
	log := funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, args)
	}, funcr.Options{Verbosity: -1})
	logged := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), errs...)
	}
	p := &Poller{ACM: acm.NewFromConfig(cfg), Notify: func(string) {}}
	p.Wait(aws.ToString(out.CertificateArn), "a")

	s.SetFault("acm:ListCertificates", &awsfake.Fault{Deny: true})
	p.poll(logf.IntoContext(context.Background(), log))
	require.Len(t, logged(), 1, "a failing call is an error")
	assert.Contains(t, logged()[0], "listing settled ACM certificates")

	s.SetFault("acm:ListCertificates", nil)
	ctx, cancel := context.WithCancel(logf.IntoContext(context.Background(), log))
	cancel()
	p.poll(ctx)
	assert.Len(t, logged(), 1, "a call cut short by the shutdown is not")
}
