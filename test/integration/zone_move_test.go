package integration

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
)

// recordsOf lists, as "TYPE NAME", the records in hosted zone zoneID at hostname h or below it:
// its ALIAS records, its validation CNAME and their ownership markers.
func recordsOf(zoneID, h string) []string {
	out := []string{}
	for _, rs := range env.AWS.Route53.Records(zoneID) {
		if rs.Name == h+"." || strings.HasSuffix(rs.Name, "."+h+".") {
			out = append(out, rs.Type+" "+rs.Name)
		}
	}
	sort.Strings(out)
	return out
}

// readyWithRecords creates a route for h in a tenant namespace, waits for its claim to be Ready
// and checks that its records (ALIAS, validation CNAME and their markers, as "TYPE NAME") are in
// hosted zone zoneID, which it returns them for.
func readyWithRecords(t *testing.T, zoneID, h string) (*v1alpha1.DomainClaim, []string) {
	t.Helper()
	require.NoError(t, k8s.Create(context.Background(), route(tenant(t), h)))
	c := ready(t, h, 60*time.Second)
	require.NotNil(t, c.Status.ValidationRecord)
	validation := dnsbatch.Canonical(c.Status.ValidationRecord.Name)
	written := []string{"A " + h + ".", "CNAME " + validation, "TXT " + dnsbatch.MarkerName(h, "A"), "TXT " + dnsbatch.MarkerName(validation, "CNAME")}
	sort.Strings(written)
	require.Equal(t, written, recordsOf(zoneID, h), "the claim's records, in the zone's hosted zone")
	return c, written
}

// TestChangingAZonesHostedZoneMovesItsClaimsRecordsAndDeletionCleansBoth: an admin corrects a
// ManagedZone's spec.hostedZoneID under a Ready claim. The ALIAS record and the validation CNAME
// (with their markers) are written in the new hosted zone and ours leave the old one; the claim
// records where they are; deleting the claim afterwards leaves both hosted zones clean.
func TestChangingAZonesHostedZoneMovesItsClaimsRecordsAndDeletionCleansBoth(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	h := "moved." + z.Spec.Domain
	old := z.Spec.HostedZoneID
	c, written := readyWithRecords(t, old, h)
	assert.Equal(t, old, c.Status.AliasTarget.RecordZoneID, "the claim records where its ALIAS was written")
	assert.Equal(t, old, c.Status.ValidationRecord.RecordZoneID, "and where its CNAME was")
	// Someone else's record below the name in the old zone is not ours to take away.
	foreign := "foreign." + h
	env.AWS.Route53.Put(old, awsfake.RecordSet{Name: foreign, Type: "A", TTL: ptr.To[int64](60), Values: []string{"192.0.2.1"}})

	newID := env.AWS.Route53.AddZone(z.Spec.Domain)
	admin, seen := warningClient(t)
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(z), z); err != nil {
			return err
		}
		z.Spec.HostedZoneID = newID
		return admin.Update(ctx, z)
	}), "the change is admitted: it is the remedy for a wrong zone ID")
	assert.Contains(t, seen.all(), fmt.Sprintf("the records of 1 DomainClaim(s) (%s) move from hosted zone %s to hosted zone %s", h, old, newID),
		"the admin is warned that the records move")

	moved := func() bool {
		return assert.ObjectsAreEqual(written, recordsOf(newID, h)) && assert.ObjectsAreEqual([]string{"A " + foreign + "."}, recordsOf(old, h))
	}
	if !assert.Eventually(t, moved, 30*time.Second, 100*time.Millisecond, "the claim's records move to the new hosted zone") {
		require.Equal(t, written, recordsOf(newID, h), "every record of the claim is in the new hosted zone")
		require.Equal(t, []string{"A " + foreign + "."}, recordsOf(old, h), "only someone else's record is left in the old one")
	}
	require.Eventually(t, func() bool {
		got, err := getClaim(h)
		return err == nil && got.Status.AliasTarget != nil && got.Status.AliasTarget.RecordZoneID == newID &&
			got.Status.ValidationRecord != nil && got.Status.ValidationRecord.RecordZoneID == newID
	}, 10*time.Second, 100*time.Millisecond, "the claim records the new hosted zone as its records'")
	dns, target := route53Alias(ctx, t, newID, h)
	assert.Equal(t, dnsbatch.Canonical(c.Status.LoadBalancerHostname), dns, "the ALIAS in the new zone points at the claim's load balancer")
	assert.Equal(t, c.Status.LoadBalancerZoneID, target)
	c = ready(t, h, 30*time.Second)
	assert.Contains(t, condition(c, v1alpha1.ConditionValidationRecord).Message, newID)

	require.NoError(t, k8s.Delete(ctx, c))
	waitGone(t, h, 60*time.Second)
	assert.Empty(t, recordsOf(newID, h), "the deleted claim left nothing in the new hosted zone")
	assert.Equal(t, []string{"A " + foreign + "."}, recordsOf(old, h), "nor in the old one")
}

// TestAChildZoneCreatedOverAParentsClaimTakesItsRecordsToItsHostedZone: an admin creates a
// ManagedZone for shop.DOMAIN, with a hosted zone of its own, over a Ready claim of the parent
// zone. The claim's records move to the child's hosted zone and leave the parent's; deleting the
// claim leaves both clean.
func TestAChildZoneCreatedOverAParentsClaimTakesItsRecordsToItsHostedZone(t *testing.T) {
	ctx := context.Background()
	parent, p := servedZone(t)
	h := "cart.shop." + parent.Spec.Domain
	_, written := readyWithRecords(t, parent.Spec.HostedZoneID, h)

	child := newZone(t, func(z *v1alpha1.ManagedZone) {
		z.Spec.Domain = "shop." + parent.Spec.Domain
		z.Spec.GatewayPoolRef = &v1alpha1.LocalObjectReference{Name: p.Name}
	})
	require.NotEqual(t, parent.Spec.HostedZoneID, child.Spec.HostedZoneID)
	if !assert.Eventually(t, func() bool {
		return assert.ObjectsAreEqual(written, recordsOf(child.Spec.HostedZoneID, h)) && len(recordsOf(parent.Spec.HostedZoneID, h)) == 0
	}, 30*time.Second, 100*time.Millisecond, "the claim's records move to the child zone's hosted zone") {
		require.Equal(t, written, recordsOf(child.Spec.HostedZoneID, h), "every record of the claim is in the child's hosted zone")
		require.Empty(t, recordsOf(parent.Spec.HostedZoneID, h), "none is left in the parent's")
	}
	c := ready(t, h, 30*time.Second)
	assert.Equal(t, child.Name, c.Status.ManagedZone)

	require.NoError(t, k8s.Delete(ctx, c))
	waitGone(t, h, 60*time.Second)
	assert.Empty(t, recordsOf(child.Spec.HostedZoneID, h), "the deleted claim left nothing in the child's hosted zone")
	assert.Empty(t, recordsOf(parent.Spec.HostedZoneID, h), "nor in the parent's")
}
