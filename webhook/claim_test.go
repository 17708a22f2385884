package webhook

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

func existing(h, ns string, mutate ...func(*v1alpha1.DomainClaim)) *v1alpha1.DomainClaim {
	c := NewClaim(h, ns, "test")
	delete(c.Annotations, v1alpha1.AnnotationAdmissionPending)
	for _, m := range mutate {
		m(c)
	}
	return c
}

func pending(c *v1alpha1.DomainClaim) { c.Annotations[v1alpha1.AnnotationAdmissionPending] = "true" }

func deleting(c *v1alpha1.DomainClaim) {
	c.Finalizers = []string{"test/hold"}
	c.DeletionTimestamp = &metav1.Time{Time: time.Now()}
}

func TestClaimer(t *testing.T) {
	const ns, other = "team-a", "team-b"
	refusal := apierrors.NewInvalid(schema.GroupKind{Group: v1alpha1.GroupVersion.Group, Kind: "DomainClaim"}, "x",
		field.ErrorList{field.Forbidden(field.NewPath("spec", "hostname"), "overlaps something")})
	tests := []struct {
		name        string
		hostname    string
		objects     []client.Object
		createErr   error
		wantVerdict ownership.Verdict
		wantReason  string
		wantInMsg   string
		wantErr     bool
		// wantStays: the request's own claim is left in the API server (and not pending).
		wantStays bool
	}{
		{name: "a free name is claimed", hostname: "shop.example.com", wantVerdict: ownership.Allow, wantStays: true},
		{name: "a name under a settled foreign wildcard is withdrawn and denied naming the owner", hostname: "x.w.example.com",
			objects:     []client.Object{existing("*.w.example.com", other)},
			wantVerdict: ownership.Deny, wantReason: ownership.ReasonUnderWildcard, wantInMsg: `claimed by namespace "team-b"`},
		{name: "a name under a foreign wildcard being deleted is claimed", hostname: "x.w.example.com",
			objects:     []client.Object{existing("*.w.example.com", other, deleting)},
			wantVerdict: ownership.Allow, wantStays: true},
		{name: "a name under its own namespace's wildcard is claimed", hostname: "a.b.w.example.com",
			objects:     []client.Object{existing("*.w.example.com", ns)},
			wantVerdict: ownership.Allow, wantStays: true},
		{name: "a name under a foreign wildcard that stays pending is denied once the wait runs out", hostname: "x.w.example.com",
			objects:     []client.Object{existing("*.w.example.com", other, pending)},
			wantVerdict: ownership.Deny, wantReason: ReasonConcurrent, wantInMsg: "at the same moment"},
		{name: "a wildcard over a foreign name is withdrawn and denied naming the owner", hostname: "*.w.example.com",
			objects:     []client.Object{existing("deep.x.w.example.com", other)},
			wantVerdict: ownership.Deny, wantReason: ownership.ReasonWildcardOverlap, wantInMsg: `"deep.x.w.example.com", claimed by namespace "team-b"`},
		{name: "a wildcard over a foreign name that is still pending itself is denied too", hostname: "*.w.example.com",
			objects:     []client.Object{existing("*.x.w.example.com", other, pending)},
			wantVerdict: ownership.Deny, wantReason: ownership.ReasonWildcardOverlap},
		{name: "a wildcard over its own namespace's names is claimed", hostname: "*.w.example.com",
			objects:     []client.Object{existing("x.w.example.com", ns), existing("w.example.com", other)},
			wantVerdict: ownership.Allow, wantStays: true},
		{name: "a name whose claim exists for another namespace is denied naming it", hostname: "shop.example.com",
			objects:     []client.Object{existing("shop.example.com", other)},
			wantVerdict: ownership.Deny, wantReason: ownership.ReasonTaken, wantInMsg: `claimed by namespace "team-b"`},
		{name: "a name whose claim is being deleted is denied as being released", hostname: "shop.example.com",
			objects:     []client.Object{existing("shop.example.com", other, deleting)},
			wantVerdict: ownership.Deny, wantReason: ownership.ReasonReleasing, wantInMsg: "being released"},
		{name: "a create refused by another admission check is a denial with its message", hostname: "shop.example.com",
			createErr:   refusal,
			wantVerdict: ownership.Deny, wantReason: ReasonClaimRefused, wantInMsg: "overlaps something"},
		{name: "an unreachable API server is an internal error that says so", hostname: "shop.example.com",
			createErr: errors.New("connection refused"), wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			scheme := runtime.NewScheme()
			require.NoError(t, v1alpha1.AddToScheme(scheme))
			b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(tc.objects...).
				WithIndex(&v1alpha1.DomainClaim{}, index.ClaimAncestor, index.ClaimAncestorKeys)
			if tc.createErr != nil {
				b = b.WithInterceptorFuncs(interceptor.Funcs{Create: func(context.Context, client.WithWatch, client.Object, ...client.CreateOption) error {
					return tc.createErr
				}})
			}
			k := b.Build()
			c := &Claimer{Client: k, APIReader: k, Cache: k, PendingPoll: time.Millisecond, PendingWait: 30 * time.Millisecond}

			d, own, err := c.Claim(context.Background(), ownership.Decision{Verdict: ownership.Claim, Hostname: tc.hostname}, ns, "HTTPRoute team-a/r")

			if tc.wantErr {
				require.ErrorIs(t, err, ErrAPIServer)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantVerdict, d.Verdict, d.Message)
			if tc.wantReason != "" {
				assert.Equal(t, tc.wantReason, d.Reason)
			}
			assert.Contains(t, d.Message, tc.wantInMsg)
			got := &v1alpha1.DomainClaim{}
			err = k.Get(context.Background(), client.ObjectKey{Name: hostname.ClaimName(tc.hostname)}, got)
			if tc.wantStays {
				require.NoError(t, err)
				require.NotNil(t, own)
				assert.Equal(t, ns, got.Spec.Namespace)
				assert.Equal(t, hostname.IsWildcard(tc.hostname), got.Annotations[v1alpha1.AnnotationAdmissionPending] != "",
					"a wildcard's claim stays pending until the caller confirms it (ClaimAll does)")
				assert.Equal(t, map[string]string{LabelOwner: ns}, got.Labels, "the owner label is the claim's only label")
				return
			}
			assert.Nil(t, own)
			if err == nil {
				assert.NotEqual(t, ns, got.Spec.Namespace, "a denied request leaves no claim of its own")
			}
		})
	}
}

