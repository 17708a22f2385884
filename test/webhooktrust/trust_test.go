// Package webhooktrust tests who the orchestrator's endpoints answer: the admission webhooks only
// the API server (a client certificate signed by --webhook-client-ca), the metrics only a caller
// the API server authenticates and authorizes. It has its own control plane because the API server
// must be started with an AdmissionConfiguration that gives it its client certificate.
package webhooktrust

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zapcore"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/cmd/gateway-orchestrator/app"
	"github.com/opendi/gateway-orchestrator/internal/awsclient"
	"github.com/opendi/gateway-orchestrator/internal/devcert"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
	"github.com/opendi/gateway-orchestrator/test/builders"
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

const routePath = "/validate-gateway-networking-k8s-io-v1-httproute"

var (
	k8s        client.Client
	restConfig *rest.Config
	// webhookURL is the webhook server's base URL; serverCAs trust its serving certificate.
	webhookURL string
	serverCAs  *x509.CertPool
	// apiServerCert is the client certificate the API server presents to the webhooks.
	apiServerCert tls.Certificate
	metricsURL    string
	// server is the webhook server the manager runs; clientCAFile is its --webhook-client-ca.
	server       webhook.Server
	clientCAFile string
	// awsServer is the AWS test server the manager's AWS reconcilers call, so that what a claim
	// costs in AWS can be counted.
	awsServer *awsfake.Server
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "webhooktrust")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	clientCA, err := devcert.NewCA("admission-client-ca", time.Hour)
	if err != nil {
		return 0, err
	}
	pair, err := clientCA.IssueClient("kube-apiserver-admission", time.Hour)
	if err != nil {
		return 0, err
	}
	if apiServerCert, err = tls.X509KeyPair(pair.CertPEM, pair.KeyPEM); err != nil {
		return 0, err
	}
	clientCAFile = filepath.Join(dir, "client-ca.crt")
	caFile := clientCAFile
	admissionConfig, err := writeAdmissionConfig(dir, pair)
	if err != nil {
		return 0, err
	}
	if err := os.WriteFile(caFile, clientCA.CertPEM, 0o600); err != nil {
		return 0, err
	}

	crds, err := testenv.OrchestratorCRDs()
	if err != nil {
		return 0, err
	}
	webhooks, err := testenv.OrchestratorWebhooks()
	if err != nil {
		return 0, err
	}
	te, err := testenv.ControlPlane(crds, webhooks)
	if err != nil {
		return 0, err
	}
	apiserver := te.ControlPlane.GetAPIServer().Configure()
	// How a cluster admin gives the API server its admission client certificate (docs/webhook-trust.md).
	apiserver.Set("admission-control-config-file", admissionConfig)
	if restConfig, err = te.Start(); err != nil {
		return 0, fmt.Errorf("starting the control plane: %w", err)
	}
	defer func() { _ = te.Stop() }()
	if k8s, err = client.New(restConfig, client.Options{Scheme: app.NewScheme()}); err != nil {
		return 0, err
	}

	wio := te.WebhookInstallOptions
	webhookURL = "https://" + net.JoinHostPort(wio.LocalServingHost, strconv.Itoa(wio.LocalServingPort))
	serverCAs = x509.NewCertPool()
	serverCAs.AppendCertsFromPEM(wio.LocalServingCAData)
	metricsAddr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	metricsURL = "https://" + metricsAddr + "/metrics"
	// The options the binary builds from --webhook-client-ca and --metrics-bind-address.
	servers := app.ServerOptions{
		WebhookHost: wio.LocalServingHost, WebhookPort: wio.LocalServingPort, WebhookCertDir: wio.LocalServingCertDir,
		WebhookClientCA: caFile, MetricsAddr: metricsAddr,
	}
	if server, err = app.WebhookServer(servers); err != nil {
		return 0, err
	}
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme: app.NewScheme(), Cache: app.CacheOptions(), HealthProbeBindAddress: "0",
		Metrics: app.MetricsServer(servers), WebhookServer: server,
	})
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	awsServer = awsfake.New(awsfake.Options{})
	defer awsServer.Close()
	awsCfg, err := awsclient.Load(ctx, awsclient.Config{Endpoint: awsServer.URL, Region: "us-east-1", Registerer: nil},
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")))
	if err != nil {
		return 0, err
	}
	cfg := app.Config{Webhooks: true, Reconcilers: true, AWS: &app.AWS{Config: awsCfg, Cluster: "trust", PollInterval: 200 * time.Millisecond, DNSBatchWindow: 100 * time.Millisecond}}
	if err := app.Register(ctx, mgr, cfg); err != nil {
		return 0, err
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return 0, fmt.Errorf("manager stopped: %w", <-done)
	}
	code := m.Run()
	cancel()
	return code, <-done
}

