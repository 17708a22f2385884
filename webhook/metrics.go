package webhook

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opendi/gateway-orchestrator/internal/promutil"
)

// Metrics counts admission decisions and times the admission of objects that carry hostnames.
type Metrics struct {
	decisions *prometheus.CounterVec
	latency   *prometheus.HistogramVec
}

// NewMetrics registers the admission metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_orchestrator_admission_hostname_decisions_total",
			Help: "Hostname admission decisions by reason.",
		}, []string{"reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_orchestrator_admission_route_duration_seconds",
			Help:    "Time to admit or deny an object that carries hostnames (routes, Ingresses, Gateways), including any DomainClaim creation.",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1},
		}, []string{"outcome"}),
	}
	m.decisions = promutil.Register(reg, m.decisions)
	m.latency = promutil.Register(reg, m.latency)
	return m
}

func (m *Metrics) decision(reason string) {
	if m != nil {
		m.decisions.WithLabelValues(reason).Inc()
	}
}

func (m *Metrics) observe(outcome string, d time.Duration) {
	if m != nil {
		m.latency.WithLabelValues(outcome).Observe(d.Seconds())
	}
}
