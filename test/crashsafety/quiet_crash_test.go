package crashsafety

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

// TestACrashWhileTheCertificateIsKeptBackLeavesNothingBehindTheDeletion: in a claim's quiet period
// its certificate and validation record are in AWS before the claim's status says so. A crash
// then, and the claim's deletion while the orchestrator is down, must still leave nothing behind:
// the certificate is found by its tags and its record read from ACM before it is deleted.
func TestACrashWhileTheCertificateIsKeptBackLeavesNothingBehindTheDeletion(t *testing.T) {
	ctx := context.Background()
	quiet := keptBack(ctx, t)

	domain, zoneID, ns := setup(t)
	h := "kept." + domain
	env.AWS.ACM.Hold(h)
	defer env.AWS.ACM.Release(h)
	require.NoError(t, k8s.Create(ctx, claim(h, ns)))
	name, _ := awsfake.ValidationRecord(h)
	require.Eventually(t, func() bool {
		return len(env.AWS.ACM.ForDomain(h)) == 1 && len(env.AWS.Route53.Records(zoneID)) == 2
	}, 20*time.Second, 10*time.Millisecond, "the certificate and its validation record are in AWS")
	var c v1alpha1.DomainClaim
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Name: h}, &c))
	require.Empty(t, c.Status.CertificateARN, "kept back in the quiet period")
	require.Nil(t, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionCertificateRequested))
	assert.ElementsMatch(t, []string{"CNAME " + name, "TXT " + dnsbatch.MarkerName(name, "CNAME")}, records(zoneID))

	require.NoError(t, env.StopManager())
	require.NoError(t, k8s.Delete(ctx, &c))
	clk.Advance(2 * time.Hour) // past the idempotency token's hour: only the tags find the certificate
	require.NoError(t, env.StartManager(ctx, quiet))

	require.Eventually(t, func() bool {
		return k8s.Get(ctx, client.ObjectKey{Name: h}, &v1alpha1.DomainClaim{}) != nil
	}, 30*time.Second, 50*time.Millisecond, "the claim is released")
	assert.Empty(t, env.AWS.ACM.ForDomain(h), "the certificate is deleted")
	assert.Empty(t, env.AWS.Route53.Records(zoneID), "and its validation record with it")
}

// keptBack restarts the manager with a quiet period that outlasts the test, so that a new
// claim's status stays kept back throughout, and restores the package's options afterwards. It
// returns the options it started the manager with, for the test's own restarts. The period is
// far longer than the real minute: the package's clock runs hours ahead once tests advanced it.
func keptBack(ctx context.Context, t *testing.T) testenv.Options {
	t.Helper()
	quiet := opts
	quiet.QuietPeriod = 100 * time.Hour
	require.NoError(t, env.StopManager())
	require.NoError(t, env.StartManager(ctx, quiet))
	t.Cleanup(func() {
		require.NoError(t, env.StopManager())
		require.NoError(t, env.StartManager(ctx, opts))
	})
	return quiet
}
