// Package app is the composition root of the gateway-orchestrator binary, next to it: it wires the
// orchestrator into a controller-runtime manager: the scheme, the cache
// indexes, every webhook and every reconciler, registered explicitly. The binary and the test
// environment share it, so tests run exactly what ships.
package app

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/backoff"
	"github.com/opendi/gateway-orchestrator/internal/clusterid"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
	"github.com/opendi/gateway-orchestrator/internal/promutil"
	"github.com/opendi/gateway-orchestrator/internal/writebudget"
	"github.com/opendi/gateway-orchestrator/reconciler/certificate"
	"github.com/opendi/gateway-orchestrator/reconciler/claim"
	"github.com/opendi/gateway-orchestrator/reconciler/dns"
	"github.com/opendi/gateway-orchestrator/reconciler/gatewaypool"
	"github.com/opendi/gateway-orchestrator/reconciler/lbconfig"
	"github.com/opendi/gateway-orchestrator/reconciler/lbname"
	"github.com/opendi/gateway-orchestrator/reconciler/readiness"
	"github.com/opendi/gateway-orchestrator/reconciler/routes"
	"github.com/opendi/gateway-orchestrator/reconciler/zonestatus"
	"github.com/opendi/gateway-orchestrator/webhook"
)

// Config is what the orchestrator is told at start.
type Config struct {
	// Admission changes what the HTTPRoute webhook allows.
	Admission ownership.Options
	// Webhooks turns the admission webhooks on.
	Webhooks bool
	// Reconcilers turns the reconcilers on.
	Reconcilers bool
	// Clock is injected into reconcilers; nil means the real clock.
	Clock clock.PassiveClock
	// KindChangeStagger is the most a replica waits, at random, before it stops for a CRD
	// installed or removed after start (ErrServedKindsChanged), so that the replicas do not all
	// restart at once and admission stays served; zero means DefaultKindChangeStagger.
	KindChangeStagger time.Duration
	// QuietPeriod is how long a new claim's steps that are only on their way are kept out of its
	// status (claimstatus.Hold); zero means claimstatus.DefaultQuietPeriod.
	QuietPeriod time.Duration
	// AWS turns on the reconcilers that talk to AWS; nil leaves them off.
	AWS *AWS
	// Metrics is where the reconcilers register their metrics; nil means controller-runtime's
	// registry, which the manager serves.
	Metrics prometheus.Registerer
	// ReconcilerWrites is how many writes a second the reconcilers together may send the API
	// server, with bursts of ReconcilerWriteBurst (package writebudget); zero or less means no
	// limit (the binary's default is DefaultReconcilerWrites).
	// Admission's writes never wait for it.
	ReconcilerWrites     float64
	ReconcilerWriteBurst int
}

// AWS configures the AWS reconcilers.
type AWS struct {
	Config aws.Config
	// Cluster names this cluster in tags and DNS ownership markers; empty derives a unique ID
	// from the cluster (see package clusterid).
	Cluster string
	// DNSBatchWindow is the least time between two Route53 change batches of one hosted zone.
	DNSBatchWindow time.Duration
	// PollInterval is how often pending ACM certificates are checked (one ListCertificates for all).
	PollInterval time.Duration
	// InUseRetry is how soon deleting a certificate a load balancer still uses is tried again.
	InUseRetry time.Duration
	// Backoff spaces out a claim's AWS calls that failed for a missing permission, an invalid
	// request, a used-up quota or throttling beyond the SDK's retries (backoff.Default when zero).
	Backoff backoff.Policy
	// RenewalCheck is how often issued certificates' expiry and renewal are read again.
	RenewalCheck time.Duration
	// DNSRefresh is how often a hosted zone is read again to repair our records (10 minutes).
	DNSRefresh time.Duration
	// ExternalDNS is how an external-dns that shares the hosted zones names its TXT registry, so
	// that its records are reported with their owner ID (external-dns's defaults when zero).
	ExternalDNS dnsbatch.ExternalDNS
}

// DefaultReconcilerWrites and DefaultReconcilerWriteBurst are the reconcilers' write budget unless
// told otherwise (--reconciler-write-qps, --reconciler-write-burst): it keeps admission fast while
// thousands of new claims are worked through on a small API server (measured at 50 a second,
// docs/operations.md, "Write budget"). The budget's tokens (writebudget.Fair) and the
// claim-keyed work queues (package fairqueue) take turns between namespaces, so such a backlog
// delays another namespace's new claim by a turn per busy namespace, not by the backlog.
const (
	DefaultReconcilerWrites     = 50
	DefaultReconcilerWriteBurst = 100
)

