package routes

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/test/builders"
)

// seatedClaim is the claim of shop.example.com for ns, seated on g1 (as the pool writes it).
func seatedClaim() *v1alpha1.DomainClaim {
	c := claim("shop.example.com", ns, &g1)
	c.Status.Conditions[0].Reason, c.Status.Conditions[0].LastTransitionTime = v1alpha1.ReasonClaimed, metav1.Now()
	c.Status.Conditions[1].Reason, c.Status.Conditions[1].LastTransitionTime = "Assigned", metav1.Now()
	return c
}

// applying is the HTTPRoute kind of a routes reconciler over the fake client, holding objs and
// with the interceptors funcs; it records Events in the returned recorder.
func applying(t *testing.T, funcs interceptor.Funcs, objs ...client.Object) (kind, client.Client, *events.FakeRecorder) {
	t.Helper()
	s := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(s))
	require.NoError(t, gwv1.Install(s))
	k := fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).
		WithStatusSubresource(&v1alpha1.DomainClaim{}, &gwv1.HTTPRoute{}).
		WithInterceptorFuncs(funcs).Build()
	rec := events.NewFakeRecorder(10)
	r := &Reconciler{Client: k, Recorder: rec}
	return r.kinds()[0], k, rec
}

func reconcileRoute(t *testing.T, k kind, rt *gwv1.HTTPRoute) (reconcile.Result, error) {
	t.Helper()
	return k.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKeyFromObject(rt)})
}

func TestARouteWithoutParentRefsIsAttachedToItsHostnamesSeatInOneWrite(t *testing.T) {
	rt := builders.Route(ns, "shop.example.com")
	patches := 0
	k, c, rec := applying(t, interceptor.Funcs{Patch: func(ctx context.Context, w client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
		patches++
		return w.Patch(ctx, obj, p, opts...)
	}}, rt, seatedClaim())

	res, err := reconcileRoute(t, k, rt)
	require.NoError(t, err)
	assert.Zero(t, res)
	got := &gwv1.HTTPRoute{}
	require.NoError(t, c.Get(context.Background(), client.ObjectKeyFromObject(rt), got))
	assert.Equal(t, refs(g1), got.Spec.ParentRefs)
	assert.Equal(t, attached(g1.Namespace+"/"+g1.Name), got.Annotations, "the mark and the record go with the parentRef")
	assert.Equal(t, 1, patches)
	assert.Empty(t, rec.Events)

	// Desired equals current: nothing is written again.
	_, err = reconcileRoute(t, k, got)
	require.NoError(t, err)
	assert.Equal(t, 1, patches)
}

func TestARouteWrittenMeanwhileIsPlannedAgainFromTheNewerVersion(t *testing.T) {
	rt := builders.Route(ns, "shop.example.com")
	k, c, _ := applying(t, interceptor.Funcs{Patch: func(ctx context.Context, w client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
		// The user changed the route after the cache's copy: the optimistic lock refuses.
		return apierrors.NewConflict(schema.GroupResource{Group: gwv1.GroupName, Resource: "httproutes"}, obj.GetName(), errors.New("the object has been modified"))
	}}, rt, seatedClaim())

	res, err := reconcileRoute(t, k, rt)
	require.NoError(t, err, "a conflict is no error: the route is looked at again")
	assert.Positive(t, res.RequeueAfter)
	got := &gwv1.HTTPRoute{}
	require.NoError(t, c.Get(context.Background(), client.ObjectKeyFromObject(rt), got))
	assert.Empty(t, got.Spec.ParentRefs, "nothing was written over the user's change")
}

func TestARouteAdmissionRefusesIsToldWhyAndNotRetried(t *testing.T) {
	rt := builders.Route(ns, "shop.example.com")
	k, _, rec := applying(t, interceptor.Funcs{Patch: func(ctx context.Context, w client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
		return apierrors.NewForbidden(schema.GroupResource{Group: gwv1.GroupName, Resource: "httproutes"}, obj.GetName(), errors.New("hostname \"old.example.com\" is claimed by namespace \"team-b\""))
	}}, rt, seatedClaim())

	res, err := reconcileRoute(t, k, rt)
	require.NoError(t, err)
	assert.Zero(t, res, "retrying cannot help until the route or a claim changes, and either wakes the route")
	require.Len(t, rec.Events, 1)
	ev := <-rec.Events
	assert.Contains(t, ev, "Warning "+v1alpha1.EventAttachDenied)
	assert.Contains(t, ev, "Gateway "+g1.Namespace+"/"+g1.Name)
	assert.Contains(t, ev, `claimed by namespace "team-b"`)

	// The same refusal again is not told twice.
	_, err = reconcileRoute(t, k, rt)
	require.NoError(t, err)
	assert.Empty(t, rec.Events)
}

func TestARouteListingAnotherNamespacesHostnameIsWarnedAndNotAttached(t *testing.T) {
	rt := builders.Route(ns, "shop.example.com")
	other := claim("shop.example.com", "team-b", &g1)
	k, c, rec := applying(t, interceptor.Funcs{}, rt, other)

	_, err := reconcileRoute(t, k, rt)
	require.NoError(t, err)
	require.Len(t, rec.Events, 1)
	ev := <-rec.Events
	assert.Contains(t, ev, "Warning "+v1alpha1.EventHostnameNotOwned)
	assert.Contains(t, ev, "belongs to namespace team-b")
	got := &gwv1.HTTPRoute{}
	require.NoError(t, c.Get(context.Background(), client.ObjectKeyFromObject(rt), got))
	assert.Empty(t, got.Spec.ParentRefs)
	assert.Empty(t, got.Annotations)
}
