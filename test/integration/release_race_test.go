package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/reconciler/claim"
	"github.com/opendi/gateway-orchestrator/test/testenv"
)

// The red team's interleaving, placed exactly: the claim reconciler decides a release from its
// cache (the claim, and no route using it), a route of the owning namespace is admitted for the
// name in that moment, and the release is sent. Before the fix the route was admitted without a
// write to the claim, so the release's resourceVersion precondition held, the claim went while
// the route listed the name, and another namespace's route claimed it.
func TestARouteCreatedAtTheMomentItsClaimIsReleasedKeepsTheHostname(t *testing.T) {
	ctx := context.Background()
	// The webhooks alone: the test runs the claim reconciler itself, so that it decides exactly
	// when the test says and from the cache the test gives it.
	restartManager(ctx, t, testenv.Options{AWSRates: testRates, NoReconcilers: true})
	const retention = 30 * time.Second
	z := newZone(t, func(z *v1alpha1.ManagedZone) { z.Spec.ClaimRetention = &metav1.Duration{Duration: retention} })
	owner, other := tenant(t), tenant(t)
	h := "rel13." + z.Spec.Domain
	cache := env.Manager.GetClient() // reads from the manager's cache, writes to the API server
	reconcileAt := func(c client.Client, now time.Time) error {
		r := &claim.Reconciler{Client: c, Clock: clocktesting.NewFakePassiveClock(now), Recorder: events.NewFakeRecorder(16),
			Settlements: claim.NewSettlementCounter(nil)}
		_, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: client.ObjectKey{Name: h}})
		return err
	}
	cachedClaim := func(ready func(*v1alpha1.DomainClaim) bool, what string) *v1alpha1.DomainClaim {
		t.Helper()
		c := &v1alpha1.DomainClaim{}
		require.Eventually(t, func() bool {
			return cache.Get(ctx, client.ObjectKey{Name: h}, c) == nil && ready(c)
		}, 10*time.Second, 20*time.Millisecond, "the cache never showed the claim %s", what)
		return c
	}
	routeCached := func(r *gwv1.HTTPRoute, want bool) {
		t.Helper()
		require.Eventually(t, func() bool {
			got := &gwv1.HTTPRoute{}
			err := cache.Get(ctx, client.ObjectKeyFromObject(r), got)
			return want && err == nil && got.UID == r.UID || !want && apierrors.IsNotFound(err)
		}, 10*time.Second, 20*time.Millisecond)
	}

	// relns/rel13 is created and used, then deleted: its claim counts down to its release.
	first := route(owner, h)
	require.NoError(t, k8s.Create(ctx, first))
	routeCached(first, true)
	require.NoError(t, reconcileAt(cache, time.Now()))
	cachedClaim(func(c *v1alpha1.DomainClaim) bool {
		return meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionInUse)
	}, "in use")
	require.NoError(t, k8s.Delete(ctx, first))
	routeCached(first, false)
	// The reconciler saw the route gone a retention ago: the claim's release is due now.
	require.NoError(t, reconcileAt(cache, time.Now().Add(-retention)))
	atRelease := cachedClaim(func(c *v1alpha1.DomainClaim) bool { return c.Status.ReleaseTime != nil }, "counting down to its release")
	releaseAt := atRelease.Status.ReleaseTime.Time

	t.Run("a dry-run create writes nothing to the claim", func(t *testing.T) {
		require.NoError(t, k8s.Create(ctx, route(owner, h), client.DryRunAll))
		live, err := getClaim(h)
		require.NoError(t, err)
		assert.Equal(t, atRelease.ResourceVersion, live.ResourceVersion)
		assert.NotContains(t, live.Annotations, v1alpha1.AnnotationLastAdmitted)
	})

	// The reconciler at the release moment: it has read the claim (atRelease) and found no route;
	// the route re-created now does not reach its cache before the release is sent.
	again := route(owner, h)
	again.Name = first.Name
	require.NoError(t, k8s.Create(ctx, again), "the namespace's own hostname is admitted while its claim counts down")
	stale := lagging{Client: cache, claim: atRelease, ns: owner}
	err := reconcileAt(stale, releaseAt)
	require.Error(t, err, "the release planned before the route's admission must not go through")
	assert.True(t, apierrors.IsConflict(err), "its resourceVersion precondition fails: %v", err)

	live, err := getClaim(h)
	require.NoError(t, err, "the claim stays")
	assert.Nil(t, live.DeletionTimestamp, "the claim is not being deleted")
	assert.Equal(t, owner, live.Spec.Namespace)
	require.Contains(t, live.Annotations, v1alpha1.AnnotationLastAdmitted, "admission marked the idle claim")

	err = k8s.Create(ctx, route(other, h))
	require.Error(t, err, "another namespace may not take the hostname while %s/%s lists it", owner, again.Name)
	assert.True(t, apierrors.IsInvalid(err), "a denial, not an internal error: %v", err)
	assert.Contains(t, err.Error(), `is claimed by namespace "`+owner+`"`)

	t.Run("a reconciler whose cache has the mark but not the route waits the retention from the mark", func(t *testing.T) {
		marked := cachedClaim(func(c *v1alpha1.DomainClaim) bool { return c.Annotations[v1alpha1.AnnotationLastAdmitted] != "" }, "marked")
		at, err := time.Parse(time.RFC3339, marked.Annotations[v1alpha1.AnnotationLastAdmitted])
		require.NoError(t, err)
		withoutRoute := lagging{Client: cache, ns: owner}
		require.NoError(t, reconcileAt(withoutRoute, releaseAt))
		live, err := getClaim(h)
		require.NoError(t, err)
		assert.Nil(t, live.DeletionTimestamp, "not released at the time it was due before the mark")
		require.NotNil(t, live.Status.ReleaseTime)
		assert.Equal(t, at.Add(retention), live.Status.ReleaseTime.UTC(), "the release moves to the mark's time plus the retention")
	})

	t.Run("once the route is cached the claim is in use again", func(t *testing.T) {
		routeCached(again, true)
		require.NoError(t, reconcileAt(cache, time.Now()))
		c := cachedClaim(func(c *v1alpha1.DomainClaim) bool {
			return meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionInUse) && c.Status.ReleaseTime == nil
		}, "in use again")
		assert.Contains(t, meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionInUse).Message, owner+"/"+again.Name)
	})
}

