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

func TestARestartedManagersLeaderOnlyGaugeTakesThePlaceOfTheFirst(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	opts := prometheus.GaugeOpts{Name: "test_expiry", Help: "h"}
	first, second := make(chan struct{}), make(chan struct{})
	g1 := promutil.RegisterLeaderOnly(reg, first, prometheus.NewGauge(opts))
	g1.Set(1)
	close(first)
	assert.Equal(t, 1, samples(t, reg), "the first manager leads and reports")

	// The first manager stops; a new one in the same process registers the same metric.
	g2 := promutil.RegisterLeaderOnly(reg, second, prometheus.NewGauge(opts))
	require.NotSame(t, g1, g2)
	g2.Set(2)
	assert.Zero(t, samples(t, reg), "the new manager is not elected yet: nothing is reported, not the old manager's value")
	close(second)
	mfs, err := reg.Gather()
	require.NoError(t, err)
	require.Len(t, mfs, 1)
	assert.InDelta(t, 2.0, mfs[0].GetMetric()[0].GetGauge().GetValue(), 0, "the new manager's gauge is reported")
}
