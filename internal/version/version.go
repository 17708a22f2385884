// Package version holds the orchestrator's version, stamped at build time:
// go build -ldflags "-X github.com/opendi/gateway-orchestrator/internal/version.Version=$(git describe --tags --always --dirty)".
package version

// Version is the release (from git describe), or "dev" for an unstamped build.
var Version = "dev"
