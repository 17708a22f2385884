package helmchart

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/opendi/gateway-orchestrator/test/testenv"
)

func TestChartRequiresTheAPIServersClientCertificateWhenGivenItsCA(t *testing.T) {
	c := theDeployment(t, render(t, "gwo-system", required...)).Spec.Template.Spec.Containers[0]
	for _, a := range c.Args {
		assert.NotContains(t, a, "--webhook-client-ca", "off by default")
	}

	spec := theDeployment(t, render(t, "gwo-system", nonDefault...)).Spec.Template.Spec
	assert.Contains(t, spec.Containers[0].Args, "--webhook-client-ca=/client-ca/ca.crt")
	var mounted bool
	for _, v := range spec.Volumes {
		if v.Name == "client-ca" {
			require.NotNil(t, v.ConfigMap)
			assert.Equal(t, "apiserver-admission-ca", v.ConfigMap.Name)
			mounted = true
		}
	}
	assert.True(t, mounted, "the CA's ConfigMap is mounted")
}

func TestChartServesMetricsOverHTTPSToAuthorizedScrapers(t *testing.T) {
	objs := render(t, "gwo-system", nonDefault...)
	assert.Contains(t, theDeployment(t, objs).Spec.Template.Spec.Containers[0].Args, "--metrics-secure=true")

	generated, err := decodeFile(filepath.Join(testenv.RepoRoot(), "deploy", "rbac", "metrics_reader_role.yaml"))
	require.NoError(t, err)
	var want rbacv1.ClusterRole
	convert(t, generated[0], &want)
	var role rbacv1.ClusterRole
	convert(t, named(t, objs, "ClusterRole", "gwo-gateway-orchestrator-metrics-reader"), &role)
	assert.Equal(t, want.Rules, role.Rules, "the same ClusterRole as kustomize's")
	assert.Equal(t, []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}, role.Rules)
	var binding rbacv1.ClusterRoleBinding
	convert(t, named(t, objs, "ClusterRoleBinding", "gwo-gateway-orchestrator-metrics-reader"), &binding)
	assert.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: "prometheus-k8s", Namespace: "monitoring"}}, binding.Subjects)

	sm := find(objs, "ServiceMonitor")
	require.Len(t, sm, 1)
	endpoints, _, _ := unstructured.NestedSlice(sm[0].Object, "spec", "endpoints")
	require.Len(t, endpoints, 1)
	ep := endpoints[0].(map[string]any)
	assert.Equal(t, "https", ep["scheme"])
	assert.Equal(t, "/var/run/secrets/kubernetes.io/serviceaccount/token", ep["bearerTokenFile"])
}

func named(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range find(objs, kind) {
		if o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s rendered", kind, name)
	return nil
}

func TestChartGatewayWebhookSkipsTheOrchestratorsOwnWrites(t *testing.T) {
	objs := render(t, "gwo-system", required...)
	var found []string
	for _, o := range find(objs, "ValidatingWebhookConfiguration") {
		var c admissionv1.ValidatingWebhookConfiguration
		convert(t, o, &c)
		for _, w := range c.Webhooks {
			for _, mc := range w.MatchConditions {
				if mc.Name == "not-the-orchestrator" {
					found = append(found, w.Name+": "+mc.Expression)
				}
			}
		}
	}
	sa := find(objs, "ServiceAccount")
	require.Len(t, sa, 1)
	self := "request.userInfo.username != 'system:serviceaccount:gwo-system:" + sa[0].GetName() + "'"
	assert.Equal(t, []string{"vgateway.gateway.opendi.com: " + self, "vloadbalancerconfiguration.gateway.opendi.com: " + self}, found,
		"as deploy/default: the pool Gateways and LoadBalancerConfigurations the orchestrator writes skip its webhooks")
}
