// Command gateway-orchestrator runs the webhooks and reconcilers that give every team
// self-service HTTPS hostnames on shared AWS load balancers.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/opendi/gateway-orchestrator/cmd/gateway-orchestrator/app"
	"github.com/opendi/gateway-orchestrator/internal/awsclient"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
	"github.com/opendi/gateway-orchestrator/internal/preflight"
	"github.com/opendi/gateway-orchestrator/internal/version"
)

type config struct {
	metricsAddr     string
	metricsSecure   bool
	metricsCertDir  string
	webhookClientCA string
	enableHTTP2     bool
	probeAddr       string
	webhookPort     int
	certDir         string
	shutdownDelay   time.Duration
	leaderElection  bool
	leaderElectNS   string
	allowUnmanaged  bool
	limits          ownership.Limits
	webhooks        bool
	reconcilers     bool
	writeQPS        float64
	writeBurst      int
	aws             bool
	awsRegion       string
	awsEndpoint     string
	cluster         string
	dnsWindow       time.Duration
	acmPoll         time.Duration
	rates           rateFlags
	externalDNS     dnsbatch.ExternalDNS
	version         bool
}

// rateFlags collects --aws-rate service:Operation=perSecond overrides.
type rateFlags map[string]float64

func (r rateFlags) String() string { return fmt.Sprint(map[string]float64(r)) }

func (r rateFlags) Set(v string) error {
	k, n, ok := strings.Cut(v, "=")
	f, err := strconv.ParseFloat(n, 64)
	if !ok || err != nil || !strings.Contains(k, ":") || f <= 0 {
		return fmt.Errorf("want service:Operation=perSecond (for example route53:*=2), got %q", v)
	}
	r[k] = f
	return nil
}

