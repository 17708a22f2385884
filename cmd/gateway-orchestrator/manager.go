package main

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/opendi/gateway-orchestrator/internal/app"
)

// LeaderElectionID names the lease the replicas compete for.
const LeaderElectionID = "gateway-orchestrator.gateway.opendi.com"

// managerOptions are the manager's options for cfg.
func managerOptions(cfg config) ctrl.Options {
	return ctrl.Options{
		Scheme:                  app.NewScheme(),
		Cache:                   app.CacheOptions(),
		Metrics:                 metricsserver.Options{BindAddress: cfg.metricsAddr},
		HealthProbeBindAddress:  cfg.probeAddr,
		LeaderElection:          cfg.leaderElection,
		LeaderElectionID:        LeaderElectionID,
		LeaderElectionNamespace: cfg.leaderElectNS,
		// A stopping leader gives the lease up (the process exits right after), so another
		// replica takes over within its retry period instead of waiting out the lease (15 s).
		LeaderElectionReleaseOnCancel: true,
		WebhookServer: webhook.NewServer(webhook.Options{
			Port:    cfg.webhookPort,
			CertDir: cfg.certDir,
			TLSOpts: []func(*tls.Config){func(c *tls.Config) { c.MinVersion = tls.VersionTLS12 }},
		}),
	}
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
