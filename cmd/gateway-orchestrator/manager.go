package main

import (
	"context"
	"errors"
	"net/http"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/opendi/gateway-orchestrator/cmd/gateway-orchestrator/app"
)

// LeaderElectionID names the lease the replicas compete for.
const LeaderElectionID = "gateway-orchestrator.gateway.opendi.com"

// managerOptions are the manager's options for cfg.
func managerOptions(cfg config) (ctrl.Options, error) {
	servers := app.ServerOptions{
		WebhookPort: cfg.webhookPort, WebhookCertDir: cfg.certDir, WebhookClientCA: cfg.webhookClientCA,
		MetricsAddr: cfg.metricsAddr, MetricsInsecure: !cfg.metricsSecure, MetricsCertDir: cfg.metricsCertDir,
		EnableHTTP2: cfg.enableHTTP2,
	}
	webhookServer, err := app.WebhookServer(servers)
	if err != nil {
		return ctrl.Options{}, err
	}
	return ctrl.Options{
		Scheme:                  app.NewScheme(),
		Cache:                   app.CacheOptions(),
		Metrics:                 app.MetricsServer(servers),
		HealthProbeBindAddress:  cfg.probeAddr,
		LeaderElection:          cfg.leaderElection,
		LeaderElectionID:        LeaderElectionID,
		LeaderElectionNamespace: cfg.leaderElectNS,
		// A stopping leader gives the lease up (the process exits right after), so another
		// replica takes over within its retry period instead of waiting out the lease (15 s).
		LeaderElectionReleaseOnCancel: true,
		WebhookServer:                 webhookServer,
	}, nil
}

// addReadyChecks makes /readyz wait for the informer caches (the webhooks decide from them) and,
// when they run, for the webhook server.
func addReadyChecks(mgr manager.Manager, webhooks bool) error {
	if err := mgr.AddReadyzCheck("caches", cachesSynced(mgr.GetCache())); err != nil {
		return err
	}
	if webhooks {
		return mgr.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker())
	}
	return nil
}

// cachesSynced reports whether every informer of c has synced.
func cachesSynced(c cache.Cache) healthz.Checker {
	return func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), time.Second)
		defer cancel()
		if !c.WaitForCacheSync(ctx) {
			return errors.New("informer caches have not synced yet")
		}
		return nil
	}
}
