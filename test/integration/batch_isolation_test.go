package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// TestOneClaimsRejectedChangeDoesNotFailTheOthersInItsBatch: three claims' validation records go
// to Route53 in one batch; someone else created the record at one claim's name after the
// orchestrator read the zone, so Route53 rejects the batch. The other two claims' records are
// made, with no Warning; only that claim hears of it, about its own record.
func TestOneClaimsRejectedChangeDoesNotFailTheOthersInItsBatch(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	zoneID := z.Spec.HostedZoneID
	first := "first." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, adminClaim(first, tenant(t))))
	waitCondition(t, first, v1alpha1.ConditionValidationRecord, metav1.ConditionTrue) // the zone is read

	bad, good := "bad."+z.Spec.Domain, []string{"good-1." + z.Spec.Domain, "good-2." + z.Spec.Domain}
	badName, _ := awsfake.ValidationRecord(bad)
	env.AWS.Route53.Put(zoneID, awsfake.RecordSet{Name: badName, Type: "CNAME", TTL: ptr.To[int64](60), Values: []string{"someone-else.example.net."}})

	// A batch held in flight, so that the three claims' records gather into the next one.
	const op = "route53:ChangeResourceRecordSets"
	env.AWS.SetFault(op, &awsfake.Fault{Latency: 5 * time.Second})
	t.Cleanup(func() { env.AWS.SetFault(op, nil) })
	before := env.AWS.CallsFor(op, zoneID)
	require.NoError(t, k8s.Create(ctx, adminClaim("filler."+z.Spec.Domain, tenant(t))))
	require.Eventually(t, func() bool { return env.AWS.CallsFor(op, zoneID) > before }, 15*time.Second, 20*time.Millisecond)
	for _, h := range append([]string{bad}, good...) {
		require.NoError(t, k8s.Create(ctx, adminClaim(h, tenant(t))))
	}
	require.Eventually(t, func() bool { return env.AWS.CallsFor(op, zoneID) > before+1 }, 15*time.Second, 20*time.Millisecond,
		"the three claims' batch goes out")
	env.AWS.SetFault(op, nil)

	for _, h := range good {
		waitCondition(t, h, v1alpha1.ConditionValidationRecord, metav1.ConditionTrue)
	}
	require.Eventually(t, func() bool {
		c, err := getClaim(bad)
		if err != nil {
			return false
		}
		cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionValidationRecord)
		return cond != nil && cond.Status == metav1.ConditionFalse &&
			(cond.Reason == v1alpha1.ReasonChangeFailed || cond.Reason == v1alpha1.ReasonDNSConflict)
	}, 15*time.Second, 50*time.Millisecond, "the claim whose record someone else made hears of it")

	var evs eventsv1.EventList
	require.NoError(t, k8s.List(ctx, &evs, client.InNamespace("default")))
	told := false
	for _, e := range evs.Items {
		if e.Regarding.Kind != "DomainClaim" || e.Type != "Warning" {
			continue
		}
		for _, h := range good {
			assert.NotEqual(t, h, e.Regarding.Name, "a claim whose change was good has no Warning: %s %s", e.Reason, e.Note)
		}
		if e.Regarding.Name == bad && e.Reason == v1alpha1.ReasonChangeFailed {
			told = true
			assert.Contains(t, e.Note, dnsbatch.Canonical(badName), "the claim is told about its own record")
		}
	}
	assert.True(t, told, "the claim whose change Route53 rejected has the Warning")
}
