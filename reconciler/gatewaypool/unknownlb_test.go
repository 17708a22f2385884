package gatewaypool

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// TestAGatewayWhoseALBELBv2DoesNotKnowHoldsOnlyItsOwnSeats: one programmed pool Gateway reports an
// ALB that ELBv2 does not know (deleted in the console, and LBC has not noticed yet). The pool's
// snapshot is still gathered, so the other Gateways' seats go on; the seats on that Gateway say
// why their load balancer is not ready and keep the load balancer their ALIAS points at.
func TestAGatewayWhoseALBELBv2DoesNotKnowHoldsOnlyItsOwnSeats(t *testing.T) {
	ctx := context.Background()
	pool := testPool(2, 10)
	programmed := func(name, address string) *gwv1.Gateway {
		gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: pool.Spec.Namespace, Name: name, Labels: map[string]string{LabelPool: pool.Name}}}
		gw.Status.Addresses = []gwv1.GatewayStatusAddress{{Type: ptr.To(gwv1.HostnameAddressType), Value: address}}
		meta.SetStatusCondition(&gw.Status.Conditions, metav1.Condition{Type: string(gwv1.GatewayConditionProgrammed), Status: metav1.ConditionTrue, Reason: "Programmed"})
		return gw
	}
	s := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(s))
	require.NoError(t, gwv1.Install(s))
	s.AddKnownTypeWithName(lbc.GroupVersionKind, &unstructured.Unstructured{})
	s.AddKnownTypeWithName(lbc.GroupVersionKind.GroupVersion().WithKind(lbc.GroupVersionKind.Kind+"List"), &unstructured.UnstructuredList{})
	k := fake.NewClientBuilder().WithScheme(s).
		WithObjects(pool, programmed("public-1", "alb-1.elb.amazonaws.com"), programmed("public-2", "deleted.elb.amazonaws.com")).
		WithIndex(&v1alpha1.ManagedZone{}, index.ZonePool, func(o client.Object) []string {
			if ref := o.(*v1alpha1.ManagedZone).Spec.GatewayPoolRef; ref != nil {
				return []string{ref.Name}
			}
			return nil
		}).
		WithIndex(&v1alpha1.DomainClaim{}, index.ClaimZone, func(o client.Object) []string { return []string{o.(*v1alpha1.DomainClaim).Status.ManagedZone} }).
		Build()
	elb := &elbAnswers{} // knows alb-1.elb.amazonaws.com only
	r := &Reconciler{Client: k, ELB: elb}

	snap, err := r.gather(ctx, pool)
	require.NoError(t, err, "one Gateway's unknown ALB does not stop the pool")
	require.Len(t, snap.Gateways, 2)
	assert.Equal(t, "alb-1.elb.amazonaws.com", gatewayState(snap, "public-1").LoadBalancerHost)
	unknown := gatewayState(snap, "public-2")
	assert.Empty(t, unknown.LoadBalancerHost)
	assert.Equal(t, "deleted.elb.amazonaws.com", unknown.UnknownLoadBalancer)
	calls := elb.calls
	_, err = r.gather(ctx, pool)
	require.NoError(t, err)
	assert.Equal(t, calls, elb.calls, "the unknown name is not looked up again on every reconcile")

	onKnown := testClaim(1, seatedOn("public-1"))
	onUnknown := testClaim(2, seatedOn("public-2"), withLoadBalancer)
	snap.Claims = []ClaimState{{Claim: onKnown, Need: oneRoute(onKnown.Name, 1)}, {Claim: onUnknown, Need: oneRoute(onUnknown.Name, 1)}}
	p := Plan(snap)
	known := claimChange(p, onKnown.Name)
	require.NotNil(t, known)
	assert.Equal(t, "alb-1.elb.amazonaws.com", known.Status.LoadBalancerHostname, "the other Gateway's seat goes on")
	held := claimChange(p, onUnknown.Name)
	require.NotNil(t, held)
	assert.Equal(t, "alb.example", held.Status.LoadBalancerHostname, "the ALIAS keeps pointing where it did")
	ready := meta.FindStatusCondition(held.Status.Conditions, v1alpha1.ConditionLoadBalancerReady)
	require.NotNil(t, ready)
	assert.Equal(t, v1alpha1.ReasonUnknownLoadBalancer, ready.Reason)
	assert.Contains(t, ready.Message, "deleted.elb.amazonaws.com, which ELBv2 does not know")
}
