// Package testenv starts a real control plane (kube-apiserver and etcd through controller-runtime
// envtest) with the orchestrator's CRDs, the Gateway API CRDs and the generated webhook
// configurations registered, and runs the orchestrator's manager against it. Integration tests and
// the local run command share it.
package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/cmd/gateway-orchestrator/app"
	"github.com/opendi/gateway-orchestrator/internal/awsclient"
	"github.com/opendi/gateway-orchestrator/internal/backoff"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
	"github.com/opendi/gateway-orchestrator/test/lbcstandin"
	"github.com/opendi/gateway-orchestrator/webhook"
)

// OwnNamespace is the orchestrator's namespace in the test environment.
const OwnNamespace = "gateway-orchestrator-system"

// Options configure Start.
type Options struct {
	// App configures the orchestrator; its webhooks always run.
	App app.Config
	// NoReconcilers runs the webhooks alone (for benchmarks of admission).
	NoReconcilers bool
	// WebhookHTTP2 serves the webhooks over HTTP/2 too, as --enable-http2 does (benchmarks
	// compare the two).
	WebhookHTTP2 bool
	// NoManager starts only the control plane (the caller runs managers itself).
	NoManager bool
	// MetricsAddr serves the manager's metrics ("0" or "" disables them).
	MetricsAddr string
	// AWS starts an AWS-compatible test server (see package awsfake) and runs the AWS
	// reconcilers against it through the real SDK clients.
	AWS *awsfake.Options
	// AWSRates overrides the client-side rate limits (awsclient.DefaultRates keys).
	AWSRates map[string]float64
	// DNSBatchWindow and PollInterval tune the AWS reconcilers (short defaults for tests).
	DNSBatchWindow, PollInterval time.Duration
	// Cluster names the cluster in AWS tags and DNS ownership markers ("test" when empty).
	Cluster string
	// RenewalCheck overrides how often issued certificates' renewal is read (12 hours).
	RenewalCheck time.Duration
	// DNSRefresh overrides how often hosted zones are read again (10 minutes).
	DNSRefresh time.Duration
	// Logger receives the manager's logs, its controllers' and reconcilers' (ctrl.Log when zero).
	Logger logr.Logger
	// QuietPeriod overrides how long a new claim's waiting steps are kept out of its status
	// (claimstatus.Hold); short by default for tests, which look at those steps.
	QuietPeriod time.Duration
	// Backoff overrides the back-off of persistent AWS errors (TestBackoff: 1 s doubling to 8 s).
	Backoff backoff.Policy
	// NoAWS starts the manager as --aws=false does (no AWS reconcilers, no LBC stand-in), even in
	// an environment that has an AWS test server.
	NoAWS bool
}

// TestBackoff is the back-off of persistent AWS errors in tests unless Options.Backoff is set:
// the production policy (backoff.Default) scaled down so that a test sees several retries.
var TestBackoff = backoff.Policy{Base: time.Second, Max: 8 * time.Second}

// Env is a running control plane and, unless NoManager, the orchestrator's manager.
type Env struct {
	Config  *rest.Config
	Client  client.Client
	Env     *envtest.Environment
	Manager manager.Manager
	// AWS is the AWS-compatible test server, when Options.AWS was set.
	AWS *awsfake.Server
	// StandIn plays the AWS Load Balancer Controller for Gateways of class "alb" when AWS is set.
	StandIn *lbcstandin.StandIn

	cancel context.CancelFunc
	done   chan error
}

// Start brings up the control plane and the manager, and returns once the webhooks serve and
// the cache has synced.
func Start(ctx context.Context, opts Options) (*Env, error) {
	crds, err := OrchestratorCRDs()
	if err != nil {
		return nil, err
	}
	webhooks, err := OrchestratorWebhooks()
	if err != nil {
		return nil, err
	}
	te, err := ControlPlane(crds, webhooks)
	if err != nil {
		return nil, err
	}
	cfg, err := te.Start()
	if err != nil {
		return nil, fmt.Errorf("starting kube-apiserver and etcd from %s: %w", te.BinaryAssetsDirectory, err)
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	e := &Env{Config: cfg, Env: te}
	if opts.AWS != nil {
		e.AWS = awsfake.New(*opts.AWS)
	}
	if e.Client, err = client.New(cfg, client.Options{Scheme: app.NewScheme()}); err != nil {
		_ = te.Stop()
		return nil, err
	}
	// The GatewayClass the stand-in serves, as docs/install-eks.md (step 3) has the admin create
	// it: a GatewayPool of a class that does not exist says so in its Ready.
	class := &gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "alb"}, Spec: gwv1.GatewayClassSpec{ControllerName: lbc.ControllerName}}
	if err := e.Client.Create(ctx, class); err != nil && !apierrors.IsAlreadyExists(err) {
		_ = te.Stop()
		return nil, fmt.Errorf("creating GatewayClass alb: %w", err)
	}
	if opts.NoManager {
		return e, nil
	}
	if err := e.StartManager(ctx, opts); err != nil {
		_ = te.Stop()
		return nil, err
	}
	return e, nil
}

