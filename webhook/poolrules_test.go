package webhook

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

func TestAPoolMustHoldAnALBRuleOnEveryListenerOfEachCertificate(t *testing.T) {
	for _, tc := range []struct {
		name         string
		certs, rules int32
		http         bool
		deny         string
	}{
		{name: "the defaults fit without the HTTP listener", certs: 25, rules: 100},
		{name: "the defaults fit with the HTTP listener", certs: 25, rules: 100, http: true},
		{name: "one rule per certificate fits without the HTTP listener", certs: 30, rules: 30},
		{name: "one rule per certificate is too few with the HTTP listener", certs: 30, rules: 30, http: true,
			deny: "must be at least 60, maxCertificatesPerGateway (30) times the listeners each hostname's HTTPRoutes get ALB rules on (2 with the HTTP listener)"},
		{name: "two rules per certificate fit with the HTTP listener", certs: 30, rules: 60, http: true},
		{name: "fewer rules than certificates are too few anyway", certs: 25, rules: 10, deny: "must be at least 25"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &v1alpha1.GatewayPool{}
			p.Name = "public"
			p.Spec.MinGateways, p.Spec.MaxGateways = 1, 3
			p.Spec.MaxCertificatesPerGateway, p.Spec.MaxRulesPerGateway, p.Spec.Template.HTTPListener = tc.certs, tc.rules, tc.http
			_, err := validatePool(p, nil)
			if tc.deny == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.deny)
		})
	}
}

// TestAPoolThatHadTooFewRulesBeforeTheRuleCanStillBeEdited: a pool made before the rule (30
// certificates, 30 rules, the HTTP listener) may still have its labels edited, and be fixed; an
// update that changes a setting the rule reads must meet it.
func TestAPoolThatHadTooFewRulesBeforeTheRuleCanStillBeEdited(t *testing.T) {
	pool := func(certs, rules int32, http bool) *v1alpha1.GatewayPool {
		p := &v1alpha1.GatewayPool{}
		p.Name = "public"
		p.Spec.MinGateways, p.Spec.MaxGateways = 1, 3
		p.Spec.MaxCertificatesPerGateway, p.Spec.MaxRulesPerGateway, p.Spec.Template.HTTPListener = certs, rules, http
		return p
	}
	old := pool(30, 30, true)
	labelled := pool(30, 30, true)
	labelled.Labels = map[string]string{"team": "platform"}
	_, err := validatePool(labelled, old)
	require.NoError(t, err, "a label edit of a pool that broke the rule before it existed")
	_, err = validatePool(pool(30, 60, true), old)
	require.NoError(t, err, "the fix")
	_, err = validatePool(pool(30, 40, true), old)
	require.Error(t, err, "raising the rules, but not enough: the update changes what the rule reads")
	_, err = validatePool(pool(30, 30, true), pool(30, 60, true))
	require.Error(t, err, "a pool that met the rule cannot be updated into breaking it")
	_, err = validatePool(pool(30, 30, true), nil)
	require.Error(t, err, "a new pool must meet it")
}
