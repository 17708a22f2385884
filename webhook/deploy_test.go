package webhook

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

type webhookDoc struct {
	Metadata metav1.ObjectMeta `json:"metadata"`
	Webhooks []struct {
		Name              string                `json:"name"`
		NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector"`
		SideEffects       string                `json:"sideEffects"`
		FailurePolicy     string                `json:"failurePolicy"`
		MatchPolicy       string                `json:"matchPolicy"`
		TimeoutSeconds    int                   `json:"timeoutSeconds"`
	} `json:"webhooks"`
}

func readDocs(t *testing.T, path string) []webhookDoc {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []webhookDoc
	for _, part := range bytes.Split(data, []byte("\n---")) {
		var d webhookDoc
		require.NoError(t, yaml.Unmarshal(part, &d))
		if len(d.Webhooks) > 0 {
			out = append(out, d)
		}
	}
	return out
}

// TestDeploymentPatchMatchesTheCode keeps deploy/default's webhook patch in step with the
// generated configurations and with NamespaceSelector, which the tests install.
func TestDeploymentPatchMatchesTheCode(t *testing.T) {
	patched := map[string]*metav1.LabelSelector{}
	for _, d := range readDocs(t, "../deploy/default/webhook_patch.yaml") {
		assert.Equal(t, "gateway-orchestrator-system/gateway-orchestrator-serving-cert", d.Metadata.Annotations["cert-manager.io/inject-ca-from"])
		for _, w := range d.Webhooks {
			patched[w.Name] = w.NamespaceSelector
		}
	}
	generated := readDocs(t, "../deploy/webhook/manifests.yaml")
	require.NotEmpty(t, generated)
	for _, d := range generated {
		for _, w := range d.Webhooks {
			assert.Equal(t, NamespaceSelector("gateway-orchestrator-system"), patched[w.Name], "namespaceSelector of %s", w.Name)
			assert.Equal(t, "Fail", w.FailurePolicy, w.Name)
			assert.Equal(t, "Equivalent", w.MatchPolicy, w.Name)
			assert.LessOrEqual(t, w.TimeoutSeconds, 5, w.Name)
			switch w.Name {
			case "vhttproute.gateway.opendi.com", "vgrpcroute.gateway.opendi.com", "vingress.gateway.opendi.com",
				"vgateway.gateway.opendi.com", "vlistenerset.gateway.opendi.com":
				assert.Equal(t, "NoneOnDryRun", w.SideEffects, "%s writes claims, except on dry-run", w.Name)
			}
		}
	}
}