// ControlPlane returns a control plane of kube-apiserver and etcd from Assets, with the CRDs at
// crdPaths installed and the webhooks registered when it starts. The caller may configure the API
// server further, then Starts and Stops it.
func ControlPlane(crdPaths []string, webhooks envtest.WebhookInstallOptions) (*envtest.Environment, error) {
	assets, err := Assets()
	if err != nil {
		return nil, err
	}
	te := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		CRDInstallOptions:        envtest.CRDInstallOptions{Paths: crdPaths, ErrorIfPathMissing: true},
		WebhookInstallOptions:    webhooks,
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	// Keep the apiserver from recording the machine's own address in the kubernetes Service.
	te.ControlPlane.GetAPIServer().Configure().Set("endpoint-reconciler-type", "none")
	return te, nil
}

// OrchestratorCRDs are the CRD files of the orchestrator's types, of the LBC configuration type
// it writes and of the Gateway API.
func OrchestratorCRDs() ([]string, error) {
	gwCRDs, err := GatewayAPICRDs()
	if err != nil {
		return nil, err
	}
	root := RepoRoot()
	return append([]string{filepath.Join(root, "deploy", "crd"), filepath.Join(root, "test", "crds")}, gwCRDs...), nil
}

// OrchestratorWebhooks registers the orchestrator's generated webhook configurations, as deployed
// in OwnNamespace.
func OrchestratorWebhooks() (envtest.WebhookInstallOptions, error) {
	mutating, validating, err := WebhookConfigurations(filepath.Join(RepoRoot(), "deploy", "webhook", "manifests.yaml"), OwnNamespace)
	return envtest.WebhookInstallOptions{MutatingWebhooks: mutating, ValidatingWebhooks: validating}, err
}

