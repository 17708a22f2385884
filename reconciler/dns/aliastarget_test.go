package dns

import (
	"context"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
)

// withUID gives a test's claim its own UID: claimstatus remembers each owner's last write per UID.
func withUID(uid string) func(*v1alpha1.DomainClaim) {
	return func(c *v1alpha1.DomainClaim) { c.UID = types.UID("uid-" + uid) }
}

// repoint is the pool naming another load balancer in the claim's status.
func repoint(t *testing.T, r *Reconciler, lb, zone string) {
	t.Helper()
	c := &v1alpha1.DomainClaim{}
	require.NoError(t, r.Client.Get(context.Background(), client.ObjectKey{Name: host}, c))
	c.Status.LoadBalancerHostname, c.Status.LoadBalancerZoneID = lb, zone
	require.NoError(t, r.Client.Status().Update(context.Background(), c))
}

func TestAliasTargetFollowsTheRecordsNotTheStatusThatAsksForThem(t *testing.T) {
	r, rec, applies := setup(t, claim(withUID("follow"), func(c *v1alpha1.DomainClaim) { c.Status.DualStack = true }),
		map[bool]dnsbatch.State{false: dnsbatch.Pending})
	clk := r.Clock.(*clocktesting.FakePassiveClock)
	first := clk.Now()

	_, c := reconcileOnce(t, r)
	assert.Nil(t, c.Status.AliasTarget, "queued is not in place")

	rec.state[false] = dnsbatch.Done
	clk.SetTime(first.Add(5 * time.Second))
	_, c = reconcileOnce(t, r)
	require.NotNil(t, c.Status.AliasTarget, "the records are in place")
	assert.Equal(t, "alb-1.elb.amazonaws.com", c.Status.AliasTarget.DNSName)
	assert.Equal(t, "ZALB", c.Status.AliasTarget.HostedZoneID)
	assert.Equal(t, []string{"A", "AAAA"}, c.Status.AliasTarget.RecordTypes)
	since := c.Status.AliasTarget.Since
	assert.Equal(t, first.Add(5*time.Second).Truncate(time.Second).Unix(), since.Unix())
	assert.Equal(t, 1, *applies, "with DNSRecordReady, in one write")
	assert.True(t, c.AliasPointsAt("alb-1.elb.amazonaws.com"))

	clk.SetTime(first.Add(time.Hour))
	_, c = reconcileOnce(t, r)
	assert.Equal(t, 1, *applies, "a refresh that finds the records in place writes nothing")
	assert.Equal(t, since.Unix(), c.Status.AliasTarget.Since.Unix(), "since when, not when last seen")

	repoint(t, r, "alb-2.elb.amazonaws.com", "ZALB2")
	rec.state[false] = dnsbatch.Pending
	_, c = reconcileOnce(t, r)
	assert.Equal(t, v1alpha1.ReasonPending, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord).Reason)
	require.NotNil(t, c.Status.AliasTarget)
	assert.Equal(t, "alb-1.elb.amazonaws.com", c.Status.AliasTarget.DNSName, "the change is queued: the records still point at the old load balancer")
	assert.False(t, c.AliasPointsAt("alb-2.elb.amazonaws.com"))

	rec.state[false], rec.err = dnsbatch.Failed, &smithy.GenericAPIError{Code: "InternalFailure"}
	_, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKey{Name: host}})
	require.Error(t, err)
	require.NoError(t, r.Client.Get(context.Background(), client.ObjectKey{Name: host}, c))
	assert.Equal(t, v1alpha1.ReasonChangeFailed, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord).Reason)
	assert.Equal(t, "alb-1.elb.amazonaws.com", c.Status.AliasTarget.DNSName, "a failed change left the records where they were")

	rec.state[false], rec.err = dnsbatch.Done, nil
	clk.SetTime(first.Add(2 * time.Hour))
	_, c = reconcileOnce(t, r)
	require.NotNil(t, c.Status.AliasTarget)
	assert.Equal(t, "alb-2.elb.amazonaws.com", c.Status.AliasTarget.DNSName)
	assert.Equal(t, "ZALB2", c.Status.AliasTarget.HostedZoneID)
	assert.Equal(t, first.Add(2*time.Hour).Truncate(time.Second).Unix(), c.Status.AliasTarget.Since.Unix(), "a new load balancer, a new since")
	assert.True(t, c.AliasPointsAt("alb-2.elb.amazonaws.com"))

	rec.state[false] = dnsbatch.Conflict
	_, c = reconcileOnce(t, r)
	assert.Equal(t, v1alpha1.ReasonDNSConflict, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord).Reason)
	assert.Nil(t, c.Status.AliasTarget, "the record at the name is someone else's: it points at no load balancer of ours")
}

