package readiness

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/crdschema"
)

func cond(typ string, ok bool, reason string) metav1.Condition {
	s := metav1.ConditionFalse
	if ok {
		s = metav1.ConditionTrue
	}
	return metav1.Condition{Type: typ, Status: s, Reason: reason, Message: reason + " message", LastTransitionTime: metav1.Now()}
}

func allTrue(steps []string) []metav1.Condition {
	var out []metav1.Condition
	for _, s := range steps {
		out = append(out, cond(s, true, "Done"))
	}
	return out
}

func TestPlan(t *testing.T) {
	created := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	cases := []struct {
		name       string
		steps      []string
		conds      []metav1.Condition
		deleting   bool
		wantWrite  bool
		wantReady  bool
		wantReason string
		wantBecame bool
	}{
		{name: "no step reported yet: nothing to write", steps: Steps},
		{name: "every step done is Ready", steps: Steps, conds: allTrue(Steps), wantWrite: true, wantReady: true, wantReason: v1alpha1.ReasonReady, wantBecame: true},
		{name: "the first step not done names the wait", steps: Steps,
			conds:     append(allTrue(Steps[:5]), cond(v1alpha1.ConditionGatewayAssigned, false, v1alpha1.ReasonPoolExhausted)),
			wantWrite: true, wantReason: v1alpha1.ReasonPoolExhausted},
		{name: "a step that has not started is waited for", steps: Steps, conds: allTrue(Steps[:5]),
			wantWrite: true, wantReason: "Waiting" + v1alpha1.ConditionGatewayAssigned},
		{name: "reports are not steps", steps: Steps,
			conds:     append(allTrue(Steps), cond(v1alpha1.ConditionStrayRoutes, true, v1alpha1.ReasonForeignRoutes), cond(v1alpha1.ConditionInUse, false, v1alpha1.ReasonNoRoutes)),
			wantWrite: true, wantReady: true, wantReason: v1alpha1.ReasonReady, wantBecame: true},
		{name: "without AWS a claimed hostname is Ready", steps: StepsWithoutAWS, conds: []metav1.Condition{cond(v1alpha1.ConditionClaimed, true, v1alpha1.ReasonClaimed)},
			wantWrite: true, wantReady: true, wantReason: v1alpha1.ReasonReady, wantBecame: true},
		{name: "without AWS a conflicted claim is not", steps: StepsWithoutAWS, conds: []metav1.Condition{cond(v1alpha1.ConditionClaimed, false, v1alpha1.ReasonConflicted)},
			wantWrite: true, wantReason: v1alpha1.ReasonConflicted},
		{name: "Ready already True does not become Ready again", steps: StepsWithoutAWS,
			conds:     []metav1.Condition{cond(v1alpha1.ConditionClaimed, true, v1alpha1.ReasonClaimed), cond(v1alpha1.ConditionReady, true, v1alpha1.ReasonReady)},
			wantWrite: true, wantReady: true, wantReason: v1alpha1.ReasonReady},
		{name: "a claim being deleted that was never Ready is left alone", steps: Steps, conds: allTrue(Steps), deleting: true},
		{name: "a Ready claim being deleted is no longer Ready", steps: Steps, deleting: true,
			conds:     append(allTrue(Steps), cond(v1alpha1.ConditionReady, true, v1alpha1.ReasonReady)),
			wantWrite: true, wantReason: v1alpha1.ReasonDeleting},
		{name: "a claim being deleted says so once", steps: Steps, deleting: true,
			conds: append(allTrue(Steps), cond(v1alpha1.ConditionReady, false, v1alpha1.ReasonDeleting))},
		{name: "a claim that failed a step says it is being deleted", steps: Steps, deleting: true,
			conds:     []metav1.Condition{cond(v1alpha1.ConditionClaimed, false, v1alpha1.ReasonConflicted), cond(v1alpha1.ConditionReady, false, v1alpha1.ReasonConflicted)},
			wantWrite: true, wantReason: v1alpha1.ReasonDeleting},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: "a", Generation: 3, CreationTimestamp: created}}
			c.Status.Conditions = tc.conds
			if tc.deleting {
				c.DeletionTimestamp = &metav1.Time{Time: time.Now()}
			}
			st, became := Plan(c, tc.steps)
			if !tc.wantWrite {
				assert.Nil(t, st)
				return
			}
			require.NotNil(t, st)
			ready := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady)
			require.NotNil(t, ready)
			assert.Equal(t, tc.wantReady, ready.Status == metav1.ConditionTrue)
			assert.Equal(t, tc.wantReason, ready.Reason)
			assert.Equal(t, tc.wantBecame, became)
			assert.Equal(t, int64(3), st.ObservedGeneration)
			assert.Equal(t, int64(3), ready.ObservedGeneration)
		})
	}
}