func TestClaimAllWaitsForPendingWildcardsWithinOneBudget(t *testing.T) {
	scheme := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(scheme))
	k := fake.NewClientBuilder().WithScheme(scheme).WithObjects(existing("*.w.example.com", "team-b", pending)).Build()
	const wait = 200 * time.Millisecond
	c := &Claimer{Client: k, APIReader: k, PendingPoll: 5 * time.Millisecond, PendingWait: wait}
	ds := []ownership.Decision{
		{Verdict: ownership.Claim, Hostname: "a.w.example.com"},
		{Verdict: ownership.Claim, Hostname: "b.w.example.com"},
		{Verdict: ownership.Claim, Hostname: "c.w.example.com"},
	}

	start := time.Now()
	got, err := c.ClaimAll(context.Background(), ds, "team-a", "HTTPRoute team-a/r")

	require.NoError(t, err)
	assert.Less(t, time.Since(start), 2*wait, "three hostnames share one wait budget (the webhook's timeout is per request)")
	for _, d := range got {
		assert.Equal(t, ownership.Deny, d.Verdict)
		assert.Equal(t, ReasonConcurrent, d.Reason)
	}
	var l v1alpha1.DomainClaimList
	require.NoError(t, k.List(context.Background(), &l))
	assert.Len(t, l.Items, 1, "a denied request keeps none of its claims")
}

func TestClaimAllConfirmsTheWildcardsItKeepsAfterAnswering(t *testing.T) {
	scheme := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(scheme))
	k := fake.NewClientBuilder().WithScheme(scheme).WithIndex(&v1alpha1.DomainClaim{}, index.ClaimAncestor, index.ClaimAncestorKeys).Build()
	c := &Claimer{Client: k, APIReader: k, Cache: k}

	got, err := c.ClaimAll(context.Background(), []ownership.Decision{
		{Verdict: ownership.Claim, Hostname: "*.w.example.com"},
		{Verdict: ownership.Claim, Hostname: "x.example.com"},
	}, "team-a", "HTTPRoute team-a/r")

	require.NoError(t, err)
	require.Len(t, got, 2)
	for _, d := range got {
		assert.Equal(t, ownership.Allow, d.Verdict)
	}
	assert.Eventually(t, func() bool {
		w := &v1alpha1.DomainClaim{}
		return k.Get(context.Background(), client.ObjectKey{Name: "wc--wildcard.w.example.com"}, w) == nil &&
			w.Annotations[v1alpha1.AnnotationAdmissionPending] == ""
	}, 5*time.Second, 5*time.Millisecond, "the wildcard kept is published as settled")
}

// laggingCache is an informer cache that has not yet received the last events: until it has been
// asked lag times for an object, it holds no claims at all (a cache is a prefix of the API
// server's history, so one that lacks the new claim may lack those created before it too).
type laggingCache struct {
	client.Reader
	lag, gets int
}

func (l *laggingCache) behind() bool { return l.gets <= l.lag }

func (l *laggingCache) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	l.gets++
	if l.behind() {
		return apierrors.NewNotFound(schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "domainclaims"}, key.Name)
	}
	return l.Reader.Get(ctx, key, obj, opts...)
}

func (l *laggingCache) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if l.behind() {
		return nil
	}
	return l.Reader.List(ctx, list, opts...)
}