func TestAClaimOfAnOlderVersionGetsItsAliasTargetOnTheNextReconcile(t *testing.T) {
	old := claim(withUID("old"), func(c *v1alpha1.DomainClaim) {
		// What the version before status.aliasTarget wrote: the condition, and its message.
		c.Status.Conditions = append(c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionDNSRecord, Status: metav1.ConditionTrue,
			Reason: v1alpha1.ReasonCreated, Message: aliasMessage(c), ObservedGeneration: 1, LastTransitionTime: metav1.Now()})
	})
	require.False(t, old.AliasPointsAt("alb-1.elb.amazonaws.com"), "the message alone says nothing to the pool")
	r, _, applies := setup(t, old, map[bool]dnsbatch.State{false: dnsbatch.Done})
	_, c := reconcileOnce(t, r)
	assert.Equal(t, 1, *applies)
	require.NotNil(t, c.Status.AliasTarget)
	assert.True(t, c.AliasPointsAt("alb-1.elb.amazonaws.com"))
	cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord)
	assert.Contains(t, cond.Message, v1alpha1.AliasMessage(host, "alb-1.elb.amazonaws.com"), "the message for people stays")
}

func TestRemovedRecordsTakeTheAliasTargetWithThem(t *testing.T) {
	ctx := context.Background()
	for name, goes := range map[string]func(k client.Client, c *v1alpha1.DomainClaim) error{
		"a deleted claim": func(k client.Client, c *v1alpha1.DomainClaim) error { return k.Delete(ctx, c) }, // its finalizer holds it
		"a claim that lost its hostname": func(k client.Client, c *v1alpha1.DomainClaim) error {
			meta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionClaimed, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonConflicted})
			return k.Status().Update(ctx, c)
		},
	} {
		t.Run(name, func(t *testing.T) {
			r, rec, _ := setup(t, claim(withUID("removed-"+name)), map[bool]dnsbatch.State{false: dnsbatch.Done, true: dnsbatch.Pending})
			_, c := reconcileOnce(t, r)
			require.NotNil(t, c.Status.AliasTarget, "in place first")
			require.NoError(t, goes(r.Client, c))
			_, c = reconcileOnce(t, r)
			assert.NotNil(t, c.Status.AliasTarget, "kept while the deletion waits in the batch")

			rec.state[true] = dnsbatch.Done
			_, c = reconcileOnce(t, r)
			assert.True(t, c.AliasRecordsGone())
			assert.Nil(t, c.Status.AliasTarget, "no record points anywhere")
		})
	}
}

// TestAMoveOffADualStackLoadBalancerRemovesTheAAAARecordBeforeTheTargetChanges: from a
// dual-stack pool ALB to a team's own IPv4 load balancer, the AAAA record of ours still points at
// the pool ALB; it goes, and only then does aliasTarget name the new load balancer (the pool
// gives its seat back on that), and a dual-stack switch the other way warns of no drift.
func TestAMoveOffADualStackLoadBalancerRemovesTheAAAARecordBeforeTheTargetChanges(t *testing.T) {
	r, rec, _ := setup(t, claim(withUID("v6"), func(c *v1alpha1.DomainClaim) { c.Status.DualStack = true }),
		map[bool]dnsbatch.State{false: dnsbatch.Done, true: dnsbatch.Done})
	_, c := reconcileOnce(t, r)
	require.Equal(t, []string{"A", "AAAA"}, c.Status.AliasTarget.RecordTypes)

	// The pool names the own IPv4 load balancer; the removal of the AAAA record is still queued.
	c.Status.LoadBalancerHostname, c.Status.LoadBalancerZoneID, c.Status.DualStack = "own-1.elb.amazonaws.com", "ZOWN", false
	require.NoError(t, r.Client.Status().Update(context.Background(), c))
	rec.asked, rec.state[true] = nil, dnsbatch.Pending
	_, c = reconcileOnce(t, r)
	require.Len(t, rec.asked, 2, "the A record at the new load balancer, and the AAAA record of ours gone")
	assert.False(t, rec.asked[0].Absent)
	assert.True(t, rec.asked[1].Absent)
	assert.Equal(t, "AAAA", string(rec.asked[1].Record.Type))
	assert.False(t, c.AliasPointsAt("own-1.elb.amazonaws.com"), "an AAAA record still points at the pool ALB")

	rec.asked, rec.state[true] = nil, dnsbatch.Done
	_, c = reconcileOnce(t, r)
	require.True(t, c.AliasPointsAt("own-1.elb.amazonaws.com"))
	assert.Equal(t, []string{"A"}, c.Status.AliasTarget.RecordTypes)
	rec.asked = nil
	_, c = reconcileOnce(t, r)
	assert.Len(t, rec.asked, 1, "once gone, the AAAA record is not asked about again")

	// Dual-stack again: the new AAAA record is queued, and that is no drift of a record of ours.
	c.Status.DualStack = true
	require.NoError(t, r.Client.Status().Update(context.Background(), c))
	rec.typed = map[string]dnsbatch.State{"AAAA": dnsbatch.Pending}
	reconcileOnce(t, r)
	assert.Empty(t, r.Recorder.(*events.FakeRecorder).Events, "no DNSDrift Event for a record never written")

	// A record of ours that the target lists and that is found changed is drift.
	rec.typed = map[string]dnsbatch.State{"A": dnsbatch.Pending}
	reconcileOnce(t, r)
	assert.Len(t, r.Recorder.(*events.FakeRecorder).Events, 1, "the A record was in place: DNSDrift")
}
