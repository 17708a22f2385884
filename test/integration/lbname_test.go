package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/test/lbcstandin"
)

// namingConfig is a tenant's LoadBalancerConfiguration that names its ALB and carries no
// certificate (so only the load balancer name brings it to admission).
func namingConfig(ns, name string) *unstructured.Unstructured {
	cfg := &lbc.LoadBalancerConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: unique("lbc")},
		Spec: lbc.Spec{LoadBalancerName: name, Scheme: "internet-facing"}}
	u, err := cfg.ToUnstructured()
	if err != nil {
		panic(err)
	}
	return u
}

// namingIngress is a hostless Ingress of LBC's (class by annotation, no group) that names its ALB:
// only the load-balancer-name annotation brings it to admission.
func namingIngress(ns, name string) *networkingv1.Ingress {
	ing := catchAllIngress(ns)
	ing.Spec.IngressClassName = nil
	ing.Annotations = map[string]string{lbc.IngressClassAnnotation: "alb", lbc.LoadBalancerNameAnnotation: name}
	return ing
}

// TestATenantCannotNameAPoolALB (issue 7): ELB's CreateLoadBalancer returns the existing load
// balancer for a name it already has (same settings), so a tenant's LoadBalancerConfiguration or
// Ingress naming a pool Gateway's ALB would make LBC adopt the shared ALB and rewrite its
// listeners and rules. Admission denies both, naming the pool Gateway, whatever the case of the
// name; a name of the tenant's own passes.
func TestATenantCannotNameAPoolALB(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	owner, intruder := tenant(t), tenant(t)
	shop := "shop." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(owner, shop)))
	c := ready(t, shop, 60*time.Second)
	require.NotNil(t, c.Status.Gateway)
	poolGW := client.ObjectKey{Namespace: c.Status.Gateway.Namespace, Name: c.Status.Gateway.Name}

	// The stand-in programmed the pool Gateway: its ALB exists, and admission's cache holds the
	// Gateway with the ALB's DNS name as its address.
	alb := lbcstandin.LoadBalancerName(poolGW.Namespace, poolGW.Name)
	out, err := env.StandIn.ELB.DescribeLoadBalancers(ctx, &elasticloadbalancingv2.DescribeLoadBalancersInput{Names: []string{alb}})
	require.NoError(t, err)
	require.Len(t, out.LoadBalancers, 1)
	gw := &gwv1.Gateway{}
	require.Eventually(t, func() bool {
		if env.Manager.GetCache().Get(ctx, poolGW, gw) != nil {
			return false
		}
		for _, a := range gw.Status.Addresses {
			if name, ok := lbc.ALBNameFromDNS(a.Value); ok && name == alb {
				return true
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "the pool Gateway's address is its ALB's DNS name")

	message := func(path, value, what string) string {
		return fmt.Sprintf("%s: Forbidden: load balancer name %q is the shared ALB of pool Gateway %s/%s (GatewayPool %s); %s of namespace %s may not name it",
			path, value, poolGW.Namespace, poolGW.Name, gw.Labels[v1alpha1.LabelPool], what, intruder)
	}
	for _, name := range []string{alb, strings.ToUpper(alb)} {
		t.Run("a LoadBalancerConfiguration naming the pool ALB is denied: "+name, func(t *testing.T) {
			err := k8s.Create(ctx, namingConfig(intruder, name))
			require.Error(t, err)
			assert.True(t, apierrors.IsInvalid(err), "%v", err)
			assert.Contains(t, err.Error(), message("spec.loadBalancerName", name, "a LoadBalancerConfiguration"))
		})
		t.Run("an Ingress naming the pool ALB is denied: "+name, func(t *testing.T) {
			err := k8s.Create(ctx, namingIngress(intruder, name))
			require.Error(t, err)
			assert.True(t, apierrors.IsInvalid(err), "%v", err)
			assert.Contains(t, err.Error(), message(fmt.Sprintf("metadata.annotations[%s]", lbc.LoadBalancerNameAnnotation), name, "an Ingress"))
		})
	}
	t.Run("an update that names the pool ALB is denied", func(t *testing.T) {
		cfg := namingConfig(intruder, "k8s-intruder-own")
		require.NoError(t, k8s.Create(ctx, cfg))
		err := updateLatest(ctx, cfg, func() {
			require.NoError(t, unstructured.SetNestedField(cfg.Object, alb, "spec", "loadBalancerName"))
		})
		require.Error(t, err)
		assert.Contains(t, err.Error(), message("spec.loadBalancerName", alb, "a LoadBalancerConfiguration"))
	})
	t.Run("a name of the tenant's own is allowed", func(t *testing.T) {
		require.NoError(t, k8s.Create(ctx, namingConfig(intruder, "k8s-intruder-own2")))
		require.NoError(t, k8s.Create(ctx, namingIngress(intruder, "k8s-intruder-own3")))
	})
}

// TestTheStandInNamesTheALBAsTheConfigurationSays: like LBC, the stand-in gives a Gateway whose
// LoadBalancerConfiguration sets loadBalancerName an ALB of that name (which is how a tenant
// naming a pool ALB would adopt it), and deletes the ALB of that name when the Gateway goes.
func TestTheStandInNamesTheALBAsTheConfigurationSays(t *testing.T) {
	ctx := context.Background()
	ns := tenant(t)
	name := unique("own-alb")
	cfg := namingConfig(ns, name)
	require.NoError(t, k8s.Create(ctx, cfg))
	gw := ownGateway(ns)
	gw.Spec.Infrastructure = &gwv1.GatewayInfrastructure{ParametersRef: &gwv1.LocalParametersReference{
		Group: gwv1.Group(lbc.GroupVersionKind.Group), Kind: gwv1.Kind(lbc.GroupVersionKind.Kind), Name: cfg.GetName()}}
	require.NoError(t, k8s.Create(ctx, gw))
	named := func() string {
		for _, lb := range env.AWS.ELB.LoadBalancers() {
			if lb.Name == name {
				return lb.DNSName
			}
		}
		return ""
	}
	require.Eventually(t, func() bool {
		got := &gwv1.Gateway{}
		return named() != "" && k8s.Get(ctx, client.ObjectKeyFromObject(gw), got) == nil &&
			len(got.Status.Addresses) == 1 && got.Status.Addresses[0].Value == named()
	}, 30*time.Second, 50*time.Millisecond, "the Gateway is published on the ALB its configuration names")
	for _, lb := range env.AWS.ELB.LoadBalancers() {
		assert.NotEqual(t, lbcstandin.LoadBalancerName(ns, gw.Name), lb.Name, "no ALB of the default name")
	}
	require.NoError(t, k8s.Delete(ctx, gw))
	require.Eventually(t, func() bool { return named() == "" }, 30*time.Second, 50*time.Millisecond, "the named ALB goes with the Gateway")
}
