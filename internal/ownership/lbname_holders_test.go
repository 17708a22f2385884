package ownership

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
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// TestALBHoldersCountsWhatLBCActsOn: an Ingress of another controller's class that only names
// the ALB holds nothing (admission never checks its annotation), one that is on the ALB does;
// LoadBalancerConfigurations naming the ALB hold it, the pool's own marked as the pool's.
func TestALBHoldersCountsWhatLBCActsOn(t *testing.T) {
	scheme := runtime.NewScheme()
	require.NoError(t, clientgoscheme.AddToScheme(scheme))
	require.NoError(t, gwv1.Install(scheme))
	require.NoError(t, v1alpha1.AddToScheme(scheme))
	const alb = "team-a-alb"
	ingress := func(ns, name, class string, on bool) *networkingv1.Ingress {
		ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Annotations: map[string]string{lbc.LoadBalancerNameAnnotation: alb}}}
		if class != "" {
			ing.Spec.IngressClassName = ptr.To(class)
		}
		if on {
			ing.Annotations = nil
			ing.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{Hostname: alb + "-1.us-east-1.elb.amazonaws.com"}}
		}
		return ing
	}
	config := func(ns, name string, labels map[string]string) *lbc.LoadBalancerConfiguration {
		return &lbc.LoadBalancerConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
			Spec: lbc.Spec{LoadBalancerName: "Team-A-ALB"}}
	}
	k := fake.NewClientBuilder().WithScheme(scheme).
		WithObjects(
			&v1alpha1.GatewayPool{ObjectMeta: metav1.ObjectMeta{Name: "public"}, Spec: v1alpha1.GatewayPoolSpec{Namespace: "gateway-system"}},
			&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx"}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}},
			ingress("team-a", "alb", "", false),
			ingress("team-c", "nginx-named", "nginx", false),
			ingress("team-c", "nginx-on", "nginx", true),
			ingress("team-c", "unknown-class", "not-yet", false)).
		WithIndex(&gwv1.Gateway{}, index.LoadBalancerName, index.LoadBalancerNameKeys).
		WithIndex(&networkingv1.Ingress{}, index.LoadBalancerName, index.LoadBalancerNameKeys).
		WithIndex(lbc.NewUnstructured(), index.LoadBalancerName, index.LoadBalancerNameKeys).Build()
	ctx := context.Background()
	for _, c := range []*lbc.LoadBalancerConfiguration{config("team-b", "cfg", nil), config("gateway-system", "pool", map[string]string{v1alpha1.LabelPool: "public"})} {
		u, err := c.ToUnstructured()
		require.NoError(t, err)
		require.NoError(t, k.Create(ctx, u))
	}

	holders, err := ALBHolders(ctx, k, "TEAM-A-alb")
	require.NoError(t, err)
	var got []string
	for _, h := range holders {
		s := h.Kind + " " + h.Object.GetNamespace() + "/" + h.Object.GetName()
		if h.On {
			s += " on"
		}
		if h.Pool != "" {
			s += " pool " + h.Pool
		}
		got = append(got, s)
	}
	assert.ElementsMatch(t, []string{
		"Ingress team-a/alb",
		"Ingress team-c/nginx-on on",
		"Ingress team-c/unknown-class",
		"LoadBalancerConfiguration team-b/cfg",
		"LoadBalancerConfiguration gateway-system/pool pool public",
	}, got)
}
