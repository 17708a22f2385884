package dns

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/test/crdschema"
)

// records is a strict stand-in for the batcher: it answers each want with the state the test
// gives for its absence, and remembers what was asked, for claims that exist.
type records struct {
	mu    sync.Mutex
	state map[bool]dnsbatch.State   // by Absent
	typed map[string]dnsbatch.State // by record type, for wants of records that are to exist; over state
	err   error                     // the AWS error of a Failed state
	asked []dnsbatch.Want
	k     client.Client
}

func (r *records) Ensure(ctx context.Context, owner string, w dnsbatch.Want) (dnsbatch.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.k.Get(ctx, client.ObjectKey{Name: owner}, &v1alpha1.DomainClaim{}); err != nil {
		return dnsbatch.Result{}, err
	}
	r.asked = append(r.asked, w)
	if r.state[w.Absent] == dnsbatch.Failed {
		return dnsbatch.Result{State: dnsbatch.Failed, Message: "refused", Err: r.err}, r.err
	}
	if st, ok := r.typed[string(w.Record.Type)]; ok && !w.Absent {
		return dnsbatch.Result{State: st, Message: "taken"}, nil
	}
	return dnsbatch.Result{State: r.state[w.Absent], Message: "taken"}, nil
}

func (r *records) RefreshEvery() time.Duration { return 10 * time.Minute }

const host = "shop.example.com"

func claim(mutate ...func(*v1alpha1.DomainClaim)) *v1alpha1.DomainClaim {
	c := &v1alpha1.DomainClaim{
		ObjectMeta: metav1.ObjectMeta{Name: host, UID: "uid-1", Generation: 1, Finalizers: []string{v1alpha1.FinalizerAWSCleanup}},
		Spec:       v1alpha1.DomainClaimSpec{Hostname: host, Namespace: "team"},
		Status: v1alpha1.DomainClaimStatus{
			LoadBalancerHostname: "alb-1.elb.amazonaws.com", LoadBalancerZoneID: "ZALB",
			Conditions: []metav1.Condition{{Type: v1alpha1.ConditionClaimed, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonClaimed, LastTransitionTime: metav1.Now()}},
		},
	}
	for _, m := range mutate {
		m(c)
	}
	return c
}

// setup returns the reconciler over a fake API holding c and its zone, and the number of status
// applies it sees.
func setup(t *testing.T, c *v1alpha1.DomainClaim, states map[bool]dnsbatch.State) (*Reconciler, *records, *int) {
	t.Helper()
	s := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(s))
	zone := &v1alpha1.ManagedZone{ObjectMeta: metav1.ObjectMeta{Name: "example"}, Spec: v1alpha1.ManagedZoneSpec{Domain: "example.com", HostedZoneID: "Z1"}}
	applies := 0
	tc, err := crdschema.TypeConverter()
	require.NoError(t, err)
	k := fake.NewClientBuilder().WithScheme(s).WithTypeConverters(tc).WithObjects(c, zone).WithStatusSubresource(&v1alpha1.DomainClaim{}).
		WithIndex(&v1alpha1.ManagedZone{}, index.ZoneDomain, func(o client.Object) []string { return []string{o.(*v1alpha1.ManagedZone).Spec.Domain} }).
		WithInterceptorFuncs(interceptor.Funcs{SubResourceApply: func(ctx context.Context, cl client.Client, sub string, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
			applies++
			return cl.SubResource(sub).Apply(ctx, obj, opts...)
		}}).Build()
	rec := &records{state: states, k: k}
	r := &Reconciler{Client: k, DNS: rec, Recorder: events.NewFakeRecorder(10), Clock: clocktesting.NewFakePassiveClock(time.Now())}
	r.defaults()
	return r, rec, &applies
}

func reconcileOnce(t *testing.T, r *Reconciler) (reconcile.Result, *v1alpha1.DomainClaim) {
	t.Helper()
	res, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKey{Name: host}})
	require.NoError(t, err)
	c := &v1alpha1.DomainClaim{}
	require.NoError(t, r.Client.Get(context.Background(), client.ObjectKey{Name: host}, c))
	return res, c
}