func TestWildcardReadsTheClaimsBelowOnceTheCacheHoldsItsOwnClaim(t *testing.T) {
	const ns, other = "team-a", "team-b"
	tests := []struct {
		name        string
		lag         int
		below       []client.Object
		wantVerdict ownership.Verdict
		wantReason  string
		wantInMsg   string
	}{
		{name: "a foreign claim the lagging cache did not hold at first still denies the wildcard", lag: 5,
			below:       []client.Object{existing("x.w.example.com", other)},
			wantVerdict: ownership.Deny, wantReason: ownership.ReasonWildcardOverlap, wantInMsg: `"x.w.example.com", claimed by namespace "team-b"`},
		{name: "with nothing foreign below, the wildcard is claimed once the cache catches up", lag: 5,
			below:       []client.Object{existing("x.w.example.com", ns)},
			wantVerdict: ownership.Allow},
		{name: "a cache that does not catch up within the wait denies as a concurrent claim", lag: 1 << 30,
			wantVerdict: ownership.Deny, wantReason: ReasonConcurrent, wantInMsg: "could not be checked against the claims below it in time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			scheme := runtime.NewScheme()
			require.NoError(t, v1alpha1.AddToScheme(scheme))
			k := fake.NewClientBuilder().WithScheme(scheme).WithObjects(tc.below...).
				WithIndex(&v1alpha1.DomainClaim{}, index.ClaimAncestor, index.ClaimAncestorKeys).Build()
			cache := &laggingCache{Reader: k, lag: tc.lag}
			c := &Claimer{Client: k, APIReader: k, Cache: cache, PendingWait: 100 * time.Millisecond}

			d, own, err := c.Claim(context.Background(), ownership.Decision{Verdict: ownership.Claim, Hostname: "*.w.example.com"}, ns, "HTTPRoute team-a/r")

			require.NoError(t, err)
			assert.Equal(t, tc.wantVerdict, d.Verdict, d.Message)
			if tc.wantReason != "" {
				assert.Equal(t, tc.wantReason, d.Reason)
			}
			assert.Contains(t, d.Message, tc.wantInMsg)
			if tc.lag < 1<<30 {
				assert.Greater(t, cache.gets, tc.lag, "the claims below are read only after the cache holds the new claim")
			}
			err = k.Get(context.Background(), client.ObjectKey{Name: "wc--wildcard.w.example.com"}, &v1alpha1.DomainClaim{})
			if tc.wantVerdict == ownership.Allow {
				require.NoError(t, err)
				require.NotNil(t, own)
				return
			}
			assert.True(t, apierrors.IsNotFound(err), "a denied wildcard withdraws its claim")
			assert.Nil(t, own)
		})
	}
}

func TestClaimStampsTheNamespaceItIsMadeFor(t *testing.T) {
	scheme := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(scheme))
	require.NoError(t, corev1.AddToScheme(scheme))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a", UID: "uid-team-a"}}
	again := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-c", UID: "uid-team-c-again"}}
	k := fake.NewClientBuilder().WithScheme(scheme).WithObjects(ns, again).WithIndex(&v1alpha1.DomainClaim{}, index.ClaimAncestor, index.ClaimAncestorKeys).Build()
	// The informer cache, which has not yet seen team-c deleted and created again.
	terminating := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-c", UID: "uid-team-c-before",
		DeletionTimestamp: &metav1.Time{Time: time.Unix(1e9, 0)}, Finalizers: []string{"example.com/cleanup"}}}
	cache := fake.NewClientBuilder().WithScheme(scheme).WithObjects(ns, terminating).
		WithIndex(&v1alpha1.ManagedZone{}, index.ZoneDomain, func(o client.Object) []string { return []string{o.(*v1alpha1.ManagedZone).Spec.Domain} }).Build()
	for _, tc := range []struct {
		name      string
		ns        string
		wantStamp string
	}{
		{name: "a namespace the cache holds as being deleted is read from the API server, which has the one created again",
			ns: "team-c", wantStamp: "team-c/uid-team-c-again"},
		{name: "a claim for a namespace the view knows carries its name and UID", ns: "team-a", wantStamp: "team-a/uid-team-a"},
		{name: "a claim for a namespace the view does not know carries no stamp", ns: "team-b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Claimer{Client: k, APIReader: k, Cache: k, View: ownership.CacheView{Reader: cache}}
			h := tc.ns + ".example.com"
			d, own, err := c.Claim(context.Background(), ownership.Decision{Verdict: ownership.Claim, Hostname: h}, tc.ns, "HTTPRoute "+tc.ns+"/r")
			require.NoError(t, err)
			require.Equal(t, ownership.Allow, d.Verdict, d.Message)
			require.NotNil(t, own)
			got := &v1alpha1.DomainClaim{}
			require.NoError(t, k.Get(context.Background(), client.ObjectKey{Name: own.Name}, got))
			stamp, ok := got.Annotations[v1alpha1.AnnotationOwnerNamespace]
			assert.Equal(t, tc.wantStamp != "", ok)
			assert.Equal(t, tc.wantStamp, stamp)
		})
	}
}
