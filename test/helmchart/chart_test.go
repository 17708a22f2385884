package helmchart

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/cmd/gateway-orchestrator/app"
	"github.com/opendi/gateway-orchestrator/test/testenv"
	"github.com/opendi/gateway-orchestrator/webhook"
)

// required are the values the chart cannot render without.
var required = []string{"--set", "clusterName=prod-eu-1", "--set", "region=eu-west-1"}

// nonDefault changes every kind of value once: cert-manager with a user-named issuer, the
// Prometheus Operator objects, a NetworkPolicy, scheduling, image digest, flags.
var nonDefault = append(slices.Clone(required),
	"--set", "webhook.certificateSource=certManager",
	"--set", "webhook.certManager.issuerName=corp-ca",
	"--set", "webhook.certManager.issuerKind=ClusterIssuer",
	"--set", "webhook.failurePolicy=Ignore",
	"--set", "webhook.timeoutSeconds=10",
	"--set", "webhook.excludeNamespaces={flux-system}",
	"--set", "metrics.serviceMonitor.enabled=true",
	"--set", "metrics.prometheusRule.enabled=true",
	"--set", "networkPolicy.enabled=true",
	"--set", "reconcilerWrites.qps=20",
	"--set-json", `networkPolicy.webhookFrom=[{"ipBlock":{"cidr":"10.0.0.0/16"}}]`,
	"--set-json", `topologySpreadConstraints=[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"ScheduleAnyway"}]`,
	"--set-json", `tolerations=[{"key":"dedicated","operator":"Equal","value":"platform","effect":"NoSchedule"}]`,
	"--set", "nodeSelector.role=platform",
	"--set", "image.digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	"--set", "replicaCount=3",
	"--set", "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::111122223333:role/gwo",
	"--set-json", `aws.rates={"route53:*":2}`,
	"--set", "route53BatchWindow=30s",
	"--set", "allowUnmanagedHostnames=true",
	"--set", "logging.level=debug",
	"--set", "priorityClassName=",
	"--set", "webhook.clientCA.configMap=apiserver-admission-ca",
	"--set", "externalDNS.txtPrefix=%{record_type}-edns.",
	"--set-json", `metrics.readers=[{"kind":"ServiceAccount","name":"prometheus-k8s","namespace":"monitoring"}]`,
)

func TestChartLintsClean(t *testing.T) {
	for name, args := range map[string][]string{"default values": required, "non-default values": nonDefault} {
		t.Run(name, func(t *testing.T) {
			out, err := helm(append([]string{"lint", "--strict", chartDir}, args...)...)
			require.NoError(t, err, out)
		})
	}
}

func TestChartRefusesToRenderWithoutRequiredValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"without clusterName", []string{"--set", "region=eu-west-1"}, "clusterName is required"},
		{"without region", []string{"--set", "clusterName=prod-eu-1"}, "region is required"},
		{"with clusterName default", []string{"--set", "clusterName=default", "--set", "region=eu-west-1"}, `clusterName must not be "default"`},
		{"with an unknown certificate source", append(slices.Clone(required), "--set", "webhook.certificateSource=vault"), "webhook.certificateSource must be"},
		{"with a NetworkPolicy that admits anyone to the webhook port", append(slices.Clone(required), "--set", "networkPolicy.enabled=true"), "networkPolicy.webhookFrom is required"},
		{"with a grace period the shutdown delay does not fit in", append(slices.Clone(required), "--set", "shutdownDelaySeconds=20"),
			"terminationGracePeriodSeconds (45) must exceed shutdownDelaySeconds + 30 (50)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := helm(append([]string{"template", "gwo", chartDir}, tc.args...)...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestChartCopiesOfGeneratedFilesAreCurrent(t *testing.T) {
	root := testenv.RepoRoot()
	copies := map[string]string{
		"files/role.yaml":                "deploy/rbac/role.yaml",
		"files/user_roles.yaml":          "deploy/rbac/user_roles.yaml",
		"files/metrics_reader_role.yaml": "deploy/rbac/metrics_reader_role.yaml",
		"files/webhooks.yaml":            "deploy/webhook/manifests.yaml",
	}
	crds, err := filepath.Glob(filepath.Join(root, "deploy", "crd", "*_*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, crds)
	for _, c := range crds {
		copies["crds/"+filepath.Base(c)] = "deploy/crd/" + filepath.Base(c)
	}
	chartCRDs, err := filepath.Glob(filepath.Join(chartDir, "crds", "*"))
	require.NoError(t, err)
	assert.Len(t, chartCRDs, len(crds), "the chart's crds/ holds exactly the generated CRDs")
	for inChart, generated := range copies {
		a, err := os.ReadFile(filepath.Join(chartDir, inChart))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(root, generated))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(a, b), "%s differs from %s: run make manifests", inChart, generated)
	}
}

