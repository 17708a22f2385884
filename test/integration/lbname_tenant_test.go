package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/test/lbcstandin"
)

// lbNameAnnotationPath is the field path of an Ingress's load-balancer-name annotation in denials.
var lbNameAnnotationPath = fmt.Sprintf("metadata.annotations[%s]", lbc.LoadBalancerNameAnnotation)

// programmedALB waits until admission's cache holds gw with its ALB's DNS name as its address
// (the stand-in programs it as LBC would) and returns the ALB's name.
func programmedALB(t *testing.T, gw *gwv1.Gateway) string {
	t.Helper()
	ctx := context.Background()
	alb := lbcstandin.LoadBalancerName(gw.Namespace, gw.Name)
	require.Eventually(t, func() bool {
		got := &gwv1.Gateway{}
		if env.Manager.GetCache().Get(ctx, client.ObjectKeyFromObject(gw), got) != nil {
			return false
		}
		return addressesALB(got.Status.Addresses, alb)
	}, 30*time.Second, 50*time.Millisecond, "the Gateway is published on its ALB")
	return alb
}

// addressesALB reports whether one of addresses is the DNS name of ALB alb.
func addressesALB(addresses []gwv1.GatewayStatusAddress, alb string) bool {
	for _, a := range addresses {
		if n, ok := lbc.ALBNameFromDNS(a.Value); ok && n == alb {
			return true
		}
	}
	return false
}

// ingressALBName is the name LBC v3 generates for the ALB of an Ingress of no IngressGroup
// (pkg/ingress/model_build_load_balancer.go): k8s-<8 of the namespace>-<8 of the name>-<10 hex
// digits of SHA-256(cluster name, "namespace/name", scheme)>. Anyone who knows the cluster's
// name can compute it, before the Ingress exists.
func ingressALBName(cluster, ns, name, scheme string) string {
	h := sha256.Sum256([]byte(cluster + ns + "/" + name + scheme))
	return fmt.Sprintf("k8s-%.8s-%.8s-%.10s", alnumOnly(ns), alnumOnly(name), hex.EncodeToString(h[:]))
}

// alnumOnly is s without the characters LBC drops from the parts of a generated name.
func alnumOnly(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			out = append(out, r)
		}
	}
	return string(out)
}

// deniedFor requires err to be an Invalid denial containing message.
func deniedFor(t *testing.T, err error, message string) {
	t.Helper()
	require.Error(t, err)
	assert.True(t, apierrors.IsInvalid(err), "%v", err)
	assert.Contains(t, err.Error(), message)
}

