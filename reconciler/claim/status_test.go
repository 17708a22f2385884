package claim

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/claimstatus"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/test/crdschema"
)

func TestTheClaimReconcilerAppliesOnlyItsOwnSliceAndOnlyWhenItChanged(t *testing.T) {
	now := time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)
	h := "shop.example.com"
	c := &v1alpha1.DomainClaim{
		ObjectMeta: metav1.ObjectMeta{Name: h, UID: "uid-1", Generation: 1, CreationTimestamp: metav1.NewTime(now.Add(-time.Minute))},
		Spec:       v1alpha1.DomainClaimSpec{Hostname: h, Namespace: "team", ClaimedBy: v1alpha1.ClaimedByRoute},
		Status: v1alpha1.DomainClaimStatus{CertificateARN: "arn", Conditions: []metav1.Condition{
			{Type: v1alpha1.ConditionCertificateIssued, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonIssued, LastTransitionTime: metav1.NewTime(now)},
		}},
	}
	var managers []string
	k := statusClient(t, &managers, c, &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "shop"}, Spec: gwv1.HTTPRouteSpec{Hostnames: []gwv1.Hostname{gwv1.Hostname(h)}}})
	r := &Reconciler{Client: k, Clock: clocktesting.NewFakePassiveClock(now), Recorder: events.NewFakeRecorder(10), Settlements: NewSettlementCounter(nil)}

	for range 2 {
		_, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKey{Name: h}})
		require.NoError(t, err)
	}
	assert.Equal(t, []string{claimstatus.Claim.Manager}, managers, "one apply under the claim reconciler's manager; the second look changes nothing")
	got := &v1alpha1.DomainClaim{}
	require.NoError(t, k.Get(context.Background(), client.ObjectKey{Name: h}, got))
	assert.True(t, meta.IsStatusConditionTrue(got.Status.Conditions, v1alpha1.ConditionClaimed))
	inUse := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionInUse)
	require.NotNil(t, inUse)
	assert.Equal(t, v1alpha1.ReasonRouteFound, inUse.Reason)
	assert.Equal(t, "example", got.Status.ManagedZone)
	assert.Equal(t, "Z1", got.Status.HostedZoneID)
	require.NotNil(t, got.Status.OwnerNamespace)
	assert.Equal(t, "ns-uid", string(got.Status.OwnerNamespace.UID))
	assert.True(t, meta.IsStatusConditionTrue(got.Status.Conditions, v1alpha1.ConditionCertificateIssued), "the certificate reconciler's condition is kept")
	assert.Equal(t, "arn", got.Status.CertificateARN)
	assert.Zero(t, got.Status.ObservedGeneration, "observedGeneration is the readiness reconciler's")
}

// statusClient is a fake client holding objs, ManagedZone "example" (example.com, Z1) and
// Namespace "team" (UID ns-uid), whose status applies are checked against the CRD schema and
// whose field managers are appended to managers; status patches fail the test.
func statusClient(t *testing.T, managers *[]string, objs ...client.Object) client.Client {
	t.Helper()
	s := runtime.NewScheme()
	require.NoError(t, clientgoscheme.AddToScheme(s))
	require.NoError(t, v1alpha1.AddToScheme(s))
	require.NoError(t, gwv1.Install(s))
	tc, err := crdschema.TypeConverter()
	require.NoError(t, err)
	zone := &v1alpha1.ManagedZone{ObjectMeta: metav1.ObjectMeta{Name: "example"}, Spec: v1alpha1.ManagedZoneSpec{Domain: "example.com", HostedZoneID: "Z1"}}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team", UID: "ns-uid"}}
	b := fake.NewClientBuilder().WithScheme(s).WithTypeConverters(tc).WithObjects(append(objs, zone, ns)...).WithStatusSubresource(&v1alpha1.DomainClaim{}).
		WithIndex(&v1alpha1.ManagedZone{}, index.ZoneDomain, func(o client.Object) []string { return []string{o.(*v1alpha1.ManagedZone).Spec.Domain} }).
		WithInterceptorFuncs(interceptor.Funcs{
			SubResourceApply: func(ctx context.Context, cl client.Client, sub string, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
				o := &client.SubResourceApplyOptions{}
				o.ApplyOpts(opts)
				*managers = append(*managers, o.FieldManager)
				return cl.SubResource(sub).Apply(ctx, obj, opts...)
			},
			SubResourcePatch: func(context.Context, client.Client, string, client.Object, client.Patch, ...client.SubResourcePatchOption) error {
				t.Error("status is applied, never patched")
				return nil
			},
		})
	for _, l := range []client.Object{&gwv1.HTTPRoute{}, &gwv1.GRPCRoute{}, &networkingv1.Ingress{}, &gwv1.Gateway{}} {
		b = b.WithIndex(l, index.RouteHostname, index.RouteKeys)
	}
	return b.Build()
}

// TestTheClaimRecordsTheNamespaceAdmissionMadeItFor: a claim that admission stamped with its
// namespace's UID keeps that UID, although the namespace now under that name has another one
// (deleted and created again before the claim's first reconcile): the new namespace does not
// inherit it.
func TestTheClaimRecordsTheNamespaceAdmissionMadeItFor(t *testing.T) {
	now := time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)
	h := "shop.example.com"
	c := &v1alpha1.DomainClaim{
		ObjectMeta: metav1.ObjectMeta{Name: h, UID: "uid-1", Generation: 1, CreationTimestamp: metav1.NewTime(now.Add(-time.Minute)),
			Annotations: map[string]string{v1alpha1.AnnotationOwnerNamespace: "team/uid-before"}},
		Spec: v1alpha1.DomainClaimSpec{Hostname: h, Namespace: "team", ClaimedBy: v1alpha1.ClaimedByRoute},
	}
	var managers []string
	k := statusClient(t, &managers, c, &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "shop"}, Spec: gwv1.HTTPRouteSpec{Hostnames: []gwv1.Hostname{gwv1.Hostname(h)}}})
	r := &Reconciler{Client: k, Clock: clocktesting.NewFakePassiveClock(now), Recorder: events.NewFakeRecorder(10), Settlements: NewSettlementCounter(nil)}

	_, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKey{Name: h}})
	require.NoError(t, err)

	got := &v1alpha1.DomainClaim{}
	require.NoError(t, k.Get(context.Background(), client.ObjectKey{Name: h}, got))
	assert.Equal(t, &v1alpha1.NamespaceRecord{Name: "team", UID: "uid-before"}, got.Status.OwnerNamespace, "the UID admission saw, not the live one (ns-uid)")
	inUse := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionInUse)
	require.NotNil(t, inUse)
	assert.Equal(t, metav1.ConditionFalse, inUse.Status, "the new namespace's route does not keep the earlier namespace's claim: %s", inUse.Message)
	assert.Contains(t, inUse.Message, "was deleted and created again")
}
