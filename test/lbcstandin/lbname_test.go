package lbcstandin

import (
	"testing"

	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// TestTheStandInNamesGatewayALBsInLBCsShape: admission's GeneratedLoadBalancerName rule knows
// LBC's generated names by their shape, so the stand-in's must have it, within ELB's 32
// characters, for any namespace and name.
func TestTheStandInNamesGatewayALBsInLBCsShape(t *testing.T) {
	for _, c := range [][2]string{{"gateway-system", "public-3"}, {"a", "b"}, {"team.a", "x--y.z"}, {"n123456789012345678901234567890", "g123456789012345678901234567890"}} {
		name := LoadBalancerName(c[0], c[1])
		if !lbc.GeneratedShape(name) || len(name) > 32 {
			t.Errorf("LoadBalancerName(%q, %q) = %q: not LBC's shape", c[0], c[1], name)
		}
	}
	if got, want := LoadBalancerName("gateway-system", "public-3"), "k8s-gatewa"; got[:len(want)] != want {
		t.Errorf("LoadBalancerName cuts the namespace to 8 letters and digits: got %q", got)
	}
}
