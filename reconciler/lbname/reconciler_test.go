package lbname

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// created is when every test object was created, but team-b's "foreign" Ingress, an hour later.
var created = metav1.NewTime(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))

func gateway(ns, name, dns string, labels map[string]string) *gwv1.Gateway {
	return &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, UID: types.UID(ns + "-" + name), CreationTimestamp: created},
		Status: gwv1.GatewayStatus{Addresses: []gwv1.GatewayStatusAddress{{Value: dns}}}}
}

func namingIngress(ns, name, alb string) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(ns + "-" + name), CreationTimestamp: created,
		Annotations: map[string]string{lbc.LoadBalancerNameAnnotation: alb}}}
	if name == "foreign" {
		ing.CreationTimestamp = metav1.NewTime(created.Add(time.Hour))
	}
	return ing
}

func TestReconcileReportsIngressesNamingAnALBNotTheirNamespaces(t *testing.T) {
	scheme := runtime.NewScheme()
	require.NoError(t, clientgoscheme.AddToScheme(scheme))
	require.NoError(t, gwv1.Install(scheme))
	require.NoError(t, v1alpha1.AddToScheme(scheme))
	pool := &v1alpha1.GatewayPool{ObjectMeta: metav1.ObjectMeta{Name: "public"}, Spec: v1alpha1.GatewayPoolSpec{Namespace: "gateway-system"}}
	k := fake.NewClientBuilder().WithScheme(scheme).
		WithObjects(pool,
			gateway("gateway-system", "public-1", "k8s-gatewa-public1-0123456789-1.us-east-1.elb.amazonaws.com", map[string]string{v1alpha1.LabelPool: "public"}),
			gateway("team-a", "own", "team-a-alb-1.us-east-1.elb.amazonaws.com", nil),
			namingIngress("team-b", "pool", "k8s-gatewa-public1-0123456789"),
			namingIngress("team-b", "foreign", "Team-A-ALB"),
			namingIngress("team-b", "future", "k8s-gatewa-public3-abcdef0123"),
			namingIngress("team-b", "own", "team-b-alb"),
			namingIngress("team-a", "pinned", "team-a-alb")).
		WithIndex(&gwv1.Gateway{}, index.LoadBalancerName, index.LoadBalancerNameKeys).
		WithIndex(&networkingv1.Ingress{}, index.LoadBalancerName, index.LoadBalancerNameKeys).
		WithIndex(lbc.NewUnstructured(), index.LoadBalancerName, index.LoadBalancerNameKeys).Build()
	rec := events.NewFakeRecorder(20)
	r := &Reconciler{Reader: k, Recorder: rec}
	ctx := context.Background()
	reconcileAll := func(names ...string) {
		for _, key := range names {
			_, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: key[:6], Name: key[7:]}})
			require.NoError(t, err, key)
		}
	}
	reconcileAll("team-b/pool", "team-b/foreign", "team-b/future", "team-b/own", "team-a/pinned", "team-b/gone")
	var got []string
	for len(rec.Events) > 0 {
		got = append(got, <-rec.Events)
	}
	assert.Equal(t, []string{
		`Warning PoolLoadBalancerName metadata.annotations[alb.ingress.kubernetes.io/load-balancer-name] names ALB "k8s-gatewa-public1-0123456789", which is the ALB of pool Gateway gateway-system/public-1 (GatewayPool public): the AWS Load Balancer Controller takes that ALB over for this Ingress; choose a name of your own`,
		`Warning PoolLoadBalancerName Ingress team-b/pool of namespace team-b names this object's ALB "k8s-gatewa-public1-0123456789" (metadata.annotations[alb.ingress.kubernetes.io/load-balancer-name]): the AWS Load Balancer Controller takes it over for that Ingress`,
		`Warning ForeignLoadBalancerName metadata.annotations[alb.ingress.kubernetes.io/load-balancer-name] names ALB "Team-A-ALB", which is the ALB of Gateway team-a/own: the AWS Load Balancer Controller takes that ALB over for this Ingress; choose a name of your own`,
		`Warning ForeignLoadBalancerName Ingress team-b/foreign of namespace team-b names this object's ALB "Team-A-ALB" (metadata.annotations[alb.ingress.kubernetes.io/load-balancer-name]): the AWS Load Balancer Controller takes it over for that Ingress`,
		`Warning GeneratedLoadBalancerName metadata.annotations[alb.ingress.kubernetes.io/load-balancer-name] names ALB "k8s-gatewa-public3-abcdef0123", of the shape the AWS Load Balancer Controller generates for Gateways and IngressGroups, and no Gateway or Ingress of namespace team-b is on it: it may be another namespace's ALB, now or once created, which the controller would take over; choose a name of your own`,
	}, got, "team-b's own name and team-a's name of its own Gateway's ALB are not reported")

	reconcileAll("team-b/pool", "team-b/foreign", "team-b/future")
	assert.Empty(t, rec.Events, "reconciling again repeats nothing")

	t.Run("a Gateway whose ALB changes maps to the Ingresses naming it", func(t *testing.T) {
		old, moved := gateway("team-a", "own", "", nil), gateway("team-a", "own", "team-a-alb-1.us-east-1.elb.amazonaws.com", nil)
		assert.True(t, albsChanged.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: moved}))
		assert.False(t, albsChanged.Update(event.UpdateEvent{ObjectOld: moved, ObjectNew: moved.DeepCopy()}), "a status write that keeps the addresses")
		var keys []string
		for _, req := range r.namers(&networkingv1.IngressList{})(ctx, moved) {
			keys = append(keys, req.String())
		}
		assert.ElementsMatch(t, []string{"team-b/foreign", "team-a/pinned"}, keys)
	})
}
