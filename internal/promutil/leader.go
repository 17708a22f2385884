package promutil

import (
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// LeaderOnly wraps a collector of gauges that describe the whole cluster (claims by condition,
// days to certificate expiry) so that only the elected replica reports them: every replica's
// cache holds the same objects, and summing the gauges of two replicas would double them. Until
// elected is closed it reports nothing. Pass the manager's Elected() channel; without leader
// election that channel closes at start.
func LeaderOnly(elected <-chan struct{}, c prometheus.Collector) prometheus.Collector {
	return &leaderOnly{elected: elected, c: c}
}

// RegisterLeaderOnly registers LeaderOnly(elected, c) with reg and returns c. A second
// registration of the same metric (a restarted manager in one process) takes the first one's
// place: from then on the registered wrapper reports c while its new manager is the leader.
func RegisterLeaderOnly[T prometheus.Collector](reg prometheus.Registerer, elected <-chan struct{}, c T) T {
	if reg == nil {
		return c
	}
	err := reg.Register(LeaderOnly(elected, c))
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(*leaderOnly); ok {
			existing.replace(elected, c)
			return c
		}
	}
	panic(err)
}

type leaderOnly struct {
	mu      sync.Mutex
	elected <-chan struct{}
	c       prometheus.Collector
}

func (l *leaderOnly) current() (<-chan struct{}, prometheus.Collector) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.elected, l.c
}

func (l *leaderOnly) replace(elected <-chan struct{}, c prometheus.Collector) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.elected, l.c = elected, c
}

// Describe implements prometheus.Collector.
func (l *leaderOnly) Describe(ch chan<- *prometheus.Desc) {
	_, c := l.current()
	c.Describe(ch)
}

// Collect implements prometheus.Collector.
func (l *leaderOnly) Collect(ch chan<- prometheus.Metric) {
	elected, c := l.current()
	select {
	case <-elected:
		c.Collect(ch)
	default:
	}
}
