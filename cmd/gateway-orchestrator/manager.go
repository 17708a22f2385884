package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"k8s.io/client-go/rest"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/leaderelection"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/opendi/gateway-orchestrator/cmd/gateway-orchestrator/app"
)

// LeaderElectionID names the lease the replicas compete for.
const LeaderElectionID = "gateway-orchestrator.gateway.opendi.com"

// renewDeadline is how long a leader keeps trying to renew its lease (controller-runtime's default).
const renewDeadline = 10 * time.Second

// newManager makes the manager for cfg, with the drain that keeps admission served for
// cfg.shutdownDelay when it stops (app.Drain); setOptions, when not nil, changes its options
// first.
func newManager(restCfg *rest.Config, cfg config, setOptions func(*ctrl.Options)) (manager.Manager, error) {
	opts, drain, err := managerOptions(cfg, restCfg)
	if err != nil {
		return nil, err
	}
	if setOptions != nil {
		setOptions(&opts)
	}
	mgr, err := ctrl.NewManager(restCfg, opts)
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	if err := drain.Wire(mgr); err != nil {
		return nil, err
	}
	return mgr, nil
}

// managerOptions are the manager's options for cfg, and the drain they stop with.
func managerOptions(cfg config, restCfg *rest.Config) (ctrl.Options, *app.Drain, error) {
	delay := cfg.shutdownDelay
	if !cfg.webhooks || delay < 0 {
		delay = 0 // nothing to drain
	}
	drain := app.NewDrain(delay)
	servers := app.ServerOptions{
		WebhookPort: cfg.webhookPort, WebhookCertDir: cfg.certDir, WebhookClientCA: cfg.webhookClientCA,
		MetricsAddr: cfg.metricsAddr, MetricsInsecure: !cfg.metricsSecure, MetricsCertDir: cfg.metricsCertDir,
		EnableHTTP2: cfg.enableHTTP2, Drain: drain,
	}
	webhookServer, err := app.WebhookServer(servers)
	if err != nil {
		return ctrl.Options{}, nil, err
	}
	grace, renew := drain.GracefulShutdown(), renewDeadline
	opts := ctrl.Options{
		Scheme:                  app.NewScheme(),
		Cache:                   app.CacheOptions(),
		NewCache:                drain.NewCache(nil),
		Metrics:                 app.MetricsServer(servers),
		HealthProbeBindAddress:  cfg.probeAddr,
		LeaderElection:          cfg.leaderElection,
		LeaderElectionID:        LeaderElectionID,
		LeaderElectionNamespace: cfg.leaderElectNS,
		RenewDeadline:           &renew,
		// A stopping leader gives the lease up as soon as its reconcilers have stopped (the
		// drain's lock), so another replica takes over within its retry period instead of
		// waiting out the lease (15 s) or the shutdown delay.
		LeaderElectionReleaseOnCancel: true,
		WebhookServer:                 webhookServer,
		GracefulShutdownTimeout:       &grace,
	}
	if cfg.leaderElection {
		lock, err := drain.Lock(restCfg, leaderelection.Options{
			LeaderElection: true, LeaderElectionID: LeaderElectionID, LeaderElectionNamespace: cfg.leaderElectNS,
			RenewDeadline: renew,
		})
		if err != nil {
			return ctrl.Options{}, nil, err
		}
		opts.LeaderElectionResourceLockInterface = lock
	}
	return opts, drain, nil
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