// writeBudget is the reconcilers' write budget, fair between namespaces, until ctx ends; nil when
// ReconcilerWrites is zero or less (no limit).
func (cfg Config) writeBudget(ctx context.Context) writebudget.Waiter {
	if cfg.ReconcilerWrites <= 0 {
		return nil
	}
	return writebudget.NewFair(ctx, cfg.ReconcilerWrites, cfg.ReconcilerWriteBurst)
}

// NewScheme returns a scheme with every type the orchestrator reads or writes.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	must(clientgoscheme.AddToScheme(s))
	must(v1alpha1.AddToScheme(s))
	must(gwv1.Install(s))
	return s
}

// CacheOptions keeps the informer cache small: managed fields are dropped from every object, and
// only the Namespace fields admission reads are kept.
func CacheOptions() cache.Options {
	return cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Namespace{}: {Transform: stripNamespace},
		},
	}
}

// Register adds the indexes, webhooks and reconcilers to mgr.
func Register(ctx context.Context, mgr manager.Manager, cfg Config) error {
	if err := index.Setup(ctx, mgr.GetFieldIndexer()); err != nil {
		return fmt.Errorf("registering cache indexes: %w", err)
	}
	// Admission (whether LBC serves an Ingress, the group its class imposes) and the ALB name
	// re-check read IngressClasses from the cache. Registered now, their informer syncs with the
	// others before the manager is ready; read first by an admission, it would start then, and
	// the admission would wait for its first list within the webhook's timeout.
	if _, err := mgr.GetCache().GetInformer(ctx, &networkingv1.IngressClass{}); err != nil {
		return fmt.Errorf("watching IngressClasses: %w", err)
	}
	// Admission reads the Namespace of every new claim (its UID is stamped on the claim) and of
	// claims it decides on; only the controllers' watches would start that informer, and those
	// start on the leader alone, so a webhook-only replica would list every Namespace inside its
	// first admission.
	if _, err := mgr.GetCache().GetInformer(ctx, &corev1.Namespace{}); err != nil {
		return fmt.Errorf("watching Namespaces: %w", err)
	}
	// Admission of an object for a claim its namespace holds asks whether another object of the
	// namespace uses the hostname (webhook.Claimer.Keep marks an idle claim): the kinds of the
	// route-hostname index are watched from the start for the same reason.
	for _, o := range []client.Object{&gwv1.HTTPRoute{}, &gwv1.GRPCRoute{}, &networkingv1.Ingress{}, &gwv1.Gateway{}} {
		if _, err := mgr.GetCache().GetInformer(ctx, o); err != nil {
			return fmt.Errorf("watching %T: %w", o, err)
		}
	}
	// ListenerSets are watched only when served at start; a CRD installed (or removed) later stops
	// the manager with ErrServedKindsChanged, so that the next start watches what is served.
	stagger := cfg.KindChangeStagger
	if stagger == 0 {
		stagger = DefaultKindChangeStagger
	}
	listenerSets, err := watchServed(mgr, schema.GroupKind{Group: gwv1.GroupName, Kind: "ListenerSet"}, "listenersets", stagger)
	if err != nil {
		return err
	}
	if listenerSets {
		if err := index.SetupListenerSets(ctx, mgr.GetFieldIndexer()); err != nil {
			return fmt.Errorf("registering cache indexes: %w", err)
		}
	}
	// TLSRoutes keep the claims they list in use (reconciler/claim), likewise only when served.
	tlsRoutes, err := watchServed(mgr, schema.GroupKind{Group: gwv1.GroupName, Kind: "TLSRoute"}, "tlsroutes", stagger)
	if err != nil {
		return err
	}
	if tlsRoutes {
		if err := index.SetupTLSRoutes(ctx, mgr.GetFieldIndexer()); err != nil {
			return fmt.Errorf("registering cache indexes: %w", err)
		}
	}
	reg := cfg.Metrics
	if reg == nil {
		reg = metrics.Registry
	}
	if cfg.Webhooks {
		// The Ingress webhook reads LBC's IngressClassParams only when served at start
		// (webhook.Register); a CRD installed or removed later restarts the manager likewise.
		if _, err := watchServed(mgr, lbc.IngressClassParamsGVK.GroupKind(), "ingressclassparams", stagger); err != nil {
			return err
		}
		// Route admission reads TargetGroupConfigurations from the cache only when served at start.
		if _, err := watchServed(mgr, lbc.TargetGroupConfigurationGVK.GroupKind(), "targetgroupconfigurations", stagger); err != nil {
			return err
		}
		var finalizers []string
		if cfg.AWS != nil {
			finalizers = append(finalizers, v1alpha1.FinalizerAWSCleanup)
		}
		if err := webhook.Register(mgr, reg, cfg.Admission, finalizers...); err != nil {
			return fmt.Errorf("registering webhooks: %w", err)
		}
	}
	if cfg.Reconcilers {
		// The reconcilers write through one budget; the webhooks keep the manager's client.
		kc := writebudget.Client(mgr.GetClient(), cfg.writeBudget(ctx))
		c := cfg.Clock
		if c == nil {
			c = clock.RealClock{}
		}
		if err := (&claim.Reconciler{
			Client:       kc,
			Clock:        c,
			Recorder:     mgr.GetEventRecorder("gateway-orchestrator"),
			Settlements:  claim.NewSettlementCounter(reg),
			ListenerSets: listenerSets,
			TLSRoutes:    tlsRoutes,
		}).SetupWithManager(mgr); err != nil {
			return fmt.Errorf("registering the claim reconciler: %w", err)
		}
		// Cluster-wide gauges come from the leader only: every replica's cache holds the same claims.
		promutil.RegisterLeaderOnly(reg, mgr.Elected(), claim.NewConditionCollector(mgr.GetCache()))
		promutil.RegisterLeaderOnly(reg, mgr.Elected(), zonestatus.NewNotReadyCollector(mgr.GetCache(), c))
		if err := (&zonestatus.Reconciler{Client: kc}).SetupWithManager(mgr); err != nil {
			return fmt.Errorf("registering the zone status reconciler: %w", err)
		}
		pools := &gatewaypool.Reconciler{Client: kc, APIReader: mgr.GetAPIReader(), Metrics: gatewaypool.NewMetrics(reg, mgr.Elected()), QuietPeriod: cfg.QuietPeriod,
			ListenerSets: listenerSets}
		if cfg.AWS != nil {
			pools.ELB, pools.Backoff = elbv2.NewFromConfig(cfg.AWS.Config), cfg.AWS.Backoff
		}
		if err := pools.SetupWithManager(mgr); err != nil {
			return fmt.Errorf("registering the gateway pool reconciler: %w", err)
		}
		if err := (&routes.Reconciler{Client: kc}).SetupWithManager(mgr); err != nil {
			return fmt.Errorf("registering the routes reconciler: %w", err)
		}
		if err := lbname.SetupIngresses(mgr); err != nil {
			return fmt.Errorf("registering the Ingress load balancer name re-check: %w", err)
		}
		if err := registerConfigurations(ctx, mgr, stagger); err != nil {
			return err
		}
		steps := readiness.StepsWithoutAWS
		if cfg.AWS != nil {
			steps = readiness.Steps
			if err := registerAWS(ctx, mgr, kc, cfg.AWS, c, reg, cfg.QuietPeriod); err != nil {
				return err
			}
		}
		if err := (&readiness.Reconciler{
			Client:       kc,
			Steps:        steps,
			Clock:        c,
			Recorder:     mgr.GetEventRecorder("gateway-orchestrator"),
			ReadySeconds: readiness.NewReadyHistogram(reg),
			QuietPeriod:  cfg.QuietPeriod,
		}).SetupWithManager(mgr); err != nil {
			return fmt.Errorf("registering the readiness reconciler: %w", err)
		}
	}
	return nil
}

