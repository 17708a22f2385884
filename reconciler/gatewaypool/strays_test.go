package gatewaypool

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/internal/ownlb"
)

// TestStrayLoadBalancersAreOnlyThoseLBCServes: another namespace's objects that list the owner's
// hostname are named on the claim only where LBC would find the owner's certificate for them: an
// nginx Ingress or a Gateway of another controller's class is no stray of LBC's.
func TestStrayLoadBalancersAreOnlyThoseLBCServes(t *testing.T) {
	c := testClaim(1) // h0001.example.com of team-a, Claimed
	h := c.Spec.Hostname
	class := func(name, controller string) *gwv1.GatewayClass {
		return &gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: gwv1.GatewayClassSpec{ControllerName: gwv1.GatewayController(controller)}}
	}
	ingressClass := func(name, controller string) *networkingv1.IngressClass {
		return &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: networkingv1.IngressClassSpec{Controller: controller}}
	}
	gateway := func(ns, name, class string) *gwv1.Gateway {
		return &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: gwv1.GatewaySpec{
			GatewayClassName: gwv1.ObjectName(class),
			Listeners:        []gwv1.Listener{{Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType, Hostname: ptr.To(gwv1.Hostname(h))}},
		}}
	}
	ingress := func(ns, name, class string) *networkingv1.Ingress {
		return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: networkingv1.IngressSpec{IngressClassName: ptr.To(class), Rules: []networkingv1.IngressRule{{Host: h}}}}
	}
	listenerSet := func(ns, name, parent string) *gwv1.ListenerSet {
		return &gwv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: gwv1.ListenerSetSpec{
			ParentRef: gwv1.ParentGatewayReference{Name: gwv1.ObjectName(parent)},
			Listeners: []gwv1.ListenerEntry{{Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType, Hostname: ptr.To(gwv1.Hostname(h))}},
		}}
	}
	s := runtime.NewScheme()
	require.NoError(t, clientgoscheme.AddToScheme(s))
	require.NoError(t, v1alpha1.AddToScheme(s))
	require.NoError(t, gwv1.Install(s))
	b := fake.NewClientBuilder().WithScheme(s).WithObjects(c,
		class("alb", lbc.ControllerName), class("envoy", "gateway.envoyproxy.io/gatewayclass-controller"),
		ingressClass("alb-internal", lbc.IngressController), ingressClass("nginx", "k8s.io/ingress-nginx"),
		gateway("team-b", "alb", "alb"), gateway("team-b", "envoy", "envoy"), gateway("team-b", "unborn", "not-created-yet"),
		gateway("team-a", "own", "alb"),
		ingress("team-b", "alb", "alb-internal"), ingress("team-b", "nginx", "nginx"),
		listenerSet("team-b", "on-alb", "alb"), listenerSet("team-b", "on-envoy", "envoy"),
	)
	for _, o := range []client.Object{&gwv1.Gateway{}, &gwv1.ListenerSet{}, &networkingv1.Ingress{}} {
		b = b.WithIndex(o, index.RouteHostname, index.RouteKeys)
	}
	r := &Reconciler{Client: b.Build(), ListenerSets: true}

	got, err := r.strayLoadBalancers(context.Background(), c, map[string]bool{"gateway-system": true})

	require.NoError(t, err)
	assert.Equal(t, []string{
		"Gateway team-b/alb",
		"Gateway team-b/unborn", // its class may yet be created as LBC's
		"Ingress team-b/alb",
		"ListenerSet team-b/on-alb",
	}, got, "the envoy Gateway, the nginx Ingress and the ListenerSet on the envoy Gateway are other controllers'; team-a's own Gateway is the owner's")
}

// TestAnotherControllersIngressOfTheOwnerIsNotItsOwnLoadBalancer: the owner's nginx Ingress
// listing the hostname, with an address, is never claimed for at admission (its class is not
// LBC's) and gets nothing from LBC: it does not make the claim leave the pool for its address. An
// LBC Ingress of the owner still does, and so does a Gateway of any class (admission claims for
// every Gateway that is not a pool's).
func TestAnotherControllersIngressOfTheOwnerIsNotItsOwnLoadBalancer(t *testing.T) {
	c := testClaim(2) // h0002.example.com of team-a
	h := c.Spec.Hostname
	s := runtime.NewScheme()
	require.NoError(t, clientgoscheme.AddToScheme(s))
	require.NoError(t, v1alpha1.AddToScheme(s))
	require.NoError(t, gwv1.Install(s))
	envoy := &gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "envoy"}, Spec: gwv1.GatewayClassSpec{ControllerName: "gateway.envoyproxy.io/gatewayclass-controller"}}
	nginx := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx"}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}
	address := networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{{Hostname: "nginx-123.elb.us-east-1.amazonaws.com"}}}
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "envoy"}, Spec: gwv1.GatewaySpec{
		GatewayClassName: "envoy",
		Listeners:        []gwv1.Listener{{Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType, Hostname: ptr.To(gwv1.Hostname(h))}},
	}}
	ing := func(name, class string) *networkingv1.Ingress {
		return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: name},
			Spec:   networkingv1.IngressSpec{IngressClassName: ptr.To(class), Rules: []networkingv1.IngressRule{{Host: h}}},
			Status: networkingv1.IngressStatus{LoadBalancer: address}}
	}
	build := func(objs ...client.Object) *Reconciler {
		b := fake.NewClientBuilder().WithScheme(s).WithObjects(append([]client.Object{c, envoy, nginx}, objs...)...)
		for _, o := range []client.Object{&gwv1.Gateway{}, &gwv1.ListenerSet{}, &networkingv1.Ingress{}} {
			b = b.WithIndex(o, index.RouteHostname, index.RouteKeys)
		}
		return &Reconciler{Client: b.Build()}
	}
	claimNames := map[string]bool{c.Name: true}
	poolNS := map[string]bool{"gateway-system": true}

	got, err := build(ing("web", "nginx")).ownLoadBalancer(context.Background(), c, nil, nil, claimNames, poolNS)
	require.NoError(t, err)
	assert.Equal(t, ownlb.Pool, got.Decision.Kind, "the nginx Ingress is another controller's: %+v", got.Decision)

	got, err = build(ing("web", "nginx"), ing("alb", "alb")).ownLoadBalancer(context.Background(), c, nil, nil, claimNames, poolNS)
	require.NoError(t, err)
	assert.NotEqual(t, ownlb.Pool, got.Decision.Kind, "the owner's LBC Ingress is its own load balancer")
	assert.Equal(t, []string{"Ingress team-a/alb"}, got.Decision.Objects)

	got, err = build(ing("web", "nginx"), gw).ownLoadBalancer(context.Background(), c, nil, nil, claimNames, poolNS)
	require.NoError(t, err)
	assert.Equal(t, []string{"Gateway team-a/envoy"}, got.Decision.Objects, "a Gateway of any class is the owner's own (admission claimed for it)")
}
