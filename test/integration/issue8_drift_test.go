package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

// aliasOf returns where the zone's A record at h points, or "".
func aliasOf(zoneID, h string) string {
	for _, rs := range env.AWS.Route53.Records(zoneID) {
		if rs.Name == h+"." && rs.Type == "A" && rs.Alias != nil {
			return dnsbatch.Canonical(rs.Alias.DNSName)
		}
	}
	return ""
}

// TestAliasRecordChangedBehindOurBackIsRepaired: someone points our ALIAS elsewhere (its marker
// left as it is); the next read of the zone finds it, puts our target back, and an Event says so.
// A foreign record next to ours, changed the same way, is left alone.
func TestAliasRecordChangedBehindOurBackIsRepaired(t *testing.T) {
	ctx := context.Background()
	restartManager(ctx, t, testenv.Options{AWSRates: testRates, DNSRefresh: time.Second})
	z := newZone(t)
	h := "changed." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, adminClaim(h, tenant(t))))
	issued(t, h)
	const ours = "k8s-gw-4.us-east-1.elb.amazonaws.com."
	setLoadBalancer(t, h, ours, "Z35SXDOTRQ7X7K")
	waitCondition(t, h, v1alpha1.ConditionDNSRecord, metav1.ConditionTrue)
	require.Equal(t, ours, aliasOf(z.Spec.HostedZoneID, h))
	foreign := "foreign." + z.Spec.Domain
	env.AWS.Route53.Put(z.Spec.HostedZoneID, awsfake.RecordSet{Name: foreign + ".", Type: "A",
		Alias: &awsfake.AliasTarget{HostedZoneID: "Z35SXDOTRQ7X7K", DNSName: "someone.us-east-1.elb.amazonaws.com."}})

	elsewhere := awsfake.RecordSet{Name: h + ".", Type: "A",
		Alias: &awsfake.AliasTarget{HostedZoneID: "Z35SXDOTRQ7X7K", DNSName: "hijack.us-east-1.elb.amazonaws.com."}}
	env.AWS.Route53.Put(z.Spec.HostedZoneID, elsewhere)
	env.AWS.Route53.Put(z.Spec.HostedZoneID, awsfake.RecordSet{Name: foreign + ".", Type: "A",
		Alias: &awsfake.AliasTarget{HostedZoneID: "Z35SXDOTRQ7X7K", DNSName: "someone-else.us-east-1.elb.amazonaws.com."}})
	require.Equal(t, "hijack.us-east-1.elb.amazonaws.com.", aliasOf(z.Spec.HostedZoneID, h))
	require.Eventually(t, func() bool { return aliasOf(z.Spec.HostedZoneID, h) == ours },
		20*time.Second, 100*time.Millisecond, "the ALIAS points at our load balancer again")
	awsHolds(t, z, []string{h}, append(validationRecords(h), "A "+h+".", "TXT "+dnsbatch.MarkerName(h, "A"), "A "+foreign+"."))
	assert.Equal(t, "someone-else.us-east-1.elb.amazonaws.com.", aliasOf(z.Spec.HostedZoneID, foreign), "a record we did not create is never changed")
	require.Eventually(t, func() bool {
		var evs eventsv1.EventList
		_ = k8s.List(ctx, &evs)
		for _, e := range evs.Items {
			if e.Regarding.Name == h && e.Reason == "DNSDrift" {
				return true
			}
		}
		return false
	}, 10*time.Second, 100*time.Millisecond, "an Event says so")
}