// TestATenantCannotNameAnotherTenantsALB (issue 7, tenant against tenant): ELB's
// CreateLoadBalancer returns the existing load balancer for a name it has, so team-b naming the
// ALB of team-a's own Gateway or Ingress in a LoadBalancerConfiguration or an Ingress's
// load-balancer-name annotation would make LBC take it over. Admission denies it, naming whose
// ALB it is; it denies as well a name of LBC's generated shape nobody is on yet (a future pool
// Gateway's or another namespace's future Ingress's), while a tenant's own distinct name, and the
// generated name of its own Gateway's ALB (pinning it), pass.
func TestATenantCannotNameAnotherTenantsALB(t *testing.T) {
	ctx := context.Background()
	teamA, teamB := tenant(t), tenant(t)
	gwA := createOwnGateway(t, teamA)
	albA := programmedALB(t, gwA)

	foreign := func(path, value, kind, name, what string) string {
		return fmt.Sprintf("%s: Forbidden: load balancer name %q is the ALB of %s %s/%s of namespace %s (it is on that ALB, or named it first); %s of namespace %s may not name it",
			path, value, kind, teamA, name, teamA, what, teamB)
	}
	t.Run("team-a's own Gateway ALB", func(t *testing.T) {
		deniedFor(t, k8s.Create(ctx, namingConfig(teamB, albA)), foreign("spec.loadBalancerName", albA, "Gateway", gwA.Name, "a LoadBalancerConfiguration"))
		deniedFor(t, k8s.Create(ctx, namingIngress(teamB, albA)), foreign(lbNameAnnotationPath, albA, "Gateway", gwA.Name, "an Ingress"))
	})

	t.Run("team-a's own Ingress ALB, of LBC's generated name", func(t *testing.T) {
		ingA := catchAllIngress(teamA)
		createSeen(t, ingA)
		albIng := ingressALBName("test-cluster", teamA, ingA.Name, "internet-facing")
		publishIngress(t, ingA, createALB(t, albIng))
		require.Eventually(t, func() bool {
			got := &networkingv1.Ingress{}
			return env.Manager.GetCache().Get(ctx, client.ObjectKeyFromObject(ingA), got) == nil && len(got.Status.LoadBalancer.Ingress) == 1
		}, 10*time.Second, 20*time.Millisecond, "admission's cache has the Ingress's address")
		deniedFor(t, k8s.Create(ctx, namingIngress(teamB, albIng)), foreign(lbNameAnnotationPath, albIng, "Ingress", ingA.Name, "an Ingress"))
		deniedFor(t, k8s.Create(ctx, namingConfig(teamB, albIng)), foreign("spec.loadBalancerName", albIng, "Ingress", ingA.Name, "a LoadBalancerConfiguration"))
	})

	t.Run("team-a's Ingress that named its ALB first", func(t *testing.T) {
		named := namingIngress(teamA, unique("own-alb"))
		createSeen(t, named)
		value := named.Annotations[lbc.LoadBalancerNameAnnotation]
		deniedFor(t, k8s.Create(ctx, namingConfig(teamB, value)), foreign("spec.loadBalancerName", value, "Ingress", named.Name, "a LoadBalancerConfiguration"))
	})

	generated := func(path, value string) string {
		return fmt.Sprintf("%s: Forbidden: load balancer name %q has the shape of the names the AWS Load Balancer Controller generates for the ALBs of Gateways and IngressGroups (k8s-<namespace>-<name>-<hash> or k8s-<group>-<hash>), and no Gateway or Ingress of namespace %s is on or names that ALB",
			path, value, teamB)
	}
	t.Run("a future pool Gateway's or Ingress's ALB", func(t *testing.T) {
		futurePool := lbcstandin.LoadBalancerName("gateway-system", "public-3")
		deniedFor(t, k8s.Create(ctx, namingConfig(teamB, futurePool)), generated("spec.loadBalancerName", futurePool))
		futureIngress := ingressALBName("test-cluster", teamA, "checkout", "internet-facing")
		deniedFor(t, k8s.Create(ctx, namingIngress(teamB, futureIngress)), generated(lbNameAnnotationPath, futureIngress))
	})

	t.Run("a name of the tenant's own, and its own Gateway's generated ALB, are allowed", func(t *testing.T) {
		require.NoError(t, k8s.Create(ctx, namingConfig(teamB, "team-b-shop")))
		require.NoError(t, k8s.Create(ctx, namingIngress(teamB, "team-b-web")))
		albB := programmedALB(t, createOwnGateway(t, teamB))
		require.NoError(t, k8s.Create(ctx, namingConfig(teamB, albB)), "pinning the namespace's own ALB")
	})
}