func TestChartRBACIsTheGeneratedRole(t *testing.T) {
	generated, err := decodeFile(filepath.Join(testenv.RepoRoot(), "deploy", "rbac", "role.yaml"))
	require.NoError(t, err)
	var want rbacv1.ClusterRole
	convert(t, generated[0], &want)
	require.NotEmpty(t, want.Rules)

	for name, args := range map[string][]string{"default values": required, "non-default values": nonDefault} {
		t.Run(name, func(t *testing.T) {
			objs := render(t, "gwo-system", args...)
			var roles []*unstructured.Unstructured
			for _, r := range find(objs, "ClusterRole") {
				if n := r.GetName(); n != "gateway-orchestrator-view" && n != "gateway-orchestrator-admin" && !strings.HasSuffix(n, "-metrics-reader") { // the roles for people and scrapers
					roles = append(roles, r)
				}
			}
			require.Len(t, roles, 1, "one ClusterRole for the orchestrator")
			var got rbacv1.ClusterRole
			convert(t, roles[0], &got)
			assert.Equal(t, want.Rules, got.Rules)
			for _, r := range find(objs, "Role") {
				var role rbacv1.Role
				convert(t, r, &role)
				assert.Equal(t, []rbacv1.PolicyRule{{
					APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"},
					Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"},
				}, {
					// The leader election's Event, recorded through core/v1 in the lease's namespace.
					APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch"},
				}}, role.Rules, "the namespaced Role is for leader election only")
			}
		})
	}
}

func TestChartWebhooksAreTheGeneratedOnes(t *testing.T) {
	generated, err := decodeFile(filepath.Join(testenv.RepoRoot(), "deploy", "webhook", "manifests.yaml"))
	require.NoError(t, err)
	want := webhooksByName(t, generated)
	require.NotEmpty(t, want)

	for _, tc := range []struct {
		name          string
		args          []string
		failurePolicy admissionv1.FailurePolicyType
		timeout       int32
		selector      *metav1.LabelSelector
	}{
		{"default values", required, admissionv1.Fail, 5, webhook.NamespaceSelector("gwo-system")},
		{"non-default values", nonDefault, admissionv1.Ignore, 10, &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
			Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"kube-system", "gwo-system", "flux-system"},
		}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := render(t, "gwo-system", tc.args...)
			services := map[string]bool{}
			for _, s := range find(objs, "Service") {
				services[s.GetName()] = true
			}
			got := webhooksByName(t, objs)
			require.ElementsMatch(t, keys(want), keys(got), "same webhooks")
			for name, w := range want {
				g := got[name]
				assert.Equal(t, w.path, g.path, name)
				assert.Equal(t, w.rules, g.rules, name)
				assert.Equal(t, w.sideEffects, g.sideEffects, name)
				assert.Equal(t, w.admissionReviewVersions, g.admissionReviewVersions, name)
				assert.Equal(t, w.matchPolicy, g.matchPolicy, name)
				assert.Equal(t, w.reinvocationPolicy, g.reinvocationPolicy, name)
				assert.Equal(t, tc.failurePolicy, g.failurePolicy, name)
				assert.Equal(t, tc.timeout, g.timeout, name)
				assert.Equal(t, tc.selector, g.selector, name)
				assert.Equal(t, "gwo-system", g.serviceNamespace, name)
				assert.True(t, services[g.serviceName], "%s calls the rendered Service %s", name, g.serviceName)
			}
		})
	}
}