// lagging is a cache that has not seen namespace ns's new route yet: lists of the kinds that use
// hostnames in ns are empty, and the claim, when set, is read as it was.
type lagging struct {
	client.Client
	claim *v1alpha1.DomainClaim
	ns    string
}

func (l lagging) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if dc, ok := obj.(*v1alpha1.DomainClaim); ok && l.claim != nil && key.Name == l.claim.Name {
		l.claim.DeepCopyInto(dc)
		return nil
	}
	return l.Client.Get(ctx, key, obj, opts...)
}

func (l lagging) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	switch list.(type) {
	case *gwv1.HTTPRouteList, *gwv1.GRPCRouteList, *networkingv1.IngressList, *gwv1.GatewayList:
		o := &client.ListOptions{}
		o.ApplyOptions(opts)
		if o.Namespace == l.ns {
			return nil
		}
	}
	return l.Client.List(ctx, list, opts...)
}

// Admitting a route for a hostname whose claim another stored route of the namespace uses, the
// common case, writes nothing to the claim: no mark, on create or update.
func TestAnOwnedHostnameInUseIsAdmittedWithoutAWrite(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	owner := tenant(t)
	h := "inuse." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(owner, h)))
	require.Eventually(t, func() bool {
		c := &v1alpha1.DomainClaim{}
		if env.Manager.GetCache().Get(ctx, client.ObjectKey{Name: h}, c) != nil {
			return false
		}
		cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionInUse)
		return cond != nil && cond.Status == metav1.ConditionTrue && cond.ObservedGeneration == c.Generation && c.Status.ReleaseTime == nil
	}, 15*time.Second, 20*time.Millisecond, "the webhook's cache shows the claim in use")

	second := route(owner, h)
	require.NoError(t, k8s.Create(ctx, second))
	require.NoError(t, updateLatest(ctx, second, func() { second.Labels = map[string]string{"changed": "yes"} }))

	c, err := getClaim(h)
	require.NoError(t, err)
	assert.NotContains(t, c.Annotations, v1alpha1.AnnotationLastAdmitted, "a claim in use by another route of the namespace is not written")
}
