package integration

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/test/builders"
)

// TestARecreatedPoolGatewayTakesOverItsConfiguration deletes a pool's only Gateway. The pool
// creates it again under the same name at once, while the LoadBalancerConfiguration of the
// deleted one is still there (the garbage collector removes a dependent only some time after its
// owner, and the test API server runs none): the new Gateway takes the configuration over, and a
// hostname claimed afterwards is seated and Ready. Before, every pool reconcile failed on a
// configuration with two controller references, and no claim of the pool moved again.
func TestARecreatedPoolGatewayTakesOverItsConfiguration(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	ns := tenant(t)
	first := "first." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, servingRoute(ns, "first", "/", first)))
	seat := *ready(t, first, 60*time.Second).Status.Gateway
	key := client.ObjectKey{Namespace: seat.Namespace, Name: seat.Name}

	gw := &gwv1.Gateway{}
	require.NoError(t, k8s.Get(ctx, key, gw))
	oldUID := gw.UID
	require.NoError(t, k8s.Delete(ctx, gw))
	var newUID types.UID
	require.Eventually(t, func() bool {
		got := &gwv1.Gateway{}
		if k8s.Get(ctx, key, got) != nil || got.UID == oldUID {
			return false
		}
		newUID = got.UID
		return true
	}, 30*time.Second, 100*time.Millisecond, "the pool creates its Gateway again under the same name")

	second := "second." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, servingRoute(ns, "second", "/", second)))
	c := ready(t, second, 60*time.Second)
	assert.Equal(t, seat, *c.Status.Gateway, "seated on the Gateway created again")
	ready(t, first, 60*time.Second)

	cfg := lbc.NewUnstructured()
	require.NoError(t, k8s.Get(ctx, key, cfg))
	owner := metav1.GetControllerOf(cfg)
	require.NotNil(t, owner)
	assert.Equal(t, newUID, owner.UID, "the configuration is controlled by the Gateway that exists")
	for _, ref := range cfg.GetOwnerReferences() {
		assert.NotEqual(t, oldUID, ref.UID, "no reference to the deleted Gateway is left")
	}
}

// TestAClaimBeingDeletedIsNotReady deletes a Ready claim that a finalizer of someone else's keeps:
// its ALIAS records go first, and kubectl get dc stops saying Ready=True ("every step is done")
// for a hostname that no longer resolves to the load balancer.
func TestAClaimBeingDeletedIsNotReady(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	ns := tenant(t)
	h := "going." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, servingRoute(ns, "going", "/", h)))
	c := ready(t, h, 60*time.Second)
	const hold = "user2.test/hold"
	require.NoError(t, updateLatest(ctx, c, func() { c.Finalizers = append(c.Finalizers, hold) }))
	defer func() {
		_ = updateLatest(ctx, c, func() {
			c.Finalizers = slices.DeleteFunc(c.Finalizers, func(f string) bool { return f == hold })
		})
	}()
	require.NoError(t, k8s.Delete(ctx, c))

	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		got, err := getClaim(h)
		require.NoError(ct, err)
		r := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady)
		require.NotNil(ct, r)
		assert.Equal(ct, metav1.ConditionFalse, r.Status)
		assert.Equal(ct, v1alpha1.ReasonDeleting, r.Reason)
		assert.True(ct, got.AliasRecordsGone(), "its ALIAS records are gone")
	}, 30*time.Second, 100*time.Millisecond, "a claim being deleted says so in Ready")
}

