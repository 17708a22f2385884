package webhook

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

func inUseStatus(status metav1.ConditionStatus) func(*v1alpha1.DomainClaim) {
	return func(c *v1alpha1.DomainClaim) {
		c.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionInUse, Status: status, ObservedGeneration: c.Generation}}
	}
}

func TestAdmissionMarksAClaimOnlyWhenItIsIdle(t *testing.T) {
	releasing := func(c *v1alpha1.DomainClaim) {
		c.Status.ReleaseTime = &metav1.Time{Time: time.Now().Add(time.Minute)}
	}
	for _, tc := range []struct {
		name  string
		claim *v1alpha1.DomainClaim
		want  markNeed
	}{
		{name: "an admin's claim is never released, so never marked",
			claim: existing("shop.example.com", "a", func(c *v1alpha1.DomainClaim) { c.Spec.ClaimedBy = v1alpha1.ClaimedByAdmin }), want: markNever},
		{name: "a claim whose status says in use is marked only if no stored object uses it",
			claim: existing("shop.example.com", "a", inUseStatus(metav1.ConditionTrue)), want: markUnlessUsed},
		{name: "a claim counting down to its release is marked",
			claim: existing("shop.example.com", "a", inUseStatus(metav1.ConditionTrue), releasing), want: markAlways},
		{name: "a claim whose status says unused is marked",
			claim: existing("shop.example.com", "a", inUseStatus(metav1.ConditionFalse), releasing), want: markAlways},
		{name: "a claim without status yet is marked",
			claim: existing("shop.example.com", "a"), want: markAlways},
		{name: "a claim whose in-use status is about an earlier spec (a transfer) is marked",
			claim: existing("shop.example.com", "a", inUseStatus(metav1.ConditionTrue), func(c *v1alpha1.DomainClaim) { c.Generation = 2 }), want: markAlways},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, needsMark(tc.claim))
		})
	}
}