// TestTheReCheckReportsANameAdmittedAroundAdmission: an Ingress and a LoadBalancerConfiguration
// that name team-a's ALB in a namespace the webhooks do not see (standing for anything admitted
// before the check, or around it) get a ForeignLoadBalancerName Warning Event, and so does
// team-a's Gateway; nothing is edited or deleted.
func TestTheReCheckReportsANameAdmittedAroundAdmission(t *testing.T) {
	ctx := context.Background()
	teamA, bypass := tenant(t), bypassNamespace(t)
	gwA := createOwnGateway(t, teamA)
	albA := programmedALB(t, gwA)

	ing := namingIngress(bypass, albA)
	require.NoError(t, k8s.Create(ctx, ing))
	cfg := namingConfig(bypass, albA)
	require.NoError(t, k8s.Create(ctx, cfg))
	// The bypass namespace is shared by the package's tests: leave nothing there.
	t.Cleanup(func() {
		_ = k8s.Delete(context.Background(), ing)
		_ = k8s.Delete(context.Background(), cfg)
	})

	reason := v1alpha1.ReasonForeignLoadBalancerName
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, fmt.Sprintf(`%s names ALB %q, which is the ALB of Gateway %s/%s: the AWS Load Balancer Controller takes that ALB over for this Ingress; choose a name of your own`,
			lbNameAnnotationPath, albA, teamA, gwA.Name), event(c, bypass, "Ingress", ing.Name, "Warning", reason))
		assert.Equal(c, fmt.Sprintf(`spec.loadBalancerName names ALB %q, which is the ALB of Gateway %s/%s: the AWS Load Balancer Controller takes that ALB over for this LoadBalancerConfiguration; choose a name of your own`,
			albA, teamA, gwA.Name), event(c, bypass, "LoadBalancerConfiguration", cfg.GetName(), "Warning", reason))
		assert.NotEmpty(c, routeEvent(c, gwA, reason), "the Gateway whose ALB it is is told too")
	}, 30*time.Second, 200*time.Millisecond)
	assert.Contains(t, routeEvent(t, gwA, reason), "of namespace "+bypass+" names this object's ALB")

	got := &networkingv1.Ingress{}
	require.NoError(t, k8s.Get(ctx, client.ObjectKeyFromObject(ing), got))
	assert.Equal(t, albA, got.Annotations[lbc.LoadBalancerNameAnnotation], "the Ingress is left as it is")
}

// TestTheReCheckReportsAPreNamedALBWhenItsGatewayComes: a configuration that named, around
// admission, the ALB name LBC will generate for a Gateway not created yet (a pool Gateway the
// pool will add, another namespace's Ingress) is reported at once as GeneratedLoadBalancerName,
// and as ForeignLoadBalancerName, on the Gateway too, once that Gateway is published on the ALB:
// naming it first does not make it the configuration's.
func TestTheReCheckReportsAPreNamedALBWhenItsGatewayComes(t *testing.T) {
	ctx := context.Background()
	teamA, bypass := tenant(t), bypassNamespace(t)
	gwA := ownGateway(teamA)
	future := lbcstandin.LoadBalancerName(teamA, gwA.Name)
	cfg := namingConfig(bypass, future)
	require.NoError(t, k8s.Create(ctx, cfg))
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), cfg) })

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Contains(c, event(c, bypass, "LoadBalancerConfiguration", cfg.GetName(), "Warning", v1alpha1.ReasonGeneratedLoadBalancerName),
			fmt.Sprintf("spec.loadBalancerName names ALB %q, of the shape the AWS Load Balancer Controller generates", future))
	}, 30*time.Second, 200*time.Millisecond)
	assert.Empty(t, event(t, bypass, "LoadBalancerConfiguration", cfg.GetName(), "Warning", v1alpha1.ReasonForeignLoadBalancerName))

	require.NoError(t, k8s.Create(ctx, gwA))
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), gwA) })
	require.Equal(t, future, programmedALB(t, gwA))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, fmt.Sprintf(`spec.loadBalancerName names ALB %q, which is the ALB of Gateway %s/%s: the AWS Load Balancer Controller takes that ALB over for this LoadBalancerConfiguration; choose a name of your own`,
			future, teamA, gwA.Name), event(c, bypass, "LoadBalancerConfiguration", cfg.GetName(), "Warning", v1alpha1.ReasonForeignLoadBalancerName))
		assert.Contains(c, routeEvent(c, gwA, v1alpha1.ReasonForeignLoadBalancerName), "LoadBalancerConfiguration "+bypass+"/"+cfg.GetName())
	}, 30*time.Second, 200*time.Millisecond)
}