func TestChartGeneratesAWebhookCertificateForItsService(t *testing.T) {
	objs := render(t, "gwo-system", required...)
	secrets := find(objs, "Secret")
	require.Len(t, secrets, 1)
	var secret corev1.Secret
	convert(t, secrets[0], &secret)
	assert.Equal(t, corev1.SecretTypeTLS, secret.Type)

	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(secret.Data["ca.crt"]))
	pair, err := tls.X509KeyPair(secret.Data["tls.crt"], secret.Data["tls.key"])
	require.NoError(t, err, "tls.key belongs to tls.crt")
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	require.NoError(t, err)
	for _, dns := range []string{"gwo-gateway-orchestrator-webhook.gwo-system.svc", "gwo-gateway-orchestrator-webhook.gwo-system.svc.cluster.local"} {
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: dns, Roots: pool})
		assert.NoError(t, err, dns)
	}
	for name, w := range webhooksByName(t, objs) {
		assert.Equal(t, secret.Data["ca.crt"], w.caBundle, "caBundle of %s is the generated CA", name)
	}
	deployment := theDeployment(t, objs)
	assert.Equal(t, secret.Name, deployment.Spec.Template.Spec.Volumes[0].Secret.SecretName)
	assert.Empty(t, find(objs, "Certificate"))
}

