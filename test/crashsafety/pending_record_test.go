package crashsafety

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// TestAPendingCertificatesValidationRecordIsPutBackAfterARestart: a name and its wildcard share
// one validation CNAME. While one claim's record is only in memory (its quiet period), a process
// counts it as in use; a restart loses that memory, and the other claim's deletion may then take
// the CNAME. The claim whose certificate is still pending validation puts its record back on its
// first reconcile after the start (every claim is reconciled when the cache fills).
func TestAPendingCertificatesValidationRecordIsPutBackAfterARestart(t *testing.T) {
	ctx := context.Background()
	quiet := keptBack(ctx, t)

	domain, zoneID, ns := setup(t)
	h := "pending." + domain
	env.AWS.ACM.Hold(h)
	defer env.AWS.ACM.Release(h)
	require.NoError(t, k8s.Create(ctx, claim(h, ns)))
	name, _ := awsfake.ValidationRecord(h)
	want := []string{"CNAME " + name, "TXT " + dnsbatch.MarkerName(name, "CNAME")}
	require.Eventually(t, func() bool {
		return len(env.AWS.ACM.ForDomain(h)) == 1 && len(records(zoneID)) == 2
	}, 20*time.Second, 10*time.Millisecond, "the certificate and its validation record are in AWS")

	require.NoError(t, env.StopManager())
	// The other claim's deletion, which saw no status listing the record, took it.
	env.AWS.Route53.Remove(zoneID, name, "CNAME")
	env.AWS.Route53.Remove(zoneID, dnsbatch.MarkerName(name, "CNAME"), "TXT")
	require.Empty(t, records(zoneID))
	start := time.Now()
	require.NoError(t, env.StartManager(ctx, quiet))

	require.Eventually(t, func() bool { return len(records(zoneID)) == 2 }, 15*time.Second, 10*time.Millisecond,
		"the pending certificate's validation record is put back after the start")
	t.Logf("validation record back %v after the manager started", time.Since(start).Round(time.Millisecond))
	assert.ElementsMatch(t, want, records(zoneID))
	var c v1alpha1.DomainClaim
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Name: h}, &c))
	assert.Empty(t, c.Status.CertificateARN, "still in its quiet period: the record was read from ACM again, not from status")
}
