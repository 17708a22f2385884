package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// TestAnIngressOfAnotherClassDoesNotHoldAnALBName: admission checks the load-balancer-name
// annotation only of the Ingresses LBC serves, so an Ingress of another controller's class
// naming an ALB counts for nobody: it neither makes another team's generated name its
// namespace's (then named by a LoadBalancerConfiguration) nor squats a name for every other
// namespace.
func TestAnIngressOfAnotherClassDoesNotHoldAnALBName(t *testing.T) {
	ctx := context.Background()
	teamA, teamB := tenant(t), tenant(t)
	class := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: unique("nginx")},
		Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}
	require.NoError(t, k8s.Create(ctx, class))
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), class) })
	require.Eventually(t, func() bool {
		return env.Manager.GetCache().Get(ctx, client.ObjectKeyFromObject(class), &networkingv1.IngressClass{}) == nil
	}, 10*time.Second, 20*time.Millisecond, "admission's cache has the IngressClass")
	otherClass := func(ns, name string) *networkingv1.Ingress {
		ing := namingIngress(ns, name)
		delete(ing.Annotations, lbc.IngressClassAnnotation)
		ing.Spec.IngressClassName = ptr.To(class.Name)
		return ing
	}

	t.Run("it does not make another team's generated name its namespace's", func(t *testing.T) {
		victims := ingressALBName("test-cluster", teamB, "web", "internet-facing")
		createSeen(t, otherClass(teamA, victims))
		deniedFor(t, k8s.Create(ctx, namingConfig(teamA, victims)), fmt.Sprintf(
			"spec.loadBalancerName: Forbidden: load balancer name %q has the shape of the names the AWS Load Balancer Controller generates", victims))
		deniedFor(t, k8s.Create(ctx, namingIngress(teamA, victims)), fmt.Sprintf(
			"%s: Forbidden: load balancer name %q has the shape of the names the AWS Load Balancer Controller generates", lbNameAnnotationPath, victims))
	})

	t.Run("it squats no name", func(t *testing.T) {
		squatted := unique("squatted")
		createSeen(t, otherClass(teamA, squatted))
		require.NoError(t, k8s.Create(ctx, namingIngress(teamB, squatted)))
	})
}

// TestALoadBalancerConfigurationHoldsTheALBItNames: a LoadBalancerConfiguration naming an ALB
// makes it its namespace's, as an Ingress naming it does, so another namespace's Ingress or
// configuration naming it later is denied, naming the configuration; its own namespace may name
// it again.
func TestALoadBalancerConfigurationHoldsTheALBItNames(t *testing.T) {
	ctx := context.Background()
	teamA, teamB := tenant(t), tenant(t)
	name := unique("team-a-alb")
	cfgA := namingConfig(teamA, name)
	require.NoError(t, k8s.Create(ctx, cfgA))
	require.Eventually(t, func() bool {
		return env.Manager.GetCache().Get(ctx, client.ObjectKeyFromObject(cfgA), &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": cfgA.GetAPIVersion(), "kind": cfgA.GetKind()}}) == nil
	}, 10*time.Second, 20*time.Millisecond, "admission's cache has the configuration")

	foreign := func(path, what string) string {
		return fmt.Sprintf("%s: Forbidden: load balancer name %q is the ALB of LoadBalancerConfiguration %s/%s of namespace %s (it is on that ALB, or named it first); %s of namespace %s may not name it",
			path, name, teamA, cfgA.GetName(), teamA, what, teamB)
	}
	deniedFor(t, k8s.Create(ctx, namingIngress(teamB, name)), foreign(lbNameAnnotationPath, "an Ingress"))
	deniedFor(t, k8s.Create(ctx, namingConfig(teamB, name)), foreign("spec.loadBalancerName", "a LoadBalancerConfiguration"))
	require.NoError(t, k8s.Create(ctx, namingIngress(teamA, name)), "the configuration's own namespace")
}

// TestTheReCheckDatesANameFromWhenItWasAdded: an Ingress created without a name, that names
// another namespace's ALB later around admission (a namespace the webhooks do not see), named it
// after that namespace's configuration, not at its creation: it is reported, naming the
// configuration.
func TestTheReCheckDatesANameFromWhenItWasAdded(t *testing.T) {
	ctx := context.Background()
	teamB, bypass := tenant(t), bypassNamespace(t)
	name := unique("team-b-alb")
	attacker := namingIngress(bypass, name)
	delete(attacker.Annotations, lbc.LoadBalancerNameAnnotation)
	require.NoError(t, k8s.Create(ctx, attacker))
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), attacker) })
	// Creation timestamps have whole seconds: the victim is created in a later one, and the
	// attacker names the ALB in a later one still.
	pastTheSecondOf(attacker)
	victim := namingConfig(teamB, name)
	require.NoError(t, k8s.Create(ctx, victim), "nobody names the ALB yet")
	pastTheSecondOf(victim)

	require.NoError(t, k8s.Get(ctx, client.ObjectKeyFromObject(attacker), attacker))
	attacker.Annotations[lbc.LoadBalancerNameAnnotation] = name
	require.NoError(t, k8s.Update(ctx, attacker))

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Contains(c, eventNotes(c, bypass, "Ingress", attacker.Name, v1alpha1.ReasonForeignLoadBalancerName),
			fmt.Sprintf(`%s names ALB %q, which is the ALB of LoadBalancerConfiguration %s/%s: the AWS Load Balancer Controller takes that ALB over for this Ingress; choose a name of your own`,
				lbNameAnnotationPath, name, teamB, victim.GetName()))
	}, 30*time.Second, 200*time.Millisecond)
}

// eventNotes returns the notes of every Warning Event of reason about the object kind/name in
// namespace (the object may be told both as the namer and as the holder).
func eventNotes(t require.TestingT, namespace, kind, name, reason string) []string {
	var evs eventsv1.EventList
	require.NoError(t, k8s.List(context.Background(), &evs, client.InNamespace(namespace)))
	var out []string
	for _, e := range evs.Items {
		if e.Regarding.Kind == kind && e.Regarding.Name == name && e.Type == "Warning" && e.Reason == reason {
			out = append(out, e.Note)
		}
	}
	return out
}

// pastTheSecondOf waits until the clock (the API server's is this machine's) is past the whole
// second o was created in, so that an object created or written next is stamped later.
func pastTheSecondOf(o client.Object) {
	time.Sleep(time.Until(o.GetCreationTimestamp().Add(time.Second + 50*time.Millisecond)))
}