func TestUsedElsewhere(t *testing.T) {
	const h = "shop.example.com"
	route := func(ns, name string, mutate ...func(*gwv1.HTTPRoute)) *gwv1.HTTPRoute {
		r := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: gwv1.HTTPRouteSpec{Hostnames: []gwv1.Hostname{h}}}
		for _, m := range mutate {
			m(r)
		}
		return r
	}
	creating := &Entrance{Kind: schema.GroupKind{Group: gwv1.GroupName, Kind: "HTTPRoute"}, Namespace: "a", Name: "web"}
	for _, tc := range []struct {
		name     string
		objects  []client.Object
		creating *Entrance
		want     bool
	}{
		{name: "another stored route of the namespace uses the hostname", objects: []client.Object{route("a", "other")}, creating: creating, want: true},
		{name: "no object uses it", creating: creating},
		{name: "only another namespace's route lists it", objects: []client.Object{route("b", "other")}, creating: creating},
		{name: "only a route being deleted lists it", objects: []client.Object{route("a", "other", func(r *gwv1.HTTPRoute) {
			r.Finalizers = []string{"test/hold"}
			r.DeletionTimestamp = &metav1.Time{Time: time.Now()}
		})}, creating: creating},
		{name: "on create, the cache's copy of a deleted route of the same name does not count",
			objects: []client.Object{route("a", "web")}, creating: creating},
		{name: "on update, the route itself counts: it was stored with the hostname", objects: []client.Object{route("a", "web")}, want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scheme := runtime.NewScheme()
			require.NoError(t, v1alpha1.AddToScheme(scheme))
			require.NoError(t, gwv1.Install(scheme))
			require.NoError(t, networkingv1.AddToScheme(scheme))
			b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(tc.objects...)
			for _, o := range []client.Object{&gwv1.HTTPRoute{}, &gwv1.GRPCRoute{}, &networkingv1.Ingress{}, &gwv1.Gateway{}} {
				b = b.WithIndex(o, index.RouteHostname, index.RouteKeys)
			}
			got, err := usedElsewhere(context.Background(), b.Build(), existing(h, "a"), tc.creating)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestKeep(t *testing.T) {
	const ns, other, h = "team-a", "team-b", "shop.example.com"
	now := time.Date(2026, 11, 28, 5, 7, 1, 0, time.UTC)
	wildcard := "*.example.com"
	for _, tc := range []struct {
		name string
		// held is the claim as admission read it from its cache; live, when set, is what the API
		// server holds instead (the claim changed since, or is another one).
		held, live  *v1alpha1.DomainClaim
		hostname    string
		wantVerdict ownership.Verdict
		wantReason  string
		wantInMsg   string
		// Every claim that still exists carries the mark afterwards: it names the claim's UID,
		// not its version, so it lands on the claim admission read whatever changed since, and
		// the answer decides. (Keep runs only for a claim the cache shows as the namespace's, so a
		// transferred claim is marked at most once, in the moment of the transfer.)
	}{
		{name: "a claim unchanged since admission read it is marked with the time",
			held: existing(h, ns), wantVerdict: ownership.Allow},
		{name: "a claim changed since (its status written) is marked at its current version",
			held: existing(h, ns), live: existing(h, ns, inUseStatus(metav1.ConditionFalse)), wantVerdict: ownership.Allow},
		{name: "a claim gone since makes the hostname free to claim anew",
			held: existing(h, ns), wantVerdict: ownership.Claim, wantReason: ownership.ReasonFree},
		{name: "a claim being deleted since denies the hostname as being released",
			held: existing(h, ns), live: existing(h, ns, deleting), wantVerdict: ownership.Deny, wantReason: ownership.ReasonReleasing,
			wantInMsg: "is being released"},
		{name: "a claim transferred since denies naming the new owner",
			held: existing(h, ns), live: existing(h, other), wantVerdict: ownership.Deny, wantReason: ownership.ReasonTaken,
			wantInMsg: `claimed by namespace "team-b"`},
		{name: "an own wildcard transferred since denies as covered by another namespace's wildcard",
			held: existing(wildcard, ns), live: existing(wildcard, other), hostname: h, wantVerdict: ownership.Deny,
			wantReason: ownership.ReasonUnderWildcard, wantInMsg: `covered by wildcard "*.example.com", claimed by namespace "team-b"`},
		{name: "an own wildcard unchanged is marked for the name it serves",
			held: existing(wildcard, ns), hostname: h, wantVerdict: ownership.Allow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scheme := runtime.NewScheme()
			require.NoError(t, v1alpha1.AddToScheme(scheme))
			b := fake.NewClientBuilder().WithScheme(scheme)
			gone := tc.name == "a claim gone since makes the hostname free to claim anew"
			if !gone {
				b = b.WithObjects(tc.held)
			}
			k := b.Build()
			ctx := context.Background()
			held := tc.held.DeepCopy()
			if !gone {
				require.NoError(t, k.Get(ctx, client.ObjectKeyFromObject(tc.held), held))
			} else {
				held.ResourceVersion = "7"
			}
			if tc.live != nil {
				live := held.DeepCopy()
				live.Spec, live.Status, live.Finalizers = tc.live.Spec, tc.live.Status, tc.live.Finalizers
				require.NoError(t, k.Update(ctx, live))
				if tc.live.DeletionTimestamp != nil {
					require.NoError(t, k.Delete(ctx, live))
				}
			}
			hn := tc.hostname
			if hn == "" {
				hn = held.Spec.Hostname
			}
			c := &Claimer{Client: k, APIReader: k, Cache: k}

			d, err := c.Keep(ctx, ownership.Decision{Verdict: ownership.Allow, Reason: ownership.ReasonOwned, Hostname: hn, Held: held}, ns, now)

			require.NoError(t, err)
			assert.Equal(t, tc.wantVerdict, d.Verdict, d.Message)
			if tc.wantReason != "" {
				assert.Equal(t, tc.wantReason, d.Reason)
			}
			assert.Contains(t, d.Message, tc.wantInMsg)
			got := &v1alpha1.DomainClaim{}
			err = k.Get(ctx, client.ObjectKeyFromObject(held), got)
			if gone {
				require.True(t, apierrors.IsNotFound(err), "Keep creates nothing itself")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "2026-11-28T05:07:01Z", got.Annotations[v1alpha1.AnnotationLastAdmitted], "the claim admission read carries the mark")
		})
	}
}

// The mark names the UID it read; the API server refuses it as Invalid (a UID is immutable) when
// the claim was released and made again meanwhile: the hostname is decided anew. A refusal of
// the claim admission read is an error, not a verdict.
func TestKeepOfAClaimMadeAgainMeanwhile(t *testing.T) {
	for _, tc := range []struct {
		name        string
		replaced    bool
		wantVerdict ownership.Verdict
		wantErr     bool
	}{
		{name: "a claim of another UID now: the hostname is free to claim anew", replaced: true, wantVerdict: ownership.Claim},
		{name: "the same claim refusing the mark: an error", replaced: false, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scheme := runtime.NewScheme()
			require.NoError(t, v1alpha1.AddToScheme(scheme))
			k := fake.NewClientBuilder().WithScheme(scheme).WithObjects(existing("shop.example.com", "a")).
				WithInterceptorFuncs(interceptor.Funcs{Patch: func(context.Context, client.WithWatch, client.Object, client.Patch, ...client.PatchOption) error {
					return apierrors.NewInvalid(schema.GroupKind{Group: v1alpha1.GroupVersion.Group, Kind: "DomainClaim"}, "shop.example.com", nil)
				}}).Build()
			held := &v1alpha1.DomainClaim{}
			require.NoError(t, k.Get(context.Background(), client.ObjectKey{Name: "shop.example.com"}, held))
			if tc.replaced {
				held.UID = "an-earlier-claim"
			}
			c := &Claimer{Client: k, APIReader: k, Cache: k}

			d, err := c.Keep(context.Background(), ownership.Decision{Verdict: ownership.Allow, Hostname: "shop.example.com", Held: held}, "a", time.Now())

			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantVerdict, d.Verdict)
		})
	}
}
