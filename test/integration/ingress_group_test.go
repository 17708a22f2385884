package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/webhook"
)

// grouped puts ing in the explicit IngressGroup group.
func grouped(ing *networkingv1.Ingress, group string) *networkingv1.Ingress {
	if ing.Annotations == nil {
		ing.Annotations = map[string]string{}
	}
	ing.Annotations[lbc.IngressGroupAnnotation] = group
	return ing
}

// catchAllIngress is an Ingress of class alb with one rule without host, which LBC turns into a
// listener rule without a host condition.
func catchAllIngress(ns string) *networkingv1.Ingress {
	ing := ingress(ns, "alb", "placeholder.invalid")
	ing.Spec.Rules[0].Host = ""
	return ing
}

// createSeen creates ing and waits until admission's cache holds it.
func createSeen(t *testing.T, ing *networkingv1.Ingress) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, k8s.Create(ctx, ing))
	require.Eventually(t, func() bool {
		return env.Manager.GetCache().Get(ctx, client.ObjectKeyFromObject(ing), &networkingv1.Ingress{}) == nil
	}, 10*time.Second, 20*time.Millisecond)
}

// TestAnIngressGroupCannotLetAnotherNamespaceCatchAClaimedHostname: LBC merges the Ingresses of
// one IngressGroup into one ALB across namespaces, where a rule without host (or a
// defaultBackend, the listener's default action) receives the requests for every hostname the
// ALB serves. So a group may not mix one namespace's catch-all with another namespace's managed
// hostnames, whichever comes first; alone, or within one namespace, both are fine.
func TestAnIngressGroupCannotLetAnotherNamespaceCatchAClaimedHostname(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	teamA, teamC := tenant(t), tenant(t)

	t.Run("a hostless Ingress of another namespace in the group is denied and says why", func(t *testing.T) {
		group := unique("shared")
		shop := "shop." + z.Spec.Domain
		createSeen(t, grouped(ingress(teamA, "alb", shop), group))
		c, err := getClaim(shop)
		require.NoError(t, err)
		assert.Equal(t, teamA, c.Spec.Namespace)

		err = k8s.Create(ctx, grouped(catchAllIngress(teamC), group))
		require.Error(t, err)
		assert.True(t, apierrors.IsInvalid(err), "%v", err)
		assert.Contains(t, err.Error(), fmt.Sprintf(
			"spec.rules[0]: Forbidden: IngressGroup %q serves hostname %q of namespace %s; an Ingress of namespace %s in that group may not have a rule without host, a defaultBackend or a host-header pattern in a conditions annotation (it would receive that hostname's traffic)",
			group, shop, teamA, teamC))

		t.Run("so is a defaultBackend", func(t *testing.T) {
			ing := grouped(catchAllIngress(teamC), group)
			ing.Spec.DefaultBackend, ing.Spec.Rules = ing.Spec.Rules[0].HTTP.Paths[0].Backend.DeepCopy(), nil
			err := k8s.Create(ctx, ing)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "spec.defaultBackend: Forbidden: IngressGroup")
		})
		t.Run("and so is joining the group later", func(t *testing.T) {
			ing := catchAllIngress(teamC)
			createSeen(t, ing)
			err := updateLatest(ctx, ing, func() { grouped(ing, group) })
			require.Error(t, err)
			assert.Contains(t, err.Error(), fmt.Sprintf("IngressGroup %q serves hostname %q of namespace %s", group, shop, teamA))
		})
		t.Run("the same hostless Ingress on its own ALB is allowed", func(t *testing.T) {
			require.NoError(t, k8s.Create(ctx, catchAllIngress(teamC)))
		})
		t.Run("in a group of its own namespace it is allowed", func(t *testing.T) {
			require.NoError(t, k8s.Create(ctx, grouped(catchAllIngress(teamC), unique("team-c"))))
		})
		t.Run("in the owner's namespace it is allowed", func(t *testing.T) {
			require.NoError(t, k8s.Create(ctx, grouped(catchAllIngress(teamA), group)))
		})
	})

	t.Run("a claimed hostname joining a group with another namespace's catch-all is denied", func(t *testing.T) {
		group := unique("shared")
		createSeen(t, grouped(catchAllIngress(teamC), group))
		blog := "blog." + z.Spec.Domain

		ing := grouped(ingress(teamA, "alb", blog), group)
		err := k8s.Create(ctx, ing)
		require.Error(t, err)
		assert.True(t, apierrors.IsInvalid(err), "%v", err)
		assert.Contains(t, err.Error(), fmt.Sprintf(
			"metadata.annotations[%s]: Forbidden: IngressGroup %q has a rule without host, a defaultBackend or a host-header pattern in Ingress",
			lbc.IngressGroupAnnotation, group))
		assert.Contains(t, err.Error(), fmt.Sprintf("of namespace %s, which would receive the traffic of hostname %q", teamC, blog))
		_, err = getClaim(blog)
		assert.True(t, apierrors.IsNotFound(err), "a denied Ingress claims nothing: %v", err)

		t.Run("outside the group it is allowed", func(t *testing.T) {
			require.NoError(t, k8s.Create(ctx, ingress(teamA, "alb", blog)))
		})
	})
}

