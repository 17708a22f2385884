// Package certmanager runs cert-manager's real CA injector (its cainjector controllers, in
// process) against a real kube-apiserver with the webhook configurations the Helm chart renders
// in cert-manager mode, and the orchestrator's webhook server reading its certificate from a
// directory as a pod would. It has its own API server: the chart's webhooks replace the ones
// the integration suite registers.
package certmanager

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/opendi/gateway-orchestrator/cmd/gateway-orchestrator/app"
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

var (
	restCfg *rest.Config
	k8s     client.Client
	helmBin string
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	var err error
	if helmBin, err = testenv.HelmBinary(); err != nil {
		return 0, fmt.Errorf("building helm: %w", err)
	}
	crds, err := testenv.OrchestratorCRDs()
	if err != nil {
		return 0, err
	}
	cmCRDs, err := certManagerCRDs()
	if err != nil {
		return 0, err
	}
	te, err := testenv.ControlPlane(append(crds, cmCRDs...), envtest.WebhookInstallOptions{})
	if err != nil {
		return 0, err
	}
	if restCfg, err = te.Start(); err != nil {
		return 0, fmt.Errorf("starting kube-apiserver and etcd: %w", err)
	}
	defer func() { _ = te.Stop() }()
	if k8s, err = client.New(restCfg, client.Options{Scheme: scheme()}); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// certManagerCRDs are cert-manager's own Certificate and Issuer CRDs, from the module cache of
// the cert-manager version in go.mod (the injector reads the Certificate named by the
// inject-ca-from annotation).
func certManagerCRDs() ([]string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/cert-manager/cert-manager")
	cmd.Dir = testenv.RepoRoot()
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("locating the cert-manager module: %w", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "deploy", "crds")
	return []string{
		filepath.Join(dir, "cert-manager.io_certificates.yaml"),
		filepath.Join(dir, "cert-manager.io_issuers.yaml"),
	}, nil
}

// renderChart renders the chart for release "gwo" in namespace ns with more --set arguments.
func renderChart(t *testing.T, ns string, set ...string) []*unstructured.Unstructured {
	t.Helper()
	args := []string{"template", "gwo", filepath.Join(testenv.RepoRoot(), "deploy", "helm", "gateway-orchestrator"), "--namespace", ns}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(helmBin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "none"))
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("helm template: %v: %s", err, exit.Stderr)
		}
		t.Fatalf("helm template: %v", err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(string(out)), 4096)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs
			}
			t.Fatalf("decoding helm template output: %v", err)
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}

// scheme knows the orchestrator's types and cert-manager's.
func scheme() *runtime.Scheme {
	s := app.NewScheme()
	addInjectorTypes(s)
	return s
}
