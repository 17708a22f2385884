// Package helmchart tests the Helm chart in deploy/helm/gateway-orchestrator with the real Helm
// tool (built once per machine from the Go module proxy, outside the project's go.mod) and a real
// kube-apiserver: lint, render, fail without required values, stay equal to the generated CRDs,
// RBAC and webhook configurations, and create every rendered object in the API server.
package helmchart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/opendi/gateway-orchestrator/test/testenv"
)

var (
	helmBin   string
	chartDir  = filepath.Join(testenv.RepoRoot(), "deploy", "helm", "gateway-orchestrator")
	apiServer *envtest.Environment
	k8s       client.Client
)

func TestMain(m *testing.M) {
	var err error
	if helmBin, err = testenv.HelmBinary(); err != nil {
		fmt.Fprintln(os.Stderr, "building helm:", err)
		os.Exit(1)
	}
	if apiServer, err = testenv.ControlPlane([]string{filepath.Join("testdata", "third-party-crds.yaml")}, envtest.WebhookInstallOptions{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cfg, err := apiServer.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting kube-apiserver and etcd:", err)
		os.Exit(1)
	}
	if k8s, err = client.New(cfg, client.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = apiServer.Stop()
		os.Exit(1)
	}
	code := m.Run()
	_ = apiServer.Stop()
	os.Exit(code)
}

// helm runs the Helm tool and returns its stdout, or an error carrying its stderr.
func helm(args ...string) (string, error) {
	var out, errOut bytes.Buffer
	cmd := exec.Command(helmBin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	// No kubeconfig: rendering must not depend on a cluster.
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(os.TempDir(), "gateway-orchestrator-no-kubeconfig"))
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("helm %s: %w: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), nil
}

// render runs helm template for release "gwo" in namespace ns with more arguments (--set …)
// and returns the objects, CRDs included.
func render(t *testing.T, ns string, extra ...string) []*unstructured.Unstructured {
	t.Helper()
	out, err := helm(append([]string{"template", "gwo", chartDir, "--namespace", ns, "--include-crds"}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decode(out)
	if err != nil {
		t.Fatalf("decoding helm template output: %v\n%s", err, out)
	}
	return objs
}

// decode splits a multi-document YAML stream into objects, skipping empty documents.
func decode(s string) ([]*unstructured.Unstructured, error) {
	d := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(s), 4096)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := d.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}

// find returns the rendered objects of a kind.
func find(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var r []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			r = append(r, o)
		}
	}
	return r
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}