func TestReconcileWritesReadyOnceAndTellsWhenItBecameReady(t *testing.T) {
	s := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(s))
	tc, err := crdschema.TypeConverter()
	require.NoError(t, err)
	now := time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)
	c := &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: "a.example.com", UID: "u", Generation: 1, CreationTimestamp: metav1.NewTime(now.Add(-40 * time.Second))}}
	c.Status.Conditions = []metav1.Condition{cond(v1alpha1.ConditionClaimed, true, v1alpha1.ReasonClaimed), cond(v1alpha1.ConditionInUse, true, v1alpha1.ReasonRouteFound)}
	applies := 0
	k := fake.NewClientBuilder().WithScheme(s).WithTypeConverters(tc).WithObjects(c).WithStatusSubresource(&v1alpha1.DomainClaim{}).
		WithInterceptorFuncs(interceptor.Funcs{SubResourceApply: func(ctx context.Context, cl client.Client, sub string, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
			applies++
			return cl.SubResource(sub).Apply(ctx, obj, opts...)
		}}).Build()
	rec := events.NewFakeRecorder(10)
	hist := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h"})
	r := &Reconciler{Client: k, Steps: StepsWithoutAWS, Clock: clocktesting.NewFakePassiveClock(now), Recorder: rec, ReadySeconds: hist}

	for range 2 {
		_, err = r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKey{Name: c.Name}})
		require.NoError(t, err)
	}
	assert.Equal(t, 1, applies, "written once; the second look finds nothing to change")
	got := &v1alpha1.DomainClaim{}
	require.NoError(t, k.Get(context.Background(), client.ObjectKey{Name: c.Name}, got))
	assert.True(t, meta.IsStatusConditionTrue(got.Status.Conditions, v1alpha1.ConditionReady))
	assert.True(t, meta.IsStatusConditionTrue(got.Status.Conditions, v1alpha1.ConditionInUse), "another owner's condition is kept")
	assert.Equal(t, int64(1), got.Status.ObservedGeneration)
	require.Len(t, rec.Events, 1)
	assert.Contains(t, <-rec.Events, "Normal Ready")
	assert.Equal(t, 1, testutil.CollectAndCount(hist))
	assert.InDelta(t, 40.0, sampleSum(t, hist), 0.001, "time from creation to Ready, by the injected clock")
}

func sampleSum(t *testing.T, h prometheus.Histogram) float64 {
	t.Helper()
	m := &dto.Metric{}
	require.NoError(t, h.Write(m))
	return m.GetHistogram().GetSampleSum()
}

// readinessFixture is a Reconciler over a fake client holding claim c, created at created, with
// Claimed and Bound True; applies counts its status applies and step sets another owner's step.
type readinessFixture struct {
	r       *Reconciler
	k       client.Client
	clock   *clocktesting.FakePassiveClock
	applies *int
	name    string
	now     time.Time
}