// registerConfigurations registers the LoadBalancerConfiguration reconcilers, which report
// tenants' configurations naming another namespace's claim certificate or ALB, where LBC's CRD is
// served at start; a CRD installed or removed later restarts the manager, as for ListenerSets.
func registerConfigurations(ctx context.Context, mgr manager.Manager, stagger time.Duration) error {
	ok, err := watchServed(mgr, lbc.GroupVersionKind.GroupKind(), "loadbalancerconfigurations", stagger)
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	if err := index.SetupLoadBalancerConfigurations(ctx, mgr.GetFieldIndexer()); err != nil {
		return fmt.Errorf("registering cache indexes: %w", err)
	}
	if err := (&lbconfig.Reconciler{Reader: mgr.GetCache()}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("registering the LoadBalancerConfiguration reconciler: %w", err)
	}
	if err := lbname.SetupConfigurations(mgr); err != nil {
		return fmt.Errorf("registering the LoadBalancerConfiguration load balancer name re-check: %w", err)
	}
	return nil
}

// watchServed reports whether the API server serves kind gk at start, and adds to mgr the watch
// of its CRD (resource.group) that stops the manager when that changes (ErrServedKindsChanged).
func watchServed(mgr manager.Manager, gk schema.GroupKind, resource string, stagger time.Duration) (bool, error) {
	ok, err := served(mgr.GetRESTMapper(), gk)
	if err != nil {
		return false, err
	}
	w, err := newKindWatch(mgr.GetConfig(), mgr.GetHTTPClient(), mgr.GetLogger().WithName("kind-watch"), gk, resource+"."+gk.Group, ok, stagger)
	if err != nil {
		return false, err
	}
	if err := mgr.Add(w); err != nil {
		return false, fmt.Errorf("registering the %s CRD watch: %w", gk.Kind, err)
	}
	return ok, nil
}