func TestAQueuedFirstChangeIsNotWrittenOnlyWhereItEnds(t *testing.T) {
	r, rec, applies := setup(t, claim(), map[bool]dnsbatch.State{false: dnsbatch.Pending})
	res, c := reconcileOnce(t, r)
	require.Len(t, rec.asked, 1, "only the A record: the load balancer is not dual-stack")
	assert.Nil(t, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord), "queued is not news: the batcher wakes the claim")
	assert.Zero(t, *applies)
	assert.Zero(t, res.RequeueAfter)
	assert.False(t, c.AliasRecordsGone(), "a claim with a load balancer may have records, condition or not")

	rec.state[false] = dnsbatch.Done
	res, c = reconcileOnce(t, r)
	assert.True(t, meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionDNSRecord))
	assert.Equal(t, 1, *applies, "one write: the records are in place")
	assert.Equal(t, 10*time.Minute, res.RequeueAfter, "back within the zone's refresh to repair drift")

	reconcileOnce(t, r)
	assert.Equal(t, 1, *applies, "nothing changed: nothing written")
}

func TestALoadBalancerThatGoesWhileTheFirstChangeIsUnsaidIsWritten(t *testing.T) {
	r, _, applies := setup(t, claim(), map[bool]dnsbatch.State{false: dnsbatch.Pending})
	reconcileOnce(t, r)
	c := &v1alpha1.DomainClaim{}
	require.NoError(t, r.Client.Get(context.Background(), client.ObjectKey{Name: host}, c))
	c.Status.LoadBalancerHostname, c.Status.LoadBalancerZoneID = "", ""
	require.NoError(t, r.Client.Status().Update(context.Background(), c))

	_, c = reconcileOnce(t, r)
	cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord)
	require.NotNil(t, cond, "a record may have been written for the load balancer that went: said, so that it is removed before the claim goes")
	assert.Equal(t, v1alpha1.ReasonPending, cond.Reason)
	assert.Equal(t, 1, *applies)
	assert.False(t, c.AliasRecordsGone())
}

func TestDualStackAsksForAAndAAAAToTheAssignedLoadBalancer(t *testing.T) {
	r, rec, _ := setup(t, claim(func(c *v1alpha1.DomainClaim) { c.Status.DualStack = true }), map[bool]dnsbatch.State{false: dnsbatch.Done})
	reconcileOnce(t, r)
	require.Len(t, rec.asked, 2)
	for i, typ := range []string{"A", "AAAA"} {
		w := rec.asked[i]
		assert.Equal(t, typ, string(w.Record.Type))
		assert.Equal(t, "Z1", w.Zone)
		assert.Equal(t, dnsbatch.Exclusive, w.Kind, "an ALIAS is ours alone: someone else's is a conflict")
		assert.Equal(t, host+".", *w.Record.Name)
		assert.Equal(t, "alb-1.elb.amazonaws.com", *w.Record.AliasTarget.DNSName)
		assert.Equal(t, "ZALB", *w.Record.AliasTarget.HostedZoneId)
	}
}

func TestForeignRecordIsAConditionAndLookedAtAgainInAMinute(t *testing.T) {
	r, _, _ := setup(t, claim(), map[bool]dnsbatch.State{false: dnsbatch.Conflict})
	res, c := reconcileOnce(t, r)
	assert.Equal(t, time.Minute, res.RequeueAfter)
	cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord)
	require.NotNil(t, cond)
	assert.Equal(t, v1alpha1.ReasonDNSConflict, cond.Reason)
	assert.Equal(t, "taken", cond.Message)
}

func TestNothingIsWrittenBeforeTheClaimIsSettledOrHasALoadBalancer(t *testing.T) {
	for name, c := range map[string]*v1alpha1.DomainClaim{
		"not claimed yet":      claim(func(c *v1alpha1.DomainClaim) { c.Status.Conditions = nil }),
		"no load balancer yet": claim(func(c *v1alpha1.DomainClaim) { c.Status.LoadBalancerHostname = "" }),
	} {
		t.Run(name, func(t *testing.T) {
			r, rec, applies := setup(t, c, map[bool]dnsbatch.State{false: dnsbatch.Done})
			reconcileOnce(t, r)
			assert.Empty(t, rec.asked)
			assert.Zero(t, *applies)
		})
	}
}