func newReadinessFixture(t *testing.T, created time.Time) *readinessFixture {
	t.Helper()
	s := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(s))
	tc, err := crdschema.TypeConverter()
	require.NoError(t, err)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: "a.example.com", UID: types.UID(t.Name()), Generation: 1, CreationTimestamp: metav1.NewTime(created)}}
	c.Status.Conditions = []metav1.Condition{cond(v1alpha1.ConditionClaimed, true, v1alpha1.ReasonClaimed), cond(v1alpha1.ConditionBound, true, "Bound")}
	applies := 0
	k := fake.NewClientBuilder().WithScheme(s).WithTypeConverters(tc).WithObjects(c).WithStatusSubresource(&v1alpha1.DomainClaim{}).
		WithInterceptorFuncs(interceptor.Funcs{SubResourceApply: func(ctx context.Context, cl client.Client, sub string, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
			applies++
			return cl.SubResource(sub).Apply(ctx, obj, opts...)
		}}).Build()
	clock := clocktesting.NewFakePassiveClock(now)
	r := &Reconciler{Client: k, Steps: Steps, Clock: clock, Recorder: events.NewFakeRecorder(10), ProgressEvery: 10 * time.Second, QuietPeriod: time.Minute}
	return &readinessFixture{r: r, k: k, clock: clock, applies: &applies, name: c.Name, now: now}
}

func (f *readinessFixture) step(t *testing.T, typ string, ok bool, reason string) {
	t.Helper()
	ctx := context.Background()
	got := &v1alpha1.DomainClaim{}
	require.NoError(t, f.k.Get(ctx, client.ObjectKey{Name: f.name}, got))
	meta.SetStatusCondition(&got.Status.Conditions, cond(typ, ok, reason))
	require.NoError(t, f.k.Status().Update(ctx, got))
}

func (f *readinessFixture) ready(t *testing.T, at time.Duration) (reconcile.Result, *metav1.Condition) {
	t.Helper()
	ctx := context.Background()
	f.clock.SetTime(f.now.Add(at))
	res, err := f.r.Reconcile(ctx, reconcile.Request{NamespacedName: client.ObjectKey{Name: f.name}})
	require.NoError(t, err)
	got := &v1alpha1.DomainClaim{}
	require.NoError(t, f.k.Get(ctx, client.ObjectKey{Name: f.name}, got))
	return res, meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady)
}