// groupClass creates an IngressClass of LBC whose IngressClassParams put every Ingress of the
// class in IngressGroup group, and waits until admission's cache holds both.
func groupClass(t *testing.T, group string) string {
	t.Helper()
	ctx := context.Background()
	name := unique("grouped")
	params := &unstructured.Unstructured{}
	params.SetGroupVersionKind(lbc.IngressClassParamsGVK)
	params.SetName(name)
	require.NoError(t, unstructured.SetNestedField(params.Object, group, "spec", "group", "name"))
	require.NoError(t, k8s.Create(ctx, params))
	ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: networkingv1.IngressClassSpec{
		Controller: webhook.ALBIngressController,
		Parameters: &networkingv1.IngressClassParametersReference{APIGroup: ptr.To(lbc.IngressClassParamsGVK.Group), Kind: lbc.IngressClassParamsGVK.Kind, Name: name},
	}}
	require.NoError(t, k8s.Create(ctx, ic))
	require.Eventually(t, func() bool {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(lbc.IngressClassParamsGVK)
		return env.Manager.GetCache().Get(ctx, client.ObjectKey{Name: name}, u) == nil &&
			env.Manager.GetCache().Get(ctx, client.ObjectKey{Name: name}, &networkingv1.IngressClass{}) == nil
	}, 10*time.Second, 20*time.Millisecond)
	return name
}

// TestAGroupThatIngressClassParamsImposeIsSharedToo: LBC puts every Ingress of a class whose
// IngressClassParams set spec.group.name in that group, whatever their annotations, so such a
// class is an IngressGroup across namespaces like an annotation's.
func TestAGroupThatIngressClassParamsImposeIsSharedToo(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	teamA, teamC := tenant(t), tenant(t)

	t.Run("a hostless Ingress of the class in another namespace is denied", func(t *testing.T) {
		group := unique("class-group")
		class := groupClass(t, group)
		shop := "shop." + z.Spec.Domain
		createSeen(t, ingress(teamA, class, shop))

		hostless := catchAllIngress(teamC)
		hostless.Spec.IngressClassName = ptr.To(class)
		err := k8s.Create(ctx, hostless)
		require.Error(t, err)
		assert.Contains(t, err.Error(), fmt.Sprintf("spec.rules[0]: Forbidden: IngressGroup %q serves hostname %q of namespace %s", group, shop, teamA))

		t.Run("its own group annotation does not take it out (the class's group wins)", func(t *testing.T) {
			ing := grouped(catchAllIngress(teamC), unique("team-c"))
			ing.Spec.IngressClassName = ptr.To(class)
			err := k8s.Create(ctx, ing)
			require.Error(t, err)
			assert.Contains(t, err.Error(), fmt.Sprintf("IngressGroup %q serves hostname %q", group, shop))
		})
	})
	t.Run("a claimed hostname of the class next to another namespace's catch-all is denied", func(t *testing.T) {
		class := groupClass(t, unique("class-group"))
		hostless := catchAllIngress(teamC)
		hostless.Spec.IngressClassName = ptr.To(class)
		createSeen(t, hostless)

		err := k8s.Create(ctx, ingress(teamA, class, "blog."+z.Spec.Domain))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "spec.ingressClassName: Forbidden: IngressGroup")
		assert.Contains(t, err.Error(), fmt.Sprintf("in Ingress %s of namespace %s", hostless.Name, teamC))
	})
}

// TestWhichHostlessIngressesReachTheWebhook: an Ingress without hosts reaches the Ingress
// webhook only when it has a catch-all and may be in a group (it names one, or no
// kubernetes.io/ingress.class annotation keeps its class's IngressClassParams from imposing one);
// every other hostless Ingress skips it, and an Ingress with hosts reaches it as before.
func TestWhichHostlessIngressesReachTheWebhook(t *testing.T) {
	ctx := context.Background()
	ns := tenant(t)
	const hook = "vingress.gateway.opendi.com"
	annotated := func(ing *networkingv1.Ingress) *networkingv1.Ingress {
		ing.Spec.IngressClassName = nil
		ing.Annotations = map[string]string{lbc.IngressClassAnnotation: "alb"}
		return ing
	}
	for _, tc := range []struct {
		name    string
		ing     *networkingv1.Ingress
		reaches bool
	}{
		{"classified by the annotation, no group: skips", annotated(catchAllIngress(ns)), false},
		{"classified by the annotation, with a group: reaches", grouped(annotated(catchAllIngress(ns)), unique("g")), true},
		{"classified by spec.ingressClassName: reaches (its class may impose a group)", catchAllIngress(ns), true},
		{"without a catch-all (a rule without host and without paths, which LBC skips): skips", &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: unique("ing"), Annotations: map[string]string{lbc.IngressGroupAnnotation: "g"}},
			Spec: networkingv1.IngressSpec{IngressClassName: ptr.To("alb"), Rules: []networkingv1.IngressRule{{}}}}, false},
		{"with a host: reaches", ingress(ns, "alb", "www.unmanaged.test"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := webhookCounts(t, webhookCallsMetric)[hook]
			require.NoError(t, k8s.Create(ctx, tc.ing))
			after := webhookCounts(t, webhookCallsMetric)[hook]
			if tc.reaches {
				assert.Greater(t, after, before)
			} else {
				assert.Equal(t, before, after)
			}
		})
	}
}
