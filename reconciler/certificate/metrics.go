package certificate

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opendi/gateway-orchestrator/internal/promutil"
)

// Metrics are the certificate reconciler's metrics.
type Metrics struct {
	// IssueSeconds is the time from a claim's creation to its certificate's issuance.
	IssueSeconds prometheus.Histogram
	// ExpiryDays is the days until each claim's certificate expires. It describes the cluster,
	// so only the leader exports it (promutil.RegisterLeaderOnly).
	ExpiryDays *prometheus.GaugeVec
}

// NewMetrics registers the certificate metrics with reg; the cluster-wide gauge is exported
// only once elected is closed (the manager's Elected()).
func NewMetrics(reg prometheus.Registerer, elected <-chan struct{}) *Metrics {
	return &Metrics{
		IssueSeconds: promutil.Register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gateway_orchestrator_claim_to_certificate_issued_seconds",
			Help:    "Time from a DomainClaim's creation to its ACM certificate being issued.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 14), // 1 s … 2.3 h
		})),
		ExpiryDays: promutil.RegisterLeaderOnly(reg, elected, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gateway_orchestrator_certificate_expiry_days",
			Help: "Days until a DomainClaim's ACM certificate expires; ACM renews certificates in use from 60 days before.",
		}, []string{"claim"})),
	}
}

func (m *Metrics) issued(d time.Duration) {
	if m != nil {
		m.IssueSeconds.Observe(d.Seconds())
	}
}

func (m *Metrics) expires(claim string, in time.Duration) {
	if m != nil {
		m.ExpiryDays.WithLabelValues(claim).Set(in.Hours() / 24)
	}
}

func (m *Metrics) forget(claim string) {
	if m != nil {
		m.ExpiryDays.DeleteLabelValues(claim)
	}
}