func TestANewClaimOnItsWaySaysNothingInItsQuietPeriodButFailuresAndReadyAtOnce(t *testing.T) {
	f := newReadinessFixture(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	res, rc := f.ready(t, 0)
	assert.Nil(t, rc, "a claim on its way has no Ready in its first minute")
	assert.Equal(t, 0, *f.applies)
	assert.Equal(t, time.Minute, res.RequeueAfter, "looked at again when the quiet period ends")

	f.step(t, v1alpha1.ConditionCertificateRequested, false, v1alpha1.ReasonQuotaExceeded)
	_, rc = f.ready(t, 5*time.Second)
	require.NotNil(t, rc, "a failure is written at once")
	assert.Equal(t, v1alpha1.ReasonQuotaExceeded, rc.Reason)
	assert.Equal(t, 1, *f.applies)

	for _, typ := range Steps {
		f.step(t, typ, true, "Done")
	}
	_, rc = f.ready(t, 20*time.Second)
	assert.Equal(t, metav1.ConditionTrue, rc.Status, "Ready is written at once")
	assert.Equal(t, 2, *f.applies)
}

func TestAClaimStillOnItsWayPastItsQuietPeriodSaysWhatItWaitsFor(t *testing.T) {
	f := newReadinessFixture(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	_, rc := f.ready(t, 30*time.Second)
	assert.Nil(t, rc)
	res, rc := f.ready(t, time.Minute)
	require.NotNil(t, rc, "the first Ready is written once the quiet period is over")
	assert.Equal(t, "Waiting"+v1alpha1.ConditionCertificateRequested, rc.Reason)
	assert.Zero(t, res.RequeueAfter)
	assert.Equal(t, 1, *f.applies)
}

func TestProgressIsWrittenOnceItHasStoodButFailuresAndReadyAtOnce(t *testing.T) {
	// Past its quiet period: the first Ready is written at once.
	f := newReadinessFixture(t, time.Date(2025, 12, 31, 23, 59, 0, 0, time.UTC))
	step := func(typ string, ok bool, reason string) { f.step(t, typ, ok, reason) }
	ready := func(at time.Duration) (reconcile.Result, *metav1.Condition) { return f.ready(t, at) }
	applies := f.applies

	_, rc := ready(0)
	require.NotNil(t, rc, "the first Ready is written at once")
	assert.Equal(t, "Waiting"+v1alpha1.ConditionCertificateRequested, rc.Reason)
	assert.Equal(t, 1, *applies)

	step(v1alpha1.ConditionCertificateRequested, true, "Requested")
	res, rc := ready(3 * time.Second)
	assert.Equal(t, 1, *applies, "progress is not written as it happens")
	assert.Equal(t, 10*time.Second, res.RequeueAfter, "but looked at again once it could have stood long enough")
	assert.Equal(t, "Waiting"+v1alpha1.ConditionCertificateRequested, rc.Reason)

	step(v1alpha1.ConditionValidationRecord, true, "Created")
	_, _ = ready(8 * time.Second)
	assert.Equal(t, 1, *applies, "a step passed on the way is never written")
	res, _ = ready(15 * time.Second)
	assert.Equal(t, 1, *applies)
	assert.Equal(t, 3*time.Second, res.RequeueAfter)
	_, rc = ready(18 * time.Second)
	assert.Equal(t, 2, *applies, "the step waited for 10 s is")
	assert.Equal(t, "Waiting"+v1alpha1.ConditionCertificateIssued, rc.Reason)

	step(v1alpha1.ConditionCertificateIssued, false, "FAILED")
	_, rc = ready(19 * time.Second)
	assert.Equal(t, 3, *applies, "a failure is written at once")
	assert.Equal(t, "FAILED", rc.Reason)

	for _, typ := range Steps {
		step(typ, true, "Done")
	}
	_, rc = ready(20 * time.Second)
	assert.Equal(t, 4, *applies, "Ready is written at once")
	assert.Equal(t, metav1.ConditionTrue, rc.Status)
}

func TestADeletingClaimIsToldOnlyWhatItUndoes(t *testing.T) {
	ready := []metav1.Condition{cond(v1alpha1.ConditionReady, true, v1alpha1.ReasonReady)}
	seated := &v1alpha1.ObjectRef{Namespace: "gateway-system", Name: "public-1"}
	cases := []struct {
		name    string
		steps   []string
		gateway *v1alpha1.ObjectRef
		has     []string
		hasNot  []string
	}{
		{name: "on a pool seat", steps: Steps, gateway: seated, has: []string{"ALIAS records", "seat on the Gateway", "CertificateAttached"}},
		{name: "on its own load balancer", steps: Steps, has: []string{"ALIAS records", "certificate"}, hasNot: []string{"seat", "CertificateAttached"}},
		{name: "with AWS off", steps: StepsWithoutAWS, gateway: seated, has: []string{"AWS off", "seat on a pool Gateway, where it has one"}, hasNot: []string{"are removed in that order"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: "a", Generation: 1, DeletionTimestamp: &metav1.Time{Time: time.Now()}}}
			c.Status.Conditions, c.Status.Gateway = ready, tc.gateway
			st, _ := Plan(c, tc.steps)
			require.NotNil(t, st)
			msg := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady).Message
			for _, s := range tc.has {
				assert.Contains(t, msg, s)
			}
			for _, s := range tc.hasNot {
				assert.NotContains(t, msg, s)
			}
		})
	}
}