func main() {
	cfg := config{rates: rateFlags{}}
	flag.StringVar(&cfg.metricsAddr, "metrics-bind-address", ":8443", "Address of the Prometheus metrics endpoint; 0 disables it.")
	flag.BoolVar(&cfg.metricsSecure, "metrics-secure", true, "Serve metrics over HTTPS to scrapers whose bearer token the API server authenticates and authorizes for GET /metrics; false serves plain HTTP to anyone (local development only).")
	flag.StringVar(&cfg.metricsCertDir, "metrics-cert-dir", "", "Directory with tls.crt and tls.key for the metrics endpoint (default: a self-signed certificate generated at start).")
	flag.StringVar(&cfg.probeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz probes.")
	flag.IntVar(&cfg.webhookPort, "webhook-port", 9443, "Port the admission webhooks are served on.")
	flag.BoolVar(&cfg.enableHTTP2, "enable-http2", false, "Serve the webhooks and metrics over HTTP/2 too (off by default: HTTP/1.1 only, which HTTP/2's stream-reset attacks cannot reach).")
	flag.StringVar(&cfg.webhookClientCA, "webhook-client-ca", "", "PEM file of the CA that signs the API server's admission client certificate; when set, the webhooks refuse every client without a certificate it signed (off by default; see docs/webhook-trust.md).")
	flag.StringVar(&cfg.certDir, "webhook-cert-dir", "/tmp/k8s-webhook-server/serving-certs", "Directory with tls.crt and tls.key for the webhooks (reloaded when they change).")
	flag.DurationVar(&cfg.shutdownDelay, "shutdown-delay", app.DefaultShutdownDelay, "How long a stopping replica keeps serving admission (readiness failing, each connection closed after its answer) before it stops, so that the API server moves to the other replicas first; its reconcilers stop and hand the lease over at once; 0 stops at once (docs/operations.md).")
	flag.BoolVar(&cfg.leaderElection, "leader-elect", true, "Elect one replica to run the reconcilers; every replica serves the webhooks.")
	flag.StringVar(&cfg.leaderElectNS, "leader-election-namespace", "", "Namespace of the leader election lease (default: the pod's namespace).")
	flag.BoolVar(&cfg.allowUnmanaged, "allow-unmanaged-hostnames", false, "Let hostnames outside every ManagedZone pass admission untouched.")
	flag.IntVar(&cfg.limits.MaxClaims, "max-claims-per-namespace", 0, "Cap on a namespace's DomainClaims per ManagedZone where the zone's spec.limits sets none (0: no cap).")
	flag.IntVar(&cfg.limits.MaxUnbound, "max-unbound-claims-per-namespace", 0, "Cap on a namespace's unbound DomainClaims per ManagedZone where the zone's spec.limits sets none (0: no cap).")
	flag.BoolVar(&cfg.webhooks, "webhooks", true, "Serve the admission webhooks.")
	flag.BoolVar(&cfg.reconcilers, "reconcilers", true, "Run the reconcilers.")
	flag.Float64Var(&cfg.writeQPS, "reconciler-write-qps", app.DefaultReconcilerWrites, "Writes a second the reconcilers together may send the API server (0: no limit), so that a burst of background work cannot starve admission, whose writes never wait for it; its tokens and the claims' work queues take turns between namespaces, so other namespaces' claims do not wait behind such a burst (docs/operations.md).")
	flag.IntVar(&cfg.writeBurst, "reconciler-write-burst", app.DefaultReconcilerWriteBurst, "Writes the reconcilers may send at once above --reconciler-write-qps (at least 1).")
	flag.BoolVar(&cfg.aws, "aws", true, "Run the AWS reconcilers (ACM certificates, Route53 records).")
	flag.StringVar(&cfg.awsRegion, "aws-region", "", "AWS region of the certificates and load balancers (default: the SDK's, e.g. AWS_REGION).")
	flag.StringVar(&cfg.awsEndpoint, "aws-endpoint", "", "Endpoint override for every AWS service, e.g. a local AWS-compatible server (AWS_ENDPOINT_URL works too).")
	flag.StringVar(&cfg.cluster, "cluster-name", "", "Names this cluster in AWS tags and DNS ownership markers; unique per account, not \"default\" (default: derived from the kube-system namespace UID).")
	flag.DurationVar(&cfg.dnsWindow, "route53-batch-window", 2*time.Second, "Least time between two Route53 change batches of one hosted zone; a change for an idle zone goes out at once, later ones gather.")
	flag.DurationVar(&cfg.acmPoll, "acm-poll-interval", 15*time.Second, "How often pending certificates are checked (one ListCertificates for all).")
	flag.StringVar(&cfg.externalDNS.Prefix, "external-dns-txt-prefix", "", "The --txt-prefix of an external-dns sharing the hosted zones, so that records it owns are named with its owner ID (docs/external-dns.md).")
	flag.StringVar(&cfg.externalDNS.Suffix, "external-dns-txt-suffix", "", "The --txt-suffix of an external-dns sharing the hosted zones.")
	flag.StringVar(&cfg.externalDNS.WildcardReplacement, "external-dns-txt-wildcard-replacement", "", "The --txt-wildcard-replacement of an external-dns sharing the hosted zones.")
	flag.Var(cfg.rates, "aws-rate", "Client-side rate limit override, service:Operation=perSecond (repeatable; defaults at or below AWS account limits).")
	flag.BoolVar(&cfg.version, "version", false, "Print the version and exit.")
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	if cfg.version {
		fmt.Println("gateway-orchestrator", version.Version)
		return
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))

	if err := run(ctrl.SetupSignalHandler(), cfg); err != nil {
		if errors.Is(err, app.ErrServedKindsChanged) {
			// Stopped cleanly on purpose; the Deployment starts the process again.
			fmt.Fprintln(os.Stderr, "gateway-orchestrator: exiting to start again:", err)
			return
		}
		fmt.Fprintln(os.Stderr, "gateway-orchestrator:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) error {
	log := ctrl.Log.WithName("setup")
	log.Info("version", "version", version.Version, "go", runtime.Version())
	awsCfg, err := checkedAWS(ctx, cfg)
	if err != nil {
		return err
	}
	if err := checkLocal(cfg); err != nil {
		return err
	}
	restCfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	mgr, err := newManager(restCfg, cfg, func(o *ctrl.Options) { o.Logger = app.QuietWhenStopping(ctx, ctrl.Log) })
	if err != nil {
		return err
	}
	if err := preflight.Kinds(mgr.GetRESTMapper()); err != nil {
		return err
	}
	if cfg.reconcilers {
		if err := preflight.LBC(ctx, mgr.GetAPIReader(), mgr.GetRESTMapper()); err != nil {
			return err
		}
	}
	appCfg := app.Config{
		Admission:   ownership.Options{AllowUnmanaged: cfg.allowUnmanaged, Limits: cfg.limits},
		Webhooks:    cfg.webhooks,
		Reconcilers: cfg.reconcilers,

		ReconcilerWrites:     cfg.writeQPS,
		ReconcilerWriteBurst: cfg.writeBurst,
	}
	if awsCfg != nil {
		appCfg.AWS = &app.AWS{Config: *awsCfg, Cluster: cfg.cluster, DNSBatchWindow: cfg.dnsWindow, PollInterval: cfg.acmPoll, ExternalDNS: cfg.externalDNS}
	}
	if err := app.Register(ctx, mgr, appCfg); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := addReadyChecks(mgr, cfg.webhooks); err != nil {
		return err
	}
	return mgr.Start(ctx)
}

// checkedAWS loads the AWS configuration when the AWS reconcilers run, after the start-up checks
// (cluster name, region, credentials) that no retry could fix; nil when they do not run.
func checkedAWS(ctx context.Context, cfg config) (*aws.Config, error) {
	if !cfg.aws || !cfg.reconcilers {
		return nil, nil
	}
	if err := preflight.ClusterName(cfg.cluster); err != nil {
		return nil, err
	}
	awsCfg, err := awsclient.Load(ctx, awsclient.Config{
		Region: cfg.awsRegion, Endpoint: cfg.awsEndpoint, Rates: cfg.rates, Registerer: metrics.Registry,
	})
	if err != nil {
		return nil, err
	}
	id, err := preflight.AWS(ctx, awsCfg)
	if err != nil {
		return nil, err
	}
	ctrl.Log.WithName("setup").Info("AWS credentials", "account", id.Account, "arn", id.ARN, "region", awsCfg.Region, "cluster", cfg.cluster)
	return &awsCfg, nil
}

// inClusterNamespace is where a pod finds its namespace, the leader election lease's default.
const inClusterNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// checkLocal checks what the process needs from its own files before it starts, so that a
// missing one is reported with the flag that names it, not as a bare file error from deep in
// the manager's start (or controller-runtime's wording of its option).
func checkLocal(cfg config) error {
	if cfg.webhooks {
		if err := certFiles(cfg.certDir); err != nil {
			return fmt.Errorf("the webhooks' serving certificate: %w: set --webhook-cert-dir to a directory with tls.crt and tls.key "+
				"(the chart mounts them from its webhook Secret; `make certs` makes them for `make run`), or --webhooks=false", err)
		}
	}
	// Without its files the metrics server would quietly serve a self-signed certificate
	// instead, which a scraper that verifies the named one refuses.
	if cfg.metricsCertDir != "" && cfg.metricsSecure && cfg.metricsAddr != "0" {
		if err := certFiles(cfg.metricsCertDir); err != nil {
			return fmt.Errorf("the metrics endpoint's certificate: %w: set --metrics-cert-dir to a directory with tls.crt and tls.key, or leave it empty for a self-signed one", err)
		}
	}
	if cfg.leaderElection && cfg.leaderElectNS == "" {
		if _, err := os.Stat(inClusterNamespace); err != nil {
			return errors.New("leader election needs a namespace for its lease, and outside a pod there is none to default to: set --leader-election-namespace, or --leader-elect=false for a single replica")
		}
	}
	return nil
}

// certFiles checks that dir holds a serving certificate: tls.crt and tls.key.
func certFiles(dir string) error {
	for _, f := range []string{"tls.crt", "tls.key"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	return nil
}