func TestDeletionRemovesBothRecordsThenSaysRecordsRemoved(t *testing.T) {
	deleting := claim(func(c *v1alpha1.DomainClaim) {
		c.DeletionTimestamp = &metav1.Time{Time: time.Now()}
		c.Status.Conditions = append(c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionDNSRecord, Status: metav1.ConditionTrue,
			Reason: v1alpha1.ReasonCreated, LastTransitionTime: metav1.Now()})
	})
	r, rec, applies := setup(t, deleting, map[bool]dnsbatch.State{true: dnsbatch.Pending})
	_, c := reconcileOnce(t, r)
	require.Len(t, rec.asked, 1, "the A deletion is queued; the AAAA waits for it")
	assert.True(t, rec.asked[0].Absent)
	assert.Zero(t, *applies, "nothing is said while the deletion waits in the batch")
	assert.False(t, c.AliasRecordsGone())

	rec.state[true] = dnsbatch.Done
	_, c = reconcileOnce(t, r)
	require.Len(t, rec.asked, 3)
	assert.Equal(t, "AAAA", string(rec.asked[2].Record.Type), "an AAAA is removed too, whatever the load balancer is now")
	cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord)
	require.NotNil(t, cond)
	assert.Equal(t, metav1.ConditionFalse, cond.Status)
	assert.Equal(t, v1alpha1.ReasonRecordsRemoved, cond.Reason)
	assert.True(t, c.AliasRecordsGone(), "the pool and the certificate may go on")

	reconcileOnce(t, r)
	assert.Len(t, rec.asked, 3, "once removed, nothing more is asked")
	assert.Equal(t, 1, *applies)
}

func TestDeletingAClaimNeverBoundAsksNothing(t *testing.T) {
	r, rec, applies := setup(t, claim(func(c *v1alpha1.DomainClaim) {
		c.DeletionTimestamp = &metav1.Time{Time: time.Now()}
		c.Status.LoadBalancerHostname, c.Status.LoadBalancerZoneID = "", ""
	}), nil)
	_, c := reconcileOnce(t, r)
	assert.Empty(t, rec.asked, "an unbound claim never had a load balancer or seat: no AWS call")
	assert.Zero(t, *applies)
	assert.True(t, c.AliasRecordsGoneForDeletion())
}

func TestDeletingAClaimThatNeverHeldItsHostnameAsksNothing(t *testing.T) {
	r, rec, applies := setup(t, claim(func(c *v1alpha1.DomainClaim) {
		c.DeletionTimestamp = &metav1.Time{Time: time.Now()}
		c.Status.LoadBalancerHostname, c.Status.LoadBalancerZoneID = "", ""
		c.Status.Conditions[0].Status, c.Status.Conditions[0].Reason = metav1.ConditionFalse, v1alpha1.ReasonConflicted
	}), nil)
	_, c := reconcileOnce(t, r)
	assert.Empty(t, rec.asked, "records at the name are another claim's")
	assert.Zero(t, *applies)
	assert.True(t, c.AliasRecordsGoneForDeletion())
}

// TestDeletingAClaimThatHoldsItsHostnameWithoutAConditionRemovesWhatIsThere: no condition, no
// load balancer and no seat is no proof on a claim that holds its hostname: its first records
// may have been queued (or written, before a crash) for a load balancer of its own that went
// since. Whatever of ours is at the name goes, and RecordsRemoved lets the claim go.
func TestDeletingAClaimThatHoldsItsHostnameWithoutAConditionRemovesWhatIsThere(t *testing.T) {
	r, rec, applies := setup(t, claim(withUID("held-unsaid"), func(c *v1alpha1.DomainClaim) {
		c.DeletionTimestamp = &metav1.Time{Time: time.Now()}
		c.Status.LoadBalancerHostname, c.Status.LoadBalancerZoneID = "", ""
		c.Status.Conditions = append(c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionBound, Status: metav1.ConditionTrue,
			Reason: v1alpha1.ReasonObjectExists, LastTransitionTime: metav1.Now()})
	}), map[bool]dnsbatch.State{true: dnsbatch.Pending})
	before := &v1alpha1.DomainClaim{}
	require.NoError(t, r.Client.Get(context.Background(), client.ObjectKey{Name: host}, before))
	require.True(t, before.AliasRecordsGone(), "its status alone says it never had a record")
	require.False(t, before.AliasRecordsGoneForDeletion(), "which does not let it go")

	_, c := reconcileOnce(t, r)
	require.Len(t, rec.asked, 1, "the A record of ours at the name is being removed")
	assert.True(t, rec.asked[0].Absent)
	assert.Zero(t, *applies, "nothing is said while the removal is queued: the batcher wakes the claim")
	assert.False(t, c.AliasRecordsGoneForDeletion())

	rec.state[true] = dnsbatch.Done
	_, c = reconcileOnce(t, r)
	require.Len(t, rec.asked, 3, "A, then A and AAAA")
	assert.Equal(t, 1, *applies, "one write, at deletion")
	assert.Equal(t, v1alpha1.ReasonRecordsRemoved, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord).Reason)
	assert.True(t, c.AliasRecordsGoneForDeletion(), "the certificate, and then the claim, may go")
}

