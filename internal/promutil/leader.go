package promutil

import "github.com/prometheus/client_golang/prometheus"

// LeaderOnly wraps a collector of gauges that describe the whole cluster (claims by condition,
// days to certificate expiry) so that only the elected replica reports them: every replica's
// cache holds the same objects, and summing the gauges of two replicas would double them. Until
// elected is closed it reports nothing. Pass the manager's Elected() channel; without leader
// election that channel closes at start.
func LeaderOnly(elected <-chan struct{}, c prometheus.Collector) prometheus.Collector {
	return &leaderOnly{elected: elected, Collector: c}
}

type leaderOnly struct {
	elected <-chan struct{}
	prometheus.Collector
}

// Collect implements prometheus.Collector.
func (l *leaderOnly) Collect(ch chan<- prometheus.Metric) {
	select {
	case <-l.elected:
		l.Collector.Collect(ch)
	default:
	}
}
