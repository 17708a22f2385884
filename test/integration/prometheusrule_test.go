package integration

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/yaml"

	"github.com/opendi/gateway-orchestrator/test/testenv"
)

// registered reports whether a collector of metrics.Registry describes a metric named name. The
// registry has no lookup, so it is probed: registering a gauge under a name already in use with
// other help fails; under a free name it succeeds (and is removed again).
func registered(name string) bool {
	probe := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: "probe of the PrometheusRule test"})
	if err := metrics.Registry.Register(probe); err != nil {
		return true
	}
	metrics.Registry.Unregister(probe)
	return false
}

// ruleMetric finds the metric names in a PromQL expression: every name followed by a selector,
// which the chart's rules always give (they select the orchestrator's job).
var ruleMetric = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\{`)

func TestEveryMetricInThePrometheusRuleIsRegistered(t *testing.T) {
	helm, err := testenv.HelmBinary()
	require.NoError(t, err)
	out, err := exec.Command(helm, "template", "gwo", filepath.Join(testenv.RepoRoot(), "deploy", "helm", "gateway-orchestrator"),
		"--set", "clusterName=prod-eu-1", "--set", "region=eu-west-1", "--set", "metrics.prometheusRule.enabled=true",
		"--show-only", "templates/prometheusrule.yaml").CombinedOutput()
	require.NoError(t, err, string(out))
	var rule struct {
		Spec struct {
			Groups []struct {
				Rules []struct {
					Alert string `json:"alert"`
					Expr  string `json:"expr"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	require.NoError(t, yaml.Unmarshal(out, &rule))

	alerts := map[string]bool{}
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			alerts[r.Alert] = true
			names := ruleMetric.FindAllStringSubmatch(r.Expr, -1)
			require.NotEmpty(t, names, "alert %s selects no metric", r.Alert)
			for _, m := range names {
				name := m[1]
				if !registered(name) {
					for _, suffix := range []string{"_bucket", "_sum", "_count"} {
						if base, ok := strings.CutSuffix(name, suffix); ok && registered(base) {
							name = base
						}
					}
				}
				assert.True(t, registered(name), "alert %s uses %s, which the orchestrator does not export", r.Alert, m[1])
			}
		}
	}
	// The alerts issue 10 asks for.
	for _, a := range []string{
		"GatewayOrchestratorWebhookErrors", "GatewayOrchestratorWebhookSlow", "GatewayOrchestratorClaimsNotReady",
		"GatewayOrchestratorAWSPermissionDenied", "GatewayOrchestratorCertificateExpiring",
	} {
		assert.True(t, alerts[a], "the PrometheusRule has alert %s", a)
	}
	assert.False(t, registered("gateway_orchestrator_no_such_metric"), "the probe can tell a missing metric")
}
