package webhook

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

func claimsOf(hostnames ...string) []claim {
	var out []claim
	for _, h := range hostnames {
		out = append(out, claim{d: ownership.Decision{Hostname: h}})
	}
	return out
}

func TestCapGateCountsReservedClaimsUntilTheCacheShowsThem(t *testing.T) {
	ctx := context.Background()
	var g capGate
	scheme := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(scheme))
	cache := fake.NewClientBuilder().WithScheme(scheme).Build()
	count := func(ns, domain string) int {
		t.Helper()
		n, err := g.notYetCached(ctx, cache, ns, domain)
		require.NoError(t, err)
		return n
	}

	r := g.reserve("a", claimsOf("x.apps.example.com", "y.apps.example.com", "z.other.example.com"))
	assert.Equal(t, 2, count("a", "apps.example.com"), "the reserved claims under the zone's domain")
	assert.Equal(t, 3, count("a", "example.com"), "a parent zone counts them all")
	assert.Zero(t, count("b", "apps.example.com"), "another namespace's count is its own")

	require.NoError(t, cache.Create(ctx, NewClaim("x.apps.example.com", "a", "HTTPRoute a/r")))
	assert.Equal(t, 1, count("a", "apps.example.com"), "a claim the cache shows is counted there, not here")
	require.NoError(t, cache.Delete(ctx, NewClaim("x.apps.example.com", "a", "HTTPRoute a/r")))
	assert.Equal(t, 1, count("a", "apps.example.com"), "and forgotten here")

	g.forget(r)
	assert.Zero(t, count("a", "example.com"), "a failed admission's reservation holds no slot")

	// A later reservation of the same name is not dropped by an earlier admission's failure.
	first := g.reserve("a", claimsOf("w.apps.example.com"))
	g.reserve("a", claimsOf("w.apps.example.com"))
	g.forget(first)
	assert.Equal(t, 1, count("a", "apps.example.com"))
}

func TestCapGateTurnIsOneAtATimePerNamespaceAndGivesUpWithTheRequest(t *testing.T) {
	var g capGate
	done, err := g.turn(context.Background(), "a")
	require.NoError(t, err)
	other, err := g.turn(context.Background(), "b")
	require.NoError(t, err, "another namespace does not wait")
	other()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = g.turn(ctx, "a")
	require.ErrorIs(t, err, context.DeadlineExceeded, "the namespace's next admission waits, up to its deadline")
	done()
	again, err := g.turn(context.Background(), "a")
	require.NoError(t, err, "and goes once the turn ends")
	again()
}
