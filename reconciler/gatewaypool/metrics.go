package gatewaypool

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/opendi/gateway-orchestrator/internal/promutil"
)

// Metrics are the pool reconciler's metrics.
type Metrics struct {
	// CertificatesPerGateway is how many certificates besides the default each pool Gateway
	// carries. It describes the cluster, so only the leader exports it.
	CertificatesPerGateway *prometheus.GaugeVec
}

// NewMetrics registers the pool metrics with reg, exported only once elected is closed (the
// manager's Elected()).
func NewMetrics(reg prometheus.Registerer, elected <-chan struct{}) *Metrics {
	return &Metrics{
		CertificatesPerGateway: promutil.RegisterLeaderOnly(reg, elected, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gateway_orchestrator_gateway_certificates",
			Help: "Certificates on a pool Gateway's HTTPS listener besides the default one (the ALB quota is 25 by default).",
		}, []string{"pool", "namespace", "gateway"})),
	}
}

func (m *Metrics) certificates(pool, namespace, gateway string, n int) {
	if m != nil {
		m.CertificatesPerGateway.WithLabelValues(pool, namespace, gateway).Set(float64(n))
	}
}