func TestChartUsesCertManagerWhenChosen(t *testing.T) {
	objs := render(t, "gwo-system", nonDefault...)
	assert.Empty(t, find(objs, "Secret"), "cert-manager writes the Secret")
	assert.Empty(t, find(objs, "Issuer"), "a user-named issuer replaces the self-signed one")
	certs := find(objs, "Certificate")
	require.Len(t, certs, 1)
	spec := certs[0].Object["spec"].(map[string]any)
	assert.Equal(t, map[string]any{"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}, spec["issuerRef"])
	assert.Contains(t, spec["dnsNames"], "gwo-gateway-orchestrator-webhook.gwo-system.svc")
	deployment := theDeployment(t, objs)
	assert.Equal(t, spec["secretName"], deployment.Spec.Template.Spec.Volumes[0].Secret.SecretName)
	for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		for _, c := range find(objs, kind) {
			assert.Equal(t, "gwo-system/"+certs[0].GetName(), c.GetAnnotations()["cert-manager.io/inject-ca-from"])
		}
	}
	for name, w := range webhooksByName(t, objs) {
		assert.Empty(t, w.caBundle, "%s: cert-manager's CA injector fills the caBundle", name)
	}

	t.Run("with its own self-signed issuer when none is named", func(t *testing.T) {
		objs := render(t, "gwo-system", append(slices.Clone(required), "--set", "webhook.certificateSource=certManager")...)
		issuers := find(objs, "Issuer")
		require.Len(t, issuers, 1)
		spec := find(objs, "Certificate")[0].Object["spec"].(map[string]any)
		assert.Equal(t, issuers[0].GetName(), spec["issuerRef"].(map[string]any)["name"])
	})
}

func TestChartPassesValuesAsFlags(t *testing.T) {
	d := theDeployment(t, render(t, "gwo-system", nonDefault...))
	assert.Equal(t, int32(3), *d.Spec.Replicas)
	c := d.Spec.Template.Spec.Containers[0]
	assert.Equal(t, "opendi/gateway-orchestrator@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", c.Image)
	for _, arg := range []string{"--cluster-name=prod-eu-1", "--aws-region=eu-west-1", "--aws-rate=route53:*=2",
		"--route53-batch-window=30s", "--allow-unmanaged-hostnames=true", "--external-dns-txt-prefix=%{record_type}-edns.", "--zap-log-level=debug", "--leader-election-namespace=gwo-system",
		"--reconciler-write-qps=20", "--reconciler-write-burst=100"} {
		assert.Contains(t, c.Args, arg)
	}
	spec := d.Spec.Template.Spec
	assert.Empty(t, spec.PriorityClassName)
	assert.Equal(t, map[string]string{"role": "platform"}, spec.NodeSelector)
	require.Len(t, spec.TopologySpreadConstraints, 1)
	assert.Equal(t, d.Spec.Selector, spec.TopologySpreadConstraints[0].LabelSelector, "the pod's labels are filled in")

	d = theDeployment(t, render(t, "gwo-system", required...))
	assert.Equal(t, "opendi/gateway-orchestrator:0.1.0", d.Spec.Template.Spec.Containers[0].Image, "tag defaults to appVersion")
	assert.Equal(t, "system-cluster-critical", d.Spec.Template.Spec.PriorityClassName)
	require.NotNil(t, d.Spec.Template.Spec.Affinity.PodAntiAffinity, "replicas prefer different nodes")
}

// TestChartRendersTheWriteBudget: the budget is on by default, at the binary's default; 0 (no
// limit) reaches the binary, and values from before the budget existed (helm upgrade
// --reuse-values) render without it, leaving the binary's defaults.
func TestChartRendersTheWriteBudget(t *testing.T) {
	c := theDeployment(t, render(t, "gwo-system", required...)).Spec.Template.Spec.Containers[0]
	assert.Contains(t, c.Args, fmt.Sprintf("--reconciler-write-qps=%d", app.DefaultReconcilerWrites))
	assert.Contains(t, c.Args, fmt.Sprintf("--reconciler-write-burst=%d", app.DefaultReconcilerWriteBurst))
	c = theDeployment(t, render(t, "gwo-system", append(slices.Clone(required), "--set", "reconcilerWrites.qps=0")...)).Spec.Template.Spec.Containers[0]
	assert.Contains(t, c.Args, "--reconciler-write-qps=0")
	c = theDeployment(t, render(t, "gwo-system", append(slices.Clone(required), "--set", "reconcilerWrites=null")...)).Spec.Template.Spec.Containers[0]
	for _, a := range c.Args {
		assert.NotContains(t, a, "--reconciler-write-")
	}
}

// TestChartRendersTheShutdownDelay: the default delay is the binary's, the pod's grace period
// holds it and the stop after it, 0 reaches the binary, and values from before the delay existed
// (helm upgrade --reuse-values) render without it, leaving the binary's default.
func TestChartRendersTheShutdownDelay(t *testing.T) {
	d := theDeployment(t, render(t, "gwo-system", required...))
	assert.Contains(t, d.Spec.Template.Spec.Containers[0].Args, fmt.Sprintf("--shutdown-delay=%s", app.DefaultShutdownDelay))
	grace := time.Duration(*d.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
	assert.Greater(t, grace, app.NewDrain(app.DefaultShutdownDelay).GracefulShutdown(), "the kubelet waits for the delay and the manager's stop")
	d = theDeployment(t, render(t, "gwo-system", append(slices.Clone(required), "--set", "shutdownDelaySeconds=0")...))
	assert.Contains(t, d.Spec.Template.Spec.Containers[0].Args, "--shutdown-delay=0s")
	d = theDeployment(t, render(t, "gwo-system", append(slices.Clone(required), "--set", "shutdownDelaySeconds=null")...))
	for _, a := range d.Spec.Template.Spec.Containers[0].Args {
		assert.NotContains(t, a, "--shutdown-delay")
	}
}

// TestChartObjectsAreValidInTheAPIServer creates what the chart renders in a real kube-apiserver:
// the CRDs for real, everything else with a server-side dry run (so that the webhook
// configurations, pointing at no running pod, intercept nothing). cert-manager's and the
// Prometheus Operator's kinds are checked against the minimal CRDs in testdata.
func TestChartObjectsAreValidInTheAPIServer(t *testing.T) {
	for name, args := range map[string][]string{"default values": required, "non-default values": nonDefault} {
		t.Run(name, func(t *testing.T) {
			ns := "gwo-" + strings.ReplaceAll(name, " ", "-")
			require.NoError(t, k8s.Create(ctx(t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
			objs := render(t, ns, args...)
			kinds := map[string]int{}
			for _, o := range objs {
				kinds[o.GetKind()]++
				if o.GetKind() == "CustomResourceDefinition" {
					if err := k8s.Create(ctx(t), o); err != nil && !apierrors.IsAlreadyExists(err) {
						t.Errorf("creating CRD %s: %v", o.GetName(), err)
					}
					continue
				}
				assert.NoError(t, k8s.Create(ctx(t), o, client.DryRunAll), "%s %s", o.GetKind(), o.GetName())
			}
			assert.Equal(t, 3, kinds["CustomResourceDefinition"])
			assert.Equal(t, 1, kinds["Deployment"])
			assert.Equal(t, 1, kinds["PodDisruptionBudget"])
			if name == "non-default values" {
				for _, k := range []string{"Certificate", "ServiceMonitor", "PrometheusRule", "NetworkPolicy"} {
					assert.Equal(t, 1, kinds[k], k)
				}
			}
		})
	}
}

type renderedWebhook struct {
	path, serviceName, serviceNamespace string
	rules                               []admissionv1.RuleWithOperations
	sideEffects                         *admissionv1.SideEffectClass
	admissionReviewVersions             []string
	matchPolicy                         *admissionv1.MatchPolicyType
	reinvocationPolicy                  *admissionv1.ReinvocationPolicyType
	failurePolicy                       admissionv1.FailurePolicyType
	timeout                             int32
	selector                            *metav1.LabelSelector
	caBundle                            []byte
}

// webhooksByName collects the webhooks of every webhook configuration among objs.
func webhooksByName(t *testing.T, objs []*unstructured.Unstructured) map[string]renderedWebhook {
	t.Helper()
	r := map[string]renderedWebhook{}
	add := func(name string, cc admissionv1.WebhookClientConfig, w renderedWebhook, fp *admissionv1.FailurePolicyType, timeout *int32) {
		require.NotNil(t, cc.Service, name)
		w.path, w.serviceName, w.serviceNamespace, w.caBundle = *cc.Service.Path, cc.Service.Name, cc.Service.Namespace, cc.CABundle
		w.failurePolicy, w.timeout = *fp, *timeout
		r[name] = w
	}
	for _, o := range find(objs, "MutatingWebhookConfiguration") {
		var c admissionv1.MutatingWebhookConfiguration
		convert(t, o, &c)
		for _, w := range c.Webhooks {
			add(w.Name, w.ClientConfig, renderedWebhook{rules: w.Rules, sideEffects: w.SideEffects, admissionReviewVersions: w.AdmissionReviewVersions,
				matchPolicy: w.MatchPolicy, reinvocationPolicy: w.ReinvocationPolicy, selector: w.NamespaceSelector}, w.FailurePolicy, w.TimeoutSeconds)
		}
	}
	for _, o := range find(objs, "ValidatingWebhookConfiguration") {
		var c admissionv1.ValidatingWebhookConfiguration
		convert(t, o, &c)
		for _, w := range c.Webhooks {
			add(w.Name, w.ClientConfig, renderedWebhook{rules: w.Rules, sideEffects: w.SideEffects, admissionReviewVersions: w.AdmissionReviewVersions,
				matchPolicy: w.MatchPolicy, selector: w.NamespaceSelector}, w.FailurePolicy, w.TimeoutSeconds)
		}
	}
	return r
}

func theDeployment(t *testing.T, objs []*unstructured.Unstructured) *appsv1.Deployment {
	t.Helper()
	ds := find(objs, "Deployment")
	require.Len(t, ds, 1)
	var d appsv1.Deployment
	convert(t, ds[0], &d)
	return &d
}

func convert(t *testing.T, u *unstructured.Unstructured, into any) {
	t.Helper()
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into), "%s %s", u.GetKind(), u.GetName())
}

func decodeFile(path string) ([]*unstructured.Unstructured, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decode(string(b))
}

func keys[V any](m map[string]V) []string {
	var r []string
	for k := range m {
		r = append(r, k)
	}
	return r
}