// TestASectionNameOfAnotherHostnamesListenerIsDenied: a route may name, on the pool Gateway that
// serves its hostname, only that hostname's listeners; naming another team's listener would be
// admitted and then never accepted by the listener (it serves one hostname to its owner only).
func TestASectionNameOfAnotherHostnamesListenerIsDenied(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	teamA, teamB := tenant(t), tenant(t)
	shop, blog := "shop."+z.Spec.Domain, "blog."+z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, servingRoute(teamA, "shop", "/", shop)))
	require.NoError(t, k8s.Create(ctx, servingRoute(teamB, "blog", "/", blog)))
	gw := *ready(t, shop, 60*time.Second).Status.Gateway
	require.Equal(t, gw, *ready(t, blog, 60*time.Second).Status.Gateway, "one Gateway serves both")

	parent := func(section string) gwv1.ParentReference {
		return gwv1.ParentReference{Name: gwv1.ObjectName(gw.Name), Namespace: ptr.To(gwv1.Namespace(gw.Namespace)), SectionName: ptr.To(gwv1.SectionName(section))}
	}
	sneaky := servingRoute(teamB, "blog", "/checkout", blog)
	sneaky.Spec.ParentRefs = []gwv1.ParentReference{parent(shop)}
	err := k8s.Create(ctx, sneaky)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `listener "`+shop+`" of pool Gateway `+gw.Namespace+"/"+gw.Name+" does not serve this route's hostnames")
	assert.Contains(t, err.Error(), "spec.parentRefs[0].sectionName")
	assert.Contains(t, err.Error(), "name one of its listeners for them ("+blog+")", "only listeners the Gateway has (no HTTP listener here)")

	grpc := backendGRPCRoute(teamB, "blog", parent(shop), blog)
	err = k8s.Create(ctx, grpc)
	require.Error(t, err, "a GRPCRoute goes through the same check")
	assert.Contains(t, err.Error(), `listener "`+shop+`"`)

	sneaky.Spec.ParentRefs = []gwv1.ParentReference{parent(blog)}
	require.NoError(t, k8s.Create(ctx, sneaky), "its own hostname's listener is fine")
	err = updateLatest(ctx, sneaky, func() { sneaky.Spec.ParentRefs[0].SectionName = ptr.To(gwv1.SectionName(shop)) })
	require.Error(t, err, "an update that changes only the sectionName is checked too")
	assert.Contains(t, err.Error(), `listener "`+shop+`"`)
}

// TestAClaimSaysItsNamespaceWasDeleted deletes a namespace that owns a route's claim and an
// admin's claim, then creates it again: each claim's InUse says what became of the namespace (the
// route's claim is not inherited and is released after the retention; the admin's claim stays
// and goes to the namespace of that name), so `kubectl describe dc` answers why nothing uses it.
func TestAClaimSaysItsNamespaceWasDeleted(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	ns := tenant(t)
	made, reserved := "made."+z.Spec.Domain, "reserved."+z.Spec.Domain
	rt := route(ns, made)
	require.NoError(t, k8s.Create(ctx, rt))
	require.NoError(t, k8s.Create(ctx, builders.AdminClaim(reserved, ns)))
	for _, h := range []string{made, reserved} {
		require.Eventually(t, func() bool {
			c, err := getClaim(h)
			return err == nil && c.Status.OwnerNamespace != nil
		}, 10*time.Second, 50*time.Millisecond, "claim %s records its namespace", h)
	}
	inUse := func(h, want string) {
		t.Helper()
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			c, err := getClaim(h)
			require.NoError(ct, err)
			cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionInUse)
			require.NotNil(ct, cond)
			assert.Contains(ct, cond.Message, want)
		}, 15*time.Second, 100*time.Millisecond)
	}

	// The test API server runs no namespace controller: empty the namespace and finalize it as
	// that controller would.
	require.NoError(t, k8s.Delete(ctx, rt))
	obj := &corev1.Namespace{}
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Name: ns}, obj))
	require.NoError(t, k8s.Delete(ctx, obj))
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Name: ns}, obj))
	obj.Spec.Finalizers = nil
	require.NoError(t, k8s.SubResource("finalize").Update(ctx, obj))
	require.Eventually(t, func() bool {
		return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{}))
	}, 10*time.Second, 50*time.Millisecond, "the namespace is gone")
	inUse(made, "namespace "+ns+" was deleted; the claim is released at ")
	inUse(reserved, "namespace "+ns+" does not exist; an admin's claim is kept")

	require.NoError(t, k8s.Create(ctx, builders.Namespace(ns, builders.TenantLabels())))
	inUse(made, "namespace "+ns+" was deleted and created again; the new namespace does not inherit the claim")
	inUse(reserved, "no route uses the hostname; an admin's claim is kept until it is deleted")
}