// writeAdmissionConfig writes the AdmissionConfiguration that makes the API server present pair
// to every webhook (user "*"; a cluster names the webhook Service instead).
func writeAdmissionConfig(dir string, pair devcert.Pair) (string, error) {
	kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
users:
- name: "*"
  user:
    client-certificate-data: %s
    client-key-data: %s
`, base64.StdEncoding.EncodeToString(pair.CertPEM), base64.StdEncoding.EncodeToString(pair.KeyPEM))
	kubeconfigFile := filepath.Join(dir, "admission-kubeconfig.yaml")
	if err := os.WriteFile(kubeconfigFile, []byte(kubeconfig), 0o600); err != nil {
		return "", err
	}
	var plugins strings.Builder
	for _, p := range []string{"ValidatingAdmissionWebhook", "MutatingAdmissionWebhook"} {
		fmt.Fprintf(&plugins, `- name: %s
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: %s
`, p, kubeconfigFile)
	}
	file := filepath.Join(dir, "admission-config.yaml")
	return file, os.WriteFile(file, []byte("apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n"+plugins.String()), 0o600)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// zoneAndTenant makes a ManagedZone and a namespace it allows, and returns a free hostname in it.
func zoneAndTenant(t *testing.T, name string) (ns, hostname string) {
	t.Helper()
	ctx := context.Background()
	ns = name + "-ns"
	labels := map[string]string{"tenant": name}
	require.NoError(t, k8s.Create(ctx, builders.Namespace(ns, labels)))
	id := "Z" + strings.ToUpper(name)
	awsServer.Route53.AddZoneWithID(id, name+".example.com")
	require.NoError(t, k8s.Create(ctx, builders.Zone(name, builders.Hosted(id), builders.AllowLabels(labels))),
		"the ManagedZone webhook is served to the API server")
	return ns, "shop." + name + ".example.com"
}

func TestTheAPIServerIsServedWithItsClientCertificate(t *testing.T) {
	ns, h := zoneAndTenant(t, "served")
	route := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"},
		Spec: gwv1.HTTPRouteSpec{Hostnames: []gwv1.Hostname{gwv1.Hostname(h)}}}
	// The webhook decides from its cache, which sees the zone a moment after it was created.
	require.Eventually(t, func() bool { return k8s.Create(context.Background(), route) == nil }, 10*time.Second, 50*time.Millisecond)

	assert.Contains(t, claimedHostnames(t), h, "admission ran: the route's hostname is claimed")
}

func TestAForgedReviewWithoutTheClientCertificateIsRefused(t *testing.T) {
	ns, h := zoneAndTenant(t, "forged")
	review := forgedReview(t, ns, h)

	_, err := post(t, nil, review)
	require.Error(t, err, "no client certificate: the handshake fails")
	assert.Contains(t, err.Error(), "certificate required")

	other, err := devcert.NewCA("someone-else", time.Hour)
	require.NoError(t, err)
	pair, err := other.IssueClient("kube-apiserver-admission", time.Hour)
	require.NoError(t, err)
	stranger, err := tls.X509KeyPair(pair.CertPEM, pair.KeyPEM)
	require.NoError(t, err)
	_, err = post(t, &stranger, review)
	require.Error(t, err, "a client certificate another CA signed is refused too")

	assert.NotContains(t, claimedHostnames(t), h, "the refused requests claimed nothing")

	resp, err := post(t, &apiServerCert, review)
	require.NoError(t, err, "with the API server's client certificate the request is served")
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var answer admissionv1.AdmissionReview
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
	require.NotNil(t, answer.Response)
	assert.Equal(t, review.Request.UID, answer.Response.UID)
	require.True(t, answer.Response.Allowed, "the forged review is answered like a real one: %v", answer.Response.Result)

	// The route it claimed for never exists, so its claim stays unbound and nothing is provisioned
	// for it (the claim reconciler runs here; no object binds the claim).
	claim := &v1alpha1.DomainClaim{}
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		if !assert.NoError(c, k8s.Get(context.Background(), client.ObjectKey{Name: hostname.ClaimName(h)}, claim)) {
			return
		}
		cond := meta.FindStatusCondition(claim.Status.Conditions, v1alpha1.ConditionBound)
		if assert.NotNil(c, cond, "the claim reconciler has judged the claim") {
			assert.Equal(c, metav1.ConditionFalse, cond.Status)
			assert.Equal(c, v1alpha1.ReasonUnbound, cond.Reason)
		}
	}, 20*time.Second, 100*time.Millisecond)
	assert.False(t, v1alpha1.ProvisioningAllowed(claim), "a claim from a forged review is never provisioned")

	// The AWS reconcilers run: a route the API server admits in the same namespace gets its
	// certificate requested; the forged review's hostname costs nothing all the while.
	real := "real." + strings.TrimPrefix(h, "shop.")
	require.Eventually(t, func() bool {
		return k8s.Create(context.Background(), &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "real"},
			Spec: gwv1.HTTPRouteSpec{Hostnames: []gwv1.Hostname{gwv1.Hostname(real)}}}) == nil
	}, 10*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool { return awsServer.ACM.Requests(real) == 1 }, 30*time.Second, 50*time.Millisecond,
		"the admitted route's claim is bound and its certificate requested")
	assert.Zero(t, awsServer.ACM.Requests(h), "no certificate was requested for the forged review's hostname")
	assert.Empty(t, awsServer.ACM.ForDomain(h))
	for _, rs := range awsServer.Route53.Records("ZFORGED") {
		assert.NotContains(t, rs.Name, h, "no record was written for the forged review's hostname")
	}
	require.NoError(t, k8s.Get(context.Background(), client.ObjectKey{Name: hostname.ClaimName(h)}, claim))
	assert.Empty(t, claim.Status.CertificateARN)
	assert.Nil(t, claim.Status.Gateway, "and it takes no seat")
}

func TestTheReadinessCheckIsServedToo(t *testing.T) {
	// It presents a certificate of its own; a refused probe would make the pod never ready.
	require.NoError(t, server.StartedChecker()(nil))
}

func TestAnOversizedReviewIsRefusedBeforeItIsDecoded(t *testing.T) {
	body := bytes.Repeat([]byte(" "), app.MaxAdmissionRequestBytes+1)
	resp, err := postBody(&apiServerCert, body)
	require.NoError(t, err)
	defer resp.Body.Close()
	var answer admissionv1.AdmissionReview
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
	require.NotNil(t, answer.Response)
	require.NotNil(t, answer.Response.Result)
	assert.False(t, answer.Response.Allowed)
	assert.Equal(t, int32(http.StatusRequestEntityTooLarge), answer.Response.Result.Code)

	resp, err = postBody(&apiServerCert, body[:app.MaxAdmissionRequestBytes-1])
	require.NoError(t, err)
	defer resp.Body.Close()
	answer = admissionv1.AdmissionReview{}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
	require.NotNil(t, answer.Response.Result)
	assert.NotEqual(t, int32(http.StatusRequestEntityTooLarge), answer.Response.Result.Code, "just under the cap is read (and then fails to decode)")
}

func TestMetricsAnswerOnlyAnAuthorizedScraper(t *testing.T) {
	ctx := context.Background()
	const ns = "monitoring"
	require.NoError(t, k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	stranger, prometheus := serviceAccountToken(t, ns, "stranger"), serviceAccountToken(t, ns, "prometheus")
	// The ClusterRole kustomize ships (namePrefix gateway-orchestrator-), bound to the scraper.
	// (Bound before its first scrape: the filter remembers a denial for 30 s.)
	role := metricsReaderRole(t)
	require.NoError(t, k8s.Create(ctx, role))
	require.NoError(t, k8s.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "prometheus-metrics"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "prometheus"}},
	}))

	assert.Equal(t, http.StatusUnauthorized, scrape(t, ""), "no token")
	// controller-runtime's filter answers 500 when the TokenReview says the token is invalid.
	assert.NotEqual(t, http.StatusOK, scrape(t, "not-a-token"), "a token the API server does not know")
	assert.Equal(t, http.StatusForbidden, scrape(t, stranger), "a known caller without the metrics-reader role")
	assert.Equal(t, http.StatusOK, scrape(t, prometheus), "the scraper bound to the metrics-reader role")
}

func serviceAccountToken(t *testing.T, ns, name string) string {
	t.Helper()
	ctx := context.Background()
	cs, err := kubernetes.NewForConfig(restConfig)
	require.NoError(t, err)
	require.NoError(t, k8s.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}))
	tok, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	require.NoError(t, err)
	return tok.Status.Token
}

// metricsReaderRole is deploy/rbac/metrics_reader_role.yaml as kustomize names it.
func metricsReaderRole(t *testing.T) *rbacv1.ClusterRole {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "deploy", "rbac", "metrics_reader_role.yaml"))
	require.NoError(t, err)
	var role rbacv1.ClusterRole
	require.NoError(t, yaml.UnmarshalStrict(data, &role))
	role.Name = "gateway-orchestrator-" + role.Name
	require.Equal(t, "gateway-orchestrator-metrics-reader", role.Name)
	return &role
}

func scrape(t *testing.T, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, metricsURL, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	// The metrics certificate is self-signed when no --metrics-cert-dir is given.
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // self-signed by design
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		require.Contains(t, string(body), "controller_runtime_webhook_requests_total")
	} else {
		require.NotContains(t, string(body), "controller_runtime")
	}
	return resp.StatusCode
}

func forgedReview(t *testing.T, ns, hostname string) *admissionv1.AdmissionReview {
	t.Helper()
	route := &gwv1.HTTPRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "HTTPRoute"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "forged", UID: "00000000-0000-0000-0000-000000000001"},
		Spec:       gwv1.HTTPRouteSpec{Hostnames: []gwv1.Hostname{gwv1.Hostname(hostname)}},
	}
	raw, err := json.Marshal(route)
	require.NoError(t, err)
	return &admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       "forged-1",
			Kind:      metav1.GroupVersionKind{Group: gwv1.GroupName, Version: "v1", Kind: "HTTPRoute"},
			Resource:  metav1.GroupVersionResource{Group: gwv1.GroupName, Version: "v1", Resource: "httproutes"},
			Namespace: ns, Name: "forged", Operation: admissionv1.Create,
			UserInfo: authenticationv1.UserInfo{Username: "system:serviceaccount:" + ns + ":default"},
			Object:   runtime.RawExtension{Raw: raw},
		},
	}
}

func post(t *testing.T, cert *tls.Certificate, review *admissionv1.AdmissionReview) (*http.Response, error) {
	t.Helper()
	body, err := json.Marshal(review)
	require.NoError(t, err)
	return postBody(cert, body)
}

// postBody sends body to the HTTPRoute webhook straight on its port, as a pod could, with the
// client certificate cert (nil: none).
func postBody(cert *tls.Certificate, body []byte) (*http.Response, error) {
	tlsConfig := &tls.Config{RootCAs: serverCAs, MinVersion: tls.VersionTLS12}
	if cert != nil {
		tlsConfig.Certificates = []tls.Certificate{*cert}
	}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
	req, err := http.NewRequest(http.MethodPost, webhookURL+routePath, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.Do(req)
}

func claimedHostnames(t *testing.T) []string {
	t.Helper()
	var l v1alpha1.DomainClaimList
	require.NoError(t, k8s.List(context.Background(), &l))
	var out []string
	for _, c := range l.Items {
		out = append(out, c.Spec.Hostname)
	}
	return out
}

func TestARotatedClientCAIsReadWithoutARestart(t *testing.T) {
	old, err := os.ReadFile(clientCAFile)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, replaceFile(clientCAFile, old)) })
	next, err := devcert.NewCA("admission-client-ca-2", time.Hour)
	require.NoError(t, err)
	pair, err := next.IssueClient("kube-apiserver-admission", time.Hour)
	require.NoError(t, err)
	nextCert, err := tls.X509KeyPair(pair.CertPEM, pair.KeyPEM)
	require.NoError(t, err)
	review := forgedReview(t, "rotated", "shop.rotated.example.com")

	require.NoError(t, replaceFile(clientCAFile, next.CertPEM))
	resp, err := post(t, &nextCert, review)
	require.NoError(t, err, "a certificate of the new CA is served")
	require.NoError(t, resp.Body.Close())
	_, err = post(t, &apiServerCert, review)
	require.Error(t, err, "the old CA's is refused")
	require.NoError(t, server.StartedChecker()(nil), "the readiness check still passes")
}

// replaceFile swaps path's content as a ConfigMap volume update does: a new file renamed over it.
func replaceFile(path string, data []byte) error {
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