func TestDeletingAClaimWithALoadBalancerButNoConditionRemovesItsRecords(t *testing.T) {
	r, rec, applies := setup(t, claim(func(c *v1alpha1.DomainClaim) { c.DeletionTimestamp = &metav1.Time{Time: time.Now()} }),
		map[bool]dnsbatch.State{true: dnsbatch.Done})
	_, c := reconcileOnce(t, r)
	require.Len(t, rec.asked, 2, "A and AAAA: a record may have been written before any condition was")
	assert.True(t, rec.asked[0].Absent)
	assert.Equal(t, 1, *applies)
	assert.Equal(t, v1alpha1.ReasonRecordsRemoved, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord).Reason)
	assert.True(t, c.AliasRecordsGone())
}

func TestAClaimThatLostItsHostnameIsUnprovisioned(t *testing.T) {
	lost := claim(func(c *v1alpha1.DomainClaim) {
		c.Status.Conditions = []metav1.Condition{
			{Type: v1alpha1.ConditionClaimed, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonConflicted, LastTransitionTime: metav1.Now()},
			{Type: v1alpha1.ConditionDNSRecord, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonCreated, LastTransitionTime: metav1.Now()},
		}
	})
	r, rec, _ := setup(t, lost, map[bool]dnsbatch.State{true: dnsbatch.Done})
	_, c := reconcileOnce(t, r)
	assert.Len(t, rec.asked, 2)
	cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord)
	require.NotNil(t, cond)
	assert.Equal(t, v1alpha1.ReasonUnprovisioned, cond.Reason)
}

func TestARefusedChangeBacksOffPerClaimAndIsAnnouncedOnce(t *testing.T) {
	r, rec, _ := setup(t, claim(), map[bool]dnsbatch.State{false: dnsbatch.Failed})
	rec.err = &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform route53:ChangeResourceRecordSets"}
	clk := r.Clock.(*clocktesting.FakePassiveClock)
	warnings := func() int {
		n := 0
		for {
			select {
			case e := <-r.Recorder.(*events.FakeRecorder).Events:
				if strings.HasPrefix(e, "Warning AccessDenied") {
					n++
				}
			default:
				return n
			}
		}
	}

	res, c := reconcileOnce(t, r)
	cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord)
	require.NotNil(t, cond)
	assert.Equal(t, v1alpha1.ReasonAccessDenied, cond.Reason)
	assert.True(t, strings.HasPrefix(cond.Message, "refused; "), "the batcher's message first: %s", cond.Message)
	assert.Contains(t, cond.Message, "backing off: next attempt at "+clk.Now().Add(10*time.Second).UTC().Format(time.RFC3339))
	assert.Equal(t, 10*time.Second, res.RequeueAfter)
	assert.Equal(t, 1, warnings(), "the denial is announced")

	clk.SetTime(clk.Now().Add(3 * time.Second))
	res, _ = reconcileOnce(t, r)
	assert.Len(t, rec.asked, 1, "an event about the claim during the wait asks Route53 nothing")
	assert.Equal(t, 7*time.Second, res.RequeueAfter)

	clk.SetTime(clk.Now().Add(7 * time.Second))
	res, _ = reconcileOnce(t, r)
	assert.Len(t, rec.asked, 2)
	assert.Equal(t, 20*time.Second, res.RequeueAfter, "the wait doubles")
	assert.Zero(t, warnings(), "the same state is not announced again")

	rec.state[false] = dnsbatch.Done
	clk.SetTime(clk.Now().Add(20 * time.Second))
	_, c = reconcileOnce(t, r)
	assert.True(t, meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionDNSRecord), "a success ends the back-off")
}

func TestATransientFailureIsAnErrorAsBefore(t *testing.T) {
	r, rec, _ := setup(t, claim(), map[bool]dnsbatch.State{false: dnsbatch.Failed})
	rec.err = &smithy.GenericAPIError{Code: "InternalFailure"}
	_, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKey{Name: host}})
	require.Error(t, err, "retried through the workqueue's own back-off")
	c := &v1alpha1.DomainClaim{}
	require.NoError(t, r.Client.Get(context.Background(), client.ObjectKey{Name: host}, c))
	assert.Equal(t, v1alpha1.ReasonChangeFailed, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord).Reason)
}
