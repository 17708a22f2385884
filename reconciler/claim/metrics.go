package claim

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/promutil"
)

// ConditionCollector exports how many claims have each condition in each status, read from the
// informer cache when Prometheus scrapes.
type ConditionCollector struct {
	Reader client.Reader
	desc   *prometheus.Desc
}

// NewConditionCollector returns a collector over the cache behind r.
func NewConditionCollector(r client.Reader) *ConditionCollector {
	return &ConditionCollector{Reader: r, desc: prometheus.NewDesc(
		"gateway_orchestrator_claims", "DomainClaims by condition type and status.", []string{"condition", "status"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *ConditionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *ConditionCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var l v1alpha1.DomainClaimList
	if err := c.Reader.List(ctx, &l, client.UnsafeDisableDeepCopy); err != nil {
		return
	}
	counts := map[[2]string]int{}
	for _, dc := range l.Items {
		for _, cond := range dc.Status.Conditions {
			counts[[2]string{cond.Type, string(cond.Status)}]++
		}
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), k[0], k[1])
	}
}

// NewSettlementCounter registers the counter of overlaps the claim reconciler settled.
func NewSettlementCounter(reg prometheus.Registerer) prometheus.Counter {
	return promutil.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "gateway_orchestrator_claim_overlaps_settled_total",
		Help: "Overlapping claims of different namespaces settled after the fact (the newer marked Conflicted); admission stops the rest.",
	}))
}
