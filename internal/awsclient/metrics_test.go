package awsclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opendi/gateway-orchestrator/internal/awsclient"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// metricsClient is an ACM client against the AWS test server whose call metrics go to a registry
// of the test's own (injected, as the manager's registry is in the binary).
func metricsClient(t *testing.T) (*awsfake.Server, *acm.Client, *prometheus.Registry) {
	s := awsfake.New(awsfake.Options{})
	t.Cleanup(s.Close)
	reg := prometheus.NewPedanticRegistry()
	cfg, err := awsclient.Load(context.Background(), awsclient.Config{
		Endpoint: s.URL, Region: "us-east-1", MaxBackoff: 10 * time.Millisecond, Registerer: reg,
		Rates: map[string]float64{"acm:*": 1000, "acm:RequestCertificate": 1000},
	}, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKID", "secret", "")))
	require.NoError(t, err)
	return s, acm.NewFromConfig(cfg), reg
}

// sample is one sample of a counter or histogram.
type sample struct {
	value float64 // a counter's value, or a histogram's sum
	count uint64  // a histogram's number of observations
}

// find returns the sample of family name whose labels include want, or nil.
func find(t *testing.T, reg prometheus.Gatherer, name string, want map[string]string) *sample {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if have[k] != v {
					continue next
				}
			}
			if h := m.GetHistogram(); h != nil {
				return &sample{value: h.GetSampleSum(), count: h.GetSampleCount()}
			}
			return &sample{value: m.GetCounter().GetValue()}
		}
	}
	return nil
}

func TestCallLatencyIsObservedPerServiceAndOperation(t *testing.T) {
	s, c, reg := metricsClient(t)
	s.SetFault("acm:RequestCertificate", &awsfake.Fault{Latency: 150 * time.Millisecond, Times: 1})
	require.NoError(t, requestCert(c, "a.example.com"))
	require.NoError(t, requestCert(c, "b.example.com"))

	h := find(t, reg, awsclient.MetricRequestDuration, map[string]string{"service": "acm", "operation": "RequestCertificate"})
	require.NotNil(t, h, "a latency histogram for acm:RequestCertificate")
	assert.Equal(t, uint64(2), h.count, "one observation per attempt")
	assert.GreaterOrEqual(t, h.value, 0.15, "the slow answer's latency is in the sum")
	assert.Less(t, h.value, 5.0)
	assert.Nil(t, find(t, reg, awsclient.MetricRetries, nil), "no retry, no retry sample")
}

func TestRetriesAreCountedWithTheCodeThatCausedThem(t *testing.T) {
	s, c, reg := metricsClient(t)
	s.SetFault("acm:RequestCertificate", &awsfake.Fault{Code: "ThrottlingException", Times: 2})
	require.NoError(t, requestCert(c, "a.example.com"))
	require.Equal(t, 3, s.Calls("acm:RequestCertificate"))

	r := find(t, reg, awsclient.MetricRetries, map[string]string{"service": "acm", "operation": "RequestCertificate", "code": "ThrottlingException"})
	require.NotNil(t, r, "retries of acm:RequestCertificate are counted")
	assert.InDelta(t, 2.0, r.value, 1e-9)
	ok := find(t, reg, awsclient.MetricRequests, map[string]string{"service": "acm", "operation": "RequestCertificate", "outcome": "ok"})
	require.NotNil(t, ok)
	assert.InDelta(t, 1.0, ok.value, 1e-9)
	throttled := find(t, reg, awsclient.MetricRequests, map[string]string{"service": "acm", "operation": "RequestCertificate", "outcome": "ThrottlingException"})
	require.NotNil(t, throttled)
	assert.InDelta(t, 2.0, throttled.value, 1e-9)
	h := find(t, reg, awsclient.MetricRequestDuration, map[string]string{"service": "acm", "operation": "RequestCertificate"})
	require.NotNil(t, h)
	assert.Equal(t, uint64(3), h.count)
}

func TestAnErrorNotRetriedCountsNoRetry(t *testing.T) {
	s, c, reg := metricsClient(t)
	s.SetFault("acm:RequestCertificate", &awsfake.Fault{Code: "AccessDeniedException", Times: 1})
	require.Error(t, requestCert(c, "a.example.com"))
	assert.Equal(t, 1, s.Calls("acm:RequestCertificate"))
	assert.Nil(t, find(t, reg, awsclient.MetricRetries, nil))
	denied := find(t, reg, awsclient.MetricRequests, map[string]string{"outcome": "AccessDeniedException"})
	require.NotNil(t, denied, "a permission error is counted by its code (the alert's input)")
	assert.InDelta(t, 1.0, denied.value, 1e-9)
}
