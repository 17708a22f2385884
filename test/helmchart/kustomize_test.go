package helmchart

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/opendi/gateway-orchestrator/cmd/gateway-orchestrator/app"
	"github.com/opendi/gateway-orchestrator/test/testenv"
	"github.com/opendi/gateway-orchestrator/webhook"
)

// kustomizeBuild renders the kustomization in dir as kustomize build does.
func kustomizeBuild(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	require.NoError(t, err)
	out, err := m.AsYaml()
	require.NoError(t, err)
	objs, err := decode(string(out))
	require.NoError(t, err)
	return objs
}

// overlay writes a kustomization over deploy/default that moves it to namespace ns and adds a
// name prefix, as a platform team's overlay would.
func overlay(t *testing.T, ns, prefix string) string {
	t.Helper()
	dir := t.TempDir()
	deploy := filepath.Join(testenv.RepoRoot(), "deploy")
	base, err := filepath.Rel(dir, filepath.Join(deploy, "default"))
	require.NoError(t, err)
	wiring, err := filepath.Rel(dir, filepath.Join(deploy, "wiring"))
	require.NoError(t, err)
	k := "namespace: " + ns + "\nnamePrefix: " + prefix + "\nresources:\n- " + base + "\ntransformers:\n- " + wiring + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o600))
	return dir
}

func TestKustomizeNamesAreConsistentInEveryNamespace(t *testing.T) {
	for _, tc := range []struct {
		name, dir, namespace, prefix string
	}{
		{"deploy/default", filepath.Join(testenv.RepoRoot(), "deploy", "default"), "gateway-orchestrator-system", "gateway-orchestrator-"},
		{"an overlay with another namespace and a name prefix", overlay(t, "platform-dns", "acme-"), "platform-dns", "acme-gateway-orchestrator-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := kustomizeBuild(t, tc.dir)
			ns := tc.namespace
			require.Len(t, find(objs, "Namespace"), 1)
			assert.Equal(t, ns, find(objs, "Namespace")[0].GetName())
			for _, o := range objs {
				if o.GetNamespace() != "" {
					assert.Equal(t, ns, o.GetNamespace(), "%s %s", o.GetKind(), o.GetName())
				}
			}
			if ns != "gateway-orchestrator-system" {
				for _, o := range objs {
					js, err := o.MarshalJSON()
					require.NoError(t, err)
					assert.NotContains(t, string(js), "gateway-orchestrator-system", "%s %s still names the default namespace", o.GetKind(), o.GetName())
				}
			}

			service := named(t, objs, "Service", tc.prefix+"webhook-service")
			sa := named(t, objs, "ServiceAccount", tc.prefix+"controller")
			issuer := named(t, objs, "Issuer", tc.prefix+"selfsigned")
			cert := named(t, objs, "Certificate", tc.prefix+"serving-cert")
			dnsNames, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
			assert.Equal(t, []string{service.GetName() + "." + ns + ".svc", service.GetName() + "." + ns + ".svc.cluster.local"}, dnsNames,
				"the serving certificate names the Service the API server calls")
			issuerName, _, _ := unstructured.NestedString(cert.Object, "spec", "issuerRef", "name")
			assert.Equal(t, issuer.GetName(), issuerName)

			var deployment struct {
				Spec struct {
					Template corev1.PodTemplateSpec `json:"template"`
				} `json:"spec"`
			}
			convert(t, named(t, objs, "Deployment", tc.prefix+"controller"), &deployment)
			pod := deployment.Spec.Template.Spec
			assert.Equal(t, sa.GetName(), pod.ServiceAccountName)
			secretName, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName")
			require.NotEmpty(t, pod.Volumes)
			assert.Equal(t, secretName, pod.Volumes[0].Secret.SecretName, "the pod mounts the Secret cert-manager writes")
			assert.Contains(t, pod.Containers[0].Args, "--aws-region=SET-YOUR-AWS-REGION", "a placeholder the user must set")
			require.NotNil(t, pod.TerminationGracePeriodSeconds)
			assert.Greater(t, time.Duration(*pod.TerminationGracePeriodSeconds)*time.Second, app.NewDrain(app.DefaultShutdownDelay).GracefulShutdown(),
				"the kubelet waits for the shutdown delay and the manager's stop")

			for _, b := range find(objs, "ClusterRoleBinding") {
				var crb rbacv1.ClusterRoleBinding
				convert(t, b, &crb)
				for _, s := range crb.Subjects {
					if s.Kind == rbacv1.ServiceAccountKind { // (the roles for people bind groups)
						assert.Equal(t, rbacv1.Subject{Kind: "ServiceAccount", Name: sa.GetName(), Namespace: ns}, s)
					}
				}
			}
			assert.NotEmpty(t, find(objs, "ClusterRole"))
			named(t, objs, "ClusterRole", tc.prefix+"metrics-reader")

			inject := ns + "/" + cert.GetName()
			var hooks, skipsOurs int
			for _, o := range append(find(objs, "MutatingWebhookConfiguration"), find(objs, "ValidatingWebhookConfiguration")...) {
				// The fields both kinds share.
				var c struct {
					metav1.ObjectMeta `json:"metadata"`
					Webhooks          []admissionv1.ValidatingWebhook `json:"webhooks"`
				}
				convert(t, o, &c)
				assert.Equal(t, inject, c.Annotations["cert-manager.io/inject-ca-from"])
				for _, w := range c.Webhooks {
					hooks++
					assert.Equal(t, admissionv1.ServiceReference{Name: service.GetName(), Namespace: ns, Path: w.ClientConfig.Service.Path}, *w.ClientConfig.Service)
					assert.Equal(t, webhook.NamespaceSelector(ns), w.NamespaceSelector, w.Name)
					for _, mc := range w.MatchConditions {
						if mc.Name == "not-the-orchestrator" {
							skipsOurs++
							assert.Equal(t, "request.userInfo.username != 'system:serviceaccount:' + '"+ns+"' + ':' + '"+sa.GetName()+"'", mc.Expression)
						}
					}
				}
			}
			assert.Equal(t, 2, skipsOurs, "the Gateway and LoadBalancerConfiguration webhooks skip the orchestrator's ServiceAccount")
			assert.Greater(t, hooks, 5)
		})
	}
}

// TestKustomizeObjectsAreValidInTheAPIServer creates what the overlay renders in a real
// kube-apiserver (server-side dry run; the CRDs for real), so the wired names and the
// matchConditions expression pass the real validation and CEL compilation.
func TestKustomizeObjectsAreValidInTheAPIServer(t *testing.T) {
	require.NoError(t, k8s.Create(ctx(t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "platform-dns"}}))
	for _, o := range kustomizeBuild(t, overlay(t, "platform-dns", "acme-")) {
		switch o.GetKind() {
		case "Namespace":
			continue
		case "CustomResourceDefinition":
			if err := k8s.Create(ctx(t), o); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Errorf("creating CRD %s: %v", o.GetName(), err)
			}
			continue
		}
		assert.NoError(t, k8s.Create(ctx(t), o, client.DryRunAll), "%s %s", o.GetKind(), o.GetName())
	}
}
