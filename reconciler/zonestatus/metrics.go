package zonestatus

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// MetricOldestNotReady names the gauge of how long each zone's oldest not-Ready claim has not
// been Ready (the chart's PrometheusRule alerts on it).
const MetricOldestNotReady = "gateway_orchestrator_claim_oldest_not_ready_seconds"

// NotReadyCollector exports, per ManagedZone, how long its longest-waiting claim has not been
// Ready: since its Ready condition last changed, or since its creation when it has none yet.
// Claims being deleted are left out. It reads the informer cache when Prometheus scrapes; wrap
// it in promutil.LeaderOnly.
type NotReadyCollector struct {
	Reader client.Reader
	Clock  clock.PassiveClock
	desc   *prometheus.Desc
}

// NewNotReadyCollector returns a collector over the cache behind r.
func NewNotReadyCollector(r client.Reader, c clock.PassiveClock) *NotReadyCollector {
	if c == nil {
		c = clock.RealClock{}
	}
	return &NotReadyCollector{Reader: r, Clock: c, desc: prometheus.NewDesc(MetricOldestNotReady,
		"Seconds the zone's longest-waiting DomainClaim (not being deleted) has not been Ready; zone is empty for claims no ManagedZone covers.",
		[]string{"zone"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *NotReadyCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *NotReadyCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var l v1alpha1.DomainClaimList
	if err := c.Reader.List(ctx, &l, client.UnsafeDisableDeepCopy); err != nil {
		return
	}
	now := c.Clock.Now()
	oldest := map[string]time.Duration{}
	for i := range l.Items {
		dc := &l.Items[i]
		if dc.DeletionTimestamp != nil {
			continue
		}
		since := dc.CreationTimestamp.Time
		if ready := meta.FindStatusCondition(dc.Status.Conditions, v1alpha1.ConditionReady); ready != nil {
			if ready.Status == "True" {
				continue
			}
			since = ready.LastTransitionTime.Time
		}
		z := dc.Status.ManagedZone
		if d, ok := oldest[z]; !ok || now.Sub(since) > d {
			oldest[z] = now.Sub(since)
		}
	}
	for zone, d := range oldest {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, d.Seconds(), zone)
	}
}
