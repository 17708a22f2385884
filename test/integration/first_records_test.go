package integration

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// TestAClaimWhoseFirstRecordsWereNeverSaidLeavesNoRecordWhenDeleted: reconciler/dns queues a
// claim's first ALIAS records without a status write. A claim served by a load balancer of its
// own (no seat) that goes within the batcher's window, or a leader that dies between Route53's
// change and the condition, leaves the state built here: the claim holds its hostname, has no
// DNSRecordReady, no load balancer and no seat, and an A record of ours (with its ownership
// marker) is at its hostname in Route53. Its status alone said "no record was ever written"
// (AliasRecordsGone), so the certificate's finalizer let the claim go and the record stayed,
// pointing at a load balancer that no longer serves the name. Now the deletion waits for
// reconciler/dns to remove what of ours is at the name (AliasRecordsGoneForDeletion): nothing is
// left once the claim is gone.
func TestAClaimWhoseFirstRecordsWereNeverSaidLeavesNoRecordWhenDeleted(t *testing.T) {
	ctx := context.Background()
	z := newZone(t) // no pool: nothing gives the claim a load balancer again
	ns := tenant(t)
	h := "first." + z.Spec.Domain
	gone := createALB(t, "k8s-first-records-gone")

	// The records a leader wrote for the claim's own load balancer before it died, written
	// before the batcher first reads the zone, as the next leader finds them.
	env.AWS.Route53.Put(z.Spec.HostedZoneID, awsfake.RecordSet{Name: h, Type: "A",
		Alias: &awsfake.AliasTarget{HostedZoneID: "Z35SXDOTRQ7X7K", DNSName: gone, EvaluateTargetHealth: true}})
	env.AWS.Route53.Put(z.Spec.HostedZoneID, awsfake.RecordSet{Name: dnsbatch.MarkerName(h, "A"), Type: "TXT",
		TTL: aws.Int64(300), Values: []string{dnsbatch.MarkerValue("test")}})
	require.Len(t, recordsAt(z.Spec.HostedZoneID, h), 2)

	c := adminClaim(h, ns)
	require.NoError(t, k8s.Create(ctx, c))
	require.Eventually(t, func() bool {
		c, err := getClaim(c.Name)
		return err == nil && controllerutil.ContainsFinalizer(c, v1alpha1.FinalizerAWSCleanup) &&
			meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionClaimed) &&
			meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionCertificateIssued)
	}, 60*time.Second, 100*time.Millisecond, "the claim holds its hostname and its certificate is issued")
	c, err := getClaim(c.Name)
	require.NoError(t, err)
	require.Nil(t, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord), "no condition says a record may exist")
	require.Empty(t, c.Status.LoadBalancerHostname)
	require.Nil(t, c.Status.Gateway)
	require.True(t, c.AliasRecordsGone(), "by its status alone, the claim never had a record")
	require.Len(t, recordsAt(z.Spec.HostedZoneID, h), 2, "the record is still there")

	require.NoError(t, k8s.Delete(ctx, c))
	require.Eventually(t, func() bool {
		_, err := getClaim(c.Name)
		return apierrors.IsNotFound(err)
	}, 60*time.Second, 50*time.Millisecond, "the claim goes")
	assert.Empty(t, recordsAt(z.Spec.HostedZoneID, h), "neither the A record nor its ownership marker is left behind")
}