// StartManager starts the orchestrator's manager against the control plane. At most one runs at
// a time; StopManager ends it (as a crash would, without cleanup).
func (e *Env) StartManager(ctx context.Context, opts Options) error {
	wio := e.Env.WebhookInstallOptions
	metricsAddr := opts.MetricsAddr
	if metricsAddr == "" {
		metricsAddr = "0"
	}
	logger := opts.Logger
	if logger.GetSink() == nil {
		logger = ctrl.Log
	}
	// The manager's own context, which StopManager ends as Ctrl-C does.
	// The product's webhook server (its TLS and HTTP settings), on envtest's address and certificate.
	webhookServer, err := app.WebhookServer(app.ServerOptions{
		WebhookHost: wio.LocalServingHost, WebhookPort: wio.LocalServingPort, WebhookCertDir: wio.LocalServingCertDir,
		EnableHTTP2: opts.WebhookHTTP2,
	})
	if err != nil {
		return err
	}
	mctx, cancel := context.WithCancel(ctx)
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{
		Scheme:                 app.NewScheme(),
		Cache:                  app.CacheOptions(),
		Metrics:                metricsserver.Options{BindAddress: metricsAddr},
		Logger:                 app.QuietWhenStopping(mctx, logger),
		HealthProbeBindAddress: "0",
		// A restarted manager in the same process registers the same controller names again.
		Controller:    ctrlconfig.Controller{SkipNameValidation: ptr.To(true)},
		WebhookServer: webhookServer,
	})
	if err != nil {
		cancel()
		return err
	}
	cfg := opts.App
	cfg.Webhooks, cfg.Reconcilers = true, !opts.NoReconcilers
	cfg.QuietPeriod = opts.QuietPeriod
	if cfg.ReconcilerWrites == 0 { // the binary's write budget, so that tests run with it (negative: none)
		cfg.ReconcilerWrites, cfg.ReconcilerWriteBurst = app.DefaultReconcilerWrites, app.DefaultReconcilerWriteBurst
	}
	if cfg.QuietPeriod == 0 {
		cfg.QuietPeriod = 50 * time.Millisecond
	}
	if e.AWS != nil && !opts.NoAWS {
		awsCfg, err := awsclient.Load(ctx, awsclient.Config{
			Endpoint: e.AWS.URL, Region: "us-east-1", Rates: opts.AWSRates, MaxBackoff: time.Second,
			Registerer: metrics.Registry,
		}, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")))
		if err != nil {
			cancel()
			return err
		}
		window, interval := opts.DNSBatchWindow, opts.PollInterval
		if window == 0 {
			window = 100 * time.Millisecond
		}
		if interval == 0 {
			interval = 200 * time.Millisecond
		}
		policy := opts.Backoff
		if policy == (backoff.Policy{}) {
			policy = TestBackoff
		}
		cluster := opts.Cluster
		if cluster == "" {
			cluster = "test"
		}
		cfg.AWS = &app.AWS{Config: awsCfg, Cluster: cluster, DNSBatchWindow: window, PollInterval: interval, InUseRetry: time.Second, Backoff: policy, RenewalCheck: opts.RenewalCheck, DNSRefresh: opts.DNSRefresh}
		if e.StandIn == nil {
			e.StandIn = &lbcstandin.StandIn{GatewayClass: "alb"}
		}
		e.StandIn.Client, e.StandIn.ELB = mgr.GetClient(), elbv2.NewFromConfig(awsCfg)
		if e.StandIn.ACM == nil {
			// Like LBC, discover certificates by listener hostname where a configuration names none.
			e.StandIn.ACM = acm.NewFromConfig(awsCfg)
		}
	}
	if err := app.Register(mctx, mgr, cfg); err != nil {
		cancel()
		return err
	}
	if e.StandIn != nil && !opts.NoAWS {
		if err := e.StandIn.SetupWithManager(mgr); err != nil {
			cancel()
			return err
		}
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	e.Manager, e.cancel, e.done = mgr, cancel, done

	deadline := time.Now().Add(time.Minute)
	for {
		if mgr.GetCache().WaitForCacheSync(mctx) && mgr.GetWebhookServer().StartedChecker()(nil) == nil {
			return nil
		}
		select {
		case err := <-done:
			return fmt.Errorf("manager stopped while starting: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("the webhook server did not start within a minute")
		}
	}
}

// StopManager stops the manager and waits for it.
func (e *Env) StopManager() error {
	if e.cancel == nil {
		return nil
	}
	e.cancel()
	err := <-e.done
	e.cancel, e.done, e.Manager = nil, nil, nil
	return err
}

// Stop stops the manager, the control plane and the AWS test server.
func (e *Env) Stop() error {
	err := errors.Join(e.StopManager(), e.Env.Stop())
	if e.AWS != nil {
		e.AWS.Close()
	}
	return err
}

// RepoRoot is the root of this repository.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Assets returns the directory holding kube-apiserver and etcd: $KUBEBUILDER_ASSETS when set,
// otherwise the cache that hack/envtest-assets.sh fills (building the binaries from the Go
// module proxy the first time, which takes minutes).
func Assets() (string, error) {
	if d := os.Getenv("KUBEBUILDER_ASSETS"); d != "" {
		return d, nil
	}
	cmd := exec.Command("bash", filepath.Join(RepoRoot(), "hack", "envtest-assets.sh"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("building kube-apiserver and etcd (hack/envtest-assets.sh): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// GatewayAPICRDs lists the standard-channel Gateway API CRD files of the gateway-api module this
// repository builds with, straight from the module cache.
func GatewayAPICRDs() ([]string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api")
	cmd.Dir = RepoRoot()
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("locating the gateway-api module: %w", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "standard")
	files, err := filepath.Glob(filepath.Join(dir, "gateway.networking.k8s.io_*.yaml"))
	if err != nil {
		return nil, err
	}
	var crds []string
	for _, f := range files {
		if !strings.Contains(filepath.Base(f), "_vap_") { // admission policies, not CRDs
			crds = append(crds, f)
		}
	}
	if len(crds) == 0 {
		return nil, fmt.Errorf("no Gateway API CRDs in %s", dir)
	}
	return crds, nil
}

// WebhookConfigurations reads the generated webhook configurations and applies the deployment's
// namespaceSelector, as deploy/default does.
func WebhookConfigurations(path, ownNamespace string) ([]*admissionv1.MutatingWebhookConfiguration, []*admissionv1.ValidatingWebhookConfiguration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var mutating []*admissionv1.MutatingWebhookConfiguration
	var validating []*admissionv1.ValidatingWebhookConfiguration
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var raw map[string]any
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, nil, err
		}
		if raw == nil {
			continue
		}
		doc, err := json.Marshal(raw)
		if err != nil {
			return nil, nil, err
		}
		switch raw["kind"] {
		case "MutatingWebhookConfiguration":
			m := &admissionv1.MutatingWebhookConfiguration{}
			if err := json.Unmarshal(doc, m); err != nil {
				return nil, nil, err
			}
			for i := range m.Webhooks {
				m.Webhooks[i].NamespaceSelector = webhook.NamespaceSelector(ownNamespace)
			}
			mutating = append(mutating, m)
		case "ValidatingWebhookConfiguration":
			v := &admissionv1.ValidatingWebhookConfiguration{}
			if err := json.Unmarshal(doc, v); err != nil {
				return nil, nil, err
			}
			for i := range v.Webhooks {
				v.Webhooks[i].NamespaceSelector = webhook.NamespaceSelector(ownNamespace)
			}
			validating = append(validating, v)
		}
	}
	return mutating, validating, nil
}

// Clock is a real clock that tests can move forward: the AWS test server and the reconcilers
// share it, so an idempotency token can expire without waiting an hour.
type Clock struct{ offset atomic.Int64 }

// Now implements clock.PassiveClock.
func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Since implements clock.PassiveClock.
func (c *Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }
