package index

import (
	"testing"

	"github.com/stretchr/testify/assert"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

func TestLoadBalancerNameKeys(t *testing.T) {
	ingress := func(name string, hostnames ...string) *networkingv1.Ingress {
		ing := &networkingv1.Ingress{}
		if name != "" {
			ing.Annotations = map[string]string{lbc.LoadBalancerNameAnnotation: name}
		}
		for _, h := range hostnames {
			ing.Status.LoadBalancer.Ingress = append(ing.Status.LoadBalancer.Ingress, networkingv1.IngressLoadBalancerIngress{Hostname: h})
		}
		return ing
	}
	for _, tc := range []struct {
		name string
		obj  client.Object
		want []string
	}{
		{name: "a Gateway is on the ALBs of its status addresses, lower-cased",
			obj: &gwv1.Gateway{Status: gwv1.GatewayStatus{Addresses: []gwv1.GatewayStatusAddress{
				{Value: "K8S-Pool-A-1234abcd.us-east-1.elb.amazonaws.com"}, {Value: "10.0.0.1"}}}},
			want: []string{"k8s-pool-a"}},
		{name: "a Gateway without addresses is on none", obj: &gwv1.Gateway{}},
		{name: "an Ingress is on its status hostnames' ALB and the one its annotation names, once",
			obj:  ingress("Team-A-Web", "internal-team-a-web-99.us-east-1.elb.amazonaws.com", "other-1.us-east-1.elb.amazonaws.com"),
			want: []string{"team-a-web", "other"}},
		{name: "an Ingress without either is on none", obj: ingress("", "example.com")},
		{name: "a LoadBalancerConfiguration is on the ALB it names",
			obj:  &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"loadBalancerName": "Own-ALB"}}},
			want: []string{"own-alb"}},
		{name: "a LoadBalancerConfiguration naming none is on none",
			obj: &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "x"}}}},
		{name: "another kind is on none", obj: &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "alb"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, LoadBalancerNameKeys(tc.obj))
		})
	}
}
