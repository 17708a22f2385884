package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// logs collects what run logs.
var logs = &syncBuffer{}

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.WriteTo(logs)))
	code := m.Run()
	stopAPIServer()
	os.Exit(code)
}

// isolateAWS gives the test an environment with no AWS or Kubernetes configuration of the
// machine: no shared config files, no instance metadata (nothing leaves loopback), no kubeconfig.
func isolateAWS(t *testing.T) {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "KUBERNETES_SERVICE_HOST"} {
		t.Setenv(k, "")
		require.NoError(t, os.Unsetenv(k))
	}
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "aws-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "aws-credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("KUBECONFIG", filepath.Join(dir, "no-kubeconfig"))
}

// closedEndpoint is a loopback URL where nothing listens: the connection is refused, as it is
// for a mistyped region's STS host or a pod without egress.
func closedEndpoint(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	return url
}

func withCredentials(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDPREFLIGHTTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
}

func baseConfig(endpoint string) config {
	return config{aws: true, reconcilers: true, webhooks: true, cluster: "prod-eu-1", awsRegion: "eu-west-1", awsEndpoint: endpoint, rates: rateFlags{}}
}

// servingCertDir is a directory with the files --webhook-cert-dir must hold (the start-up
// check only looks for them; nothing here serves).
func servingCertDir(t *testing.T) string {
	dir := t.TempDir()
	for _, f := range []string{"tls.crt", "tls.key"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte("test"), 0o600))
	}
	return dir
}

func TestLocalChecksNameTheFlagToSet(t *testing.T) {
	isolateAWS(t)
	cfg := baseConfig("")
	cfg.aws = false
	cfg.certDir = t.TempDir()
	require.ErrorContains(t, runWithin(t, cfg), "set --webhook-cert-dir to a directory with tls.crt and tls.key", "no serving certificate")

	cfg.certDir = servingCertDir(t)
	cfg.metricsSecure, cfg.metricsAddr, cfg.metricsCertDir = true, "127.0.0.1:0", t.TempDir()
	require.ErrorContains(t, runWithin(t, cfg), "set --metrics-cert-dir to a directory with tls.crt and tls.key", "a metrics certificate directory without one")

	cfg.metricsCertDir = servingCertDir(t)
	cfg.leaderElection = true
	if _, err := os.Stat(inClusterNamespace); err == nil {
		t.Skip("running in a pod: the lease's namespace defaults to the pod's")
	}
	require.ErrorContains(t, runWithin(t, cfg), "set --leader-election-namespace", "out of cluster with leader election and no namespace")

	cfg.leaderElectNS = "default"
	require.ErrorContains(t, runWithin(t, cfg), "loading kubeconfig", "past the local checks")
}

func runWithin(t *testing.T, cfg config) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return run(ctx, cfg)
}

func TestStartupChecksExitWithAClearMessage(t *testing.T) {
	fake := awsfake.New(awsfake.Options{})
	defer fake.Close()
	for _, tc := range []struct {
		name   string
		mutate func(*config)
		env    func(*testing.T)
		fault  *awsfake.Fault
		want   string
	}{
		{name: `with the cluster name "default"`, mutate: func(c *config) { c.cluster = "default" }, env: withCredentials, want: `--cluster-name must not be "default"`},
		{name: "without an AWS region", mutate: func(c *config) { c.awsRegion = "" }, env: withCredentials, want: "no AWS region: set --aws-region"},
		{name: "without AWS credentials", want: "no usable AWS credentials"},
		{name: "with credentials AWS rejects", env: withCredentials, fault: &awsfake.Fault{Code: "InvalidClientTokenId", Status: 403},
			want: "AWS rejects the credentials (sts:GetCallerIdentity: InvalidClientTokenId)"},
		{name: "with an AWS endpoint nothing answers at", env: withCredentials, mutate: func(c *config) { c.awsEndpoint = closedEndpoint(t) },
			want: `cannot reach AWS STS in region "eu-west-1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolateAWS(t)
			if tc.env != nil {
				tc.env(t)
			}
			fake.SetFault("sts:GetCallerIdentity", tc.fault)
			defer fake.SetFault("sts:GetCallerIdentity", nil)
			cfg := baseConfig(fake.URL)
			if tc.mutate != nil {
				tc.mutate(&cfg)
			}
			err := runWithin(t, cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestStartupChecksPassAndLogTheIdentity(t *testing.T) {
	isolateAWS(t)
	withCredentials(t)
	fake := awsfake.New(awsfake.Options{})
	defer fake.Close()

	cfg := baseConfig(fake.URL)
	cfg.certDir = servingCertDir(t)
	err := runWithin(t, cfg)
	// Past the checks, the next step needs a cluster, and there is none here.
	require.ErrorContains(t, err, "loading kubeconfig")
	assert.Equal(t, 1, fake.Calls("sts:GetCallerIdentity"), "one GetCallerIdentity")
	out := logs.String()
	assert.Contains(t, out, `"msg":"version"`)
	assert.Contains(t, out, `"account":"`+awsfake.Account+`"`)
	assert.Contains(t, out, `"arn":"arn:aws:iam::123456789012:user/AKIDPREFLIGHTTEST"`)
}

func TestStartupChecksSkipAWSWithoutTheAWSReconcilers(t *testing.T) {
	isolateAWS(t)
	cfg := baseConfig("")
	cfg.aws, cfg.cluster, cfg.awsRegion = false, "", ""
	cfg.certDir = servingCertDir(t)
	require.ErrorContains(t, runWithin(t, cfg), "loading kubeconfig", "webhooks alone need no AWS and no cluster name")
}

// TestBinaryReportsItsStampedVersionAndExitsOnAFailedCheck builds the binary as the Makefile
// and Dockerfile do, with the version stamped by the linker.
func TestBinaryReportsItsStampedVersionAndExitsOnAFailedCheck(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "gateway-orchestrator")
	build := exec.Command("go", "build", "-o", bin,
		"-ldflags", "-X github.com/opendi/gateway-orchestrator/internal/version.Version=v9.8.7-test", ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	out, err = exec.Command(bin, "--version").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, "gateway-orchestrator v9.8.7-test\n", string(out))

	isolateAWS(t)
	cmd := exec.Command(bin, "--cluster-name=default", "--aws-region=eu-west-1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Contains(t, stderr.String(), `"version":"v9.8.7-test"`)
	assert.Contains(t, stderr.String(), `gateway-orchestrator: --cluster-name must not be "default"`)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
