package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// HelmVersion is the Helm release the chart is tested with.
const HelmVersion = "v3.22.0"

// HelmBinary returns $HELM when set, or Helm HelmVersion built once into the user's cache (from
// the Go module proxy, outside this module: Helm stays out of the project's go.mod).
func HelmBinary() (string, error) {
	if h := os.Getenv("HELM"); h != "" {
		return h, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "gateway-orchestrator", "tools", "helm-"+HelmVersion)
	bin := filepath.Join(dir, "helm")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	fmt.Fprintf(os.Stderr, "building helm %s into %s (about 2 minutes, once per machine)\n", HelmVersion, dir)
	cmd := exec.Command("go", "install", "helm.sh/helm/v3/cmd/helm@"+HelmVersion)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod", "GOWORK=off", "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", err
	}
	return bin, nil
}
