package promutil_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opendi/gateway-orchestrator/internal/promutil"
)

func TestLeaderOnlyReportsNothingUntilElected(t *testing.T) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "test_claims", Help: "h"}, []string{"condition"})
	g.WithLabelValues("Ready").Set(3)
	elected := make(chan struct{})
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(promutil.LeaderOnly(elected, g)))

	assert.Zero(t, samples(t, reg), "a replica that is not the leader exports no cluster-wide gauge")

	close(elected)
	assert.Equal(t, 1, samples(t, reg), "the leader exports it")
}

func samples(t *testing.T, g prometheus.Gatherer) int {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	n := 0
	for _, mf := range mfs {
		n += len(mf.GetMetric())
	}
	return n
}