// served reports whether the API server serves kind gk (its CRD is installed).
func served(mapper meta.RESTMapper, gk schema.GroupKind) (bool, error) {
	_, err := mapper.RESTMapping(gk)
	if meta.IsNoMatchError(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking up whether the API server serves %s: %w", gk, err)
	}
	return true, nil
}

func registerAWS(ctx context.Context, mgr manager.Manager, kc client.Client, a *AWS, c clock.PassiveClock, reg prometheus.Registerer, quiet time.Duration) error {
	cluster, err := clusterid.Resolve(ctx, mgr.GetAPIReader(), a.Cluster)
	if err != nil {
		return err
	}
	mgr.GetLogger().Info("naming this cluster in AWS tags and DNS ownership markers", "cluster", cluster)
	acmClient := acm.NewFromConfig(a.Config)
	r53 := route53.NewFromConfig(a.Config)
	window, interval := a.DNSBatchWindow, a.PollInterval
	if window == 0 {
		window = 2 * time.Second
	}
	if interval == 0 {
		interval = 15 * time.Second
	}
	batcher := &dnsbatch.Batcher{API: r53, Cluster: cluster, Window: window, Refresh: a.DNSRefresh, ExternalDNS: a.ExternalDNS}
	if err := mgr.Add(batcher); err != nil {
		return fmt.Errorf("registering the Route53 batcher: %w", err)
	}
	if err := (&certificate.Reconciler{
		Client:       kc,
		ACM:          acmClient,
		DNS:          batcher,
		Poller:       &certificate.Poller{ACM: acmClient, Interval: interval},
		Requester:    &certificate.Requester{ACM: acmClient, Workers: 4},
		Cluster:      cluster,
		Clock:        c,
		Recorder:     mgr.GetEventRecorder("gateway-orchestrator"),
		InUseRetry:   a.InUseRetry,
		Backoff:      a.Backoff,
		RenewalCheck: a.RenewalCheck,
		QuietPeriod:  quiet,
		Metrics:      certificate.NewMetrics(reg, mgr.Elected()),
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("registering the certificate reconciler: %w", err)
	}
	if err := (&dns.Reconciler{
		Client:   kc,
		DNS:      batcher,
		Recorder: mgr.GetEventRecorder("gateway-orchestrator"),
		Clock:    c,
		Backoff:  a.Backoff,
	}).SetupWithManager(mgr, batcher); err != nil {
		return fmt.Errorf("registering the dns reconciler: %w", err)
	}
	return nil
}

func stripNamespace(o any) (any, error) {
	if ns, ok := o.(*corev1.Namespace); ok {
		ns.Annotations = nil
		ns.ManagedFields = nil
		ns.Spec = corev1.NamespaceSpec{}
		ns.Status = corev1.NamespaceStatus{}
	}
	return o, nil
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
