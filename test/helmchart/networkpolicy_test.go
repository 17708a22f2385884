package helmchart

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// TestChartNetworkPolicyAdmitsOnlyTheAPIServerToTheWebhookPort reads the rendered NetworkPolicy:
// it selects the orchestrator's pods, and of its ingress rules exactly one opens the webhook
// port, to exactly the peers given as networkPolicy.webhookFrom; no rule opens every port or
// admits every peer to a port other than the probes'.
func TestChartNetworkPolicyAdmitsOnlyTheAPIServerToTheWebhookPort(t *testing.T) {
	objs := render(t, "gwo-netpol", nonDefault...)
	nps := find(objs, "NetworkPolicy")
	require.Len(t, nps, 1)
	var np networkingv1.NetworkPolicy
	convert(t, nps[0], &np)
	d := theDeployment(t, objs)

	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	require.NoError(t, err)
	assert.True(t, sel.Matches(labels.Set(d.Spec.Template.Labels)), "the policy selects the orchestrator's pods")
	assert.False(t, sel.Empty(), "and not every pod of the namespace")
	assert.Equal(t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}, np.Spec.PolicyTypes)

	var webhookRules []networkingv1.NetworkPolicyIngressRule
	for _, r := range np.Spec.Ingress {
		require.NotEmpty(t, r.Ports, "a rule without ports opens every port: %+v", r)
		for _, p := range r.Ports {
			require.NotNil(t, p.Port)
			switch p.Port.IntValue() {
			case 9443:
				webhookRules = append(webhookRules, r)
			case 8081: // the kubelet's probes come from the node
			default:
				assert.NotEmpty(t, r.From, "port %s is open to every peer", p.Port)
			}
		}
	}
	require.Len(t, webhookRules, 1, "one rule opens the webhook port")
	require.Len(t, webhookRules[0].Ports, 1, "and no other port")
	require.Len(t, webhookRules[0].From, 1)
	require.NotNil(t, webhookRules[0].From[0].IPBlock)
	assert.Equal(t, "10.0.0.0/16", webhookRules[0].From[0].IPBlock.CIDR, "the API server's addresses, as given")
	assert.Nil(t, webhookRules[0].From[0].PodSelector)
	assert.Nil(t, webhookRules[0].From[0].NamespaceSelector)
}
