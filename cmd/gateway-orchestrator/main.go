// Command gateway-orchestrator runs the webhooks and reconcilers that give every team
// self-service HTTPS hostnames on shared AWS load balancers.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/opendi/gateway-orchestrator/internal/app"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

type config struct {
	metricsAddr    string
	probeAddr      string
	webhookPort    int
	certDir        string
	leaderElection bool
	leaderElectNS  string
	allowUnmanaged bool
	webhooks       bool
	reconcilers    bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.metricsAddr, "metrics-bind-address", ":8080", "Address of the Prometheus metrics endpoint; 0 disables it.")
	flag.StringVar(&cfg.probeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz probes.")
	flag.IntVar(&cfg.webhookPort, "webhook-port", 9443, "Port the admission webhooks are served on.")
	flag.StringVar(&cfg.certDir, "webhook-cert-dir", "/tmp/k8s-webhook-server/serving-certs", "Directory with tls.crt and tls.key for the webhooks (reloaded when they change).")
	flag.BoolVar(&cfg.leaderElection, "leader-elect", true, "Elect one replica to run the reconcilers; every replica serves the webhooks.")
	flag.StringVar(&cfg.leaderElectNS, "leader-election-namespace", "", "Namespace of the leader election lease (default: the pod's namespace).")
	flag.BoolVar(&cfg.allowUnmanaged, "allow-unmanaged-hostnames", false, "Let hostnames outside every ManagedZone pass admission untouched.")
	flag.BoolVar(&cfg.webhooks, "webhooks", true, "Serve the admission webhooks.")
	flag.BoolVar(&cfg.reconcilers, "reconcilers", true, "Run the reconcilers.")
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))

	if err := run(ctrl.SetupSignalHandler(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, "gateway-orchestrator:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) error {
	restCfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                  app.NewScheme(),
		Cache:                   app.CacheOptions(),
		Metrics:                 metricsserver.Options{BindAddress: cfg.metricsAddr},
		HealthProbeBindAddress:  cfg.probeAddr,
		LeaderElection:          cfg.leaderElection,
		LeaderElectionID:        "gateway-orchestrator.gateway.opendi.com",
		LeaderElectionNamespace: cfg.leaderElectNS,
		WebhookServer: webhook.NewServer(webhook.Options{
			Port:    cfg.webhookPort,
			CertDir: cfg.certDir,
			TLSOpts: []func(*tls.Config){func(c *tls.Config) { c.MinVersion = tls.VersionTLS12 }},
		}),
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	if err := app.Register(ctx, mgr, app.Config{
		Admission:   ownership.Options{AllowUnmanaged: cfg.allowUnmanaged},
		Webhooks:    cfg.webhooks,
		Reconcilers: cfg.reconcilers,
	}); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	ready := healthz.Ping
	if cfg.webhooks {
		ready = mgr.GetWebhookServer().StartedChecker()
	}
	if err := mgr.AddReadyzCheck("readyz", ready); err != nil {
		return err
	}
	return mgr.Start(ctx)
}
