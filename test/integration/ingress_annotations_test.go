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
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// hostHeader gives ing a conditions annotation for its backend "web" whose host-header
// condition carries config (the JSON of hostHeaderConfig).
func hostHeader(ing *networkingv1.Ingress, config string) *networkingv1.Ingress {
	if ing.Annotations == nil {
		ing.Annotations = map[string]string{}
	}
	ing.Annotations[lbc.ConditionsAnnotationPrefix+"web"] = `[{"field":"host-header","hostHeaderConfig":` + config + `}]`
	return ing
}

// TestIngressConditionsAnnotationsCarryHostnames: LBC ORs the host-header values of an
// Ingress's alb.ingress.kubernetes.io/conditions.<service> annotation into the rule's host
// condition, so on an IngressGroup's shared ALB they reach the hostnames they name. They are
// decided like spec.rules[].host; a pattern (regexValues) is a catch-all.
func TestIngressConditionsAnnotationsCarryHostnames(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	teamA, teamB := tenant(t), tenant(t)
	group := unique("shared")
	shop := "shop." + z.Spec.Domain
	createSeen(t, grouped(ingress(teamA, "alb", shop), group))
	c, err := getClaim(shop)
	require.NoError(t, err)
	require.Equal(t, teamA, c.Spec.Namespace)
	annotation := lbc.ConditionsAnnotationPrefix + "web"

	t.Run("another namespace's hostname in a host-header condition is denied, naming the owner", func(t *testing.T) {
		ing := hostHeader(grouped(ingress(teamB, "alb", "b."+z.Spec.Domain), group), fmt.Sprintf(`{"values":[%q]}`, shop))
		err := k8s.Create(ctx, ing)
		require.Error(t, err)
		assert.True(t, apierrors.IsInvalid(err), "%v", err)
		assert.Contains(t, err.Error(), fmt.Sprintf("metadata.annotations[%s]: Forbidden:", annotation))
		assert.Contains(t, err.Error(), teamA)
		_, err = getClaim("b." + z.Spec.Domain)
		assert.True(t, apierrors.IsNotFound(err), "a denied Ingress claims nothing: %v", err)
	})
	t.Run("its own hostname in a host-header condition is admitted and claimed", func(t *testing.T) {
		own := "own-b." + z.Spec.Domain
		ing := hostHeader(grouped(ingress(teamB, "alb", "b2."+z.Spec.Domain), group), fmt.Sprintf(`{"values":[%q]}`, own))
		require.NoError(t, k8s.Create(ctx, ing))
		c, err := getClaim(own)
		require.NoError(t, err)
		assert.Equal(t, teamB, c.Spec.Namespace)

		t.Run("and adding another namespace's hostname by an update is denied", func(t *testing.T) {
			err := updateLatest(ctx, ing, func() { hostHeader(ing, fmt.Sprintf(`{"values":[%q,%q]}`, own, shop)) })
			require.Error(t, err)
			assert.Contains(t, err.Error(), fmt.Sprintf("metadata.annotations[%s]: Forbidden:", annotation))
		})
	})
	t.Run("a regex host-header in the shared group is a catch-all and denied", func(t *testing.T) {
		ing := hostHeader(grouped(ingress(teamB, "alb", "b3."+z.Spec.Domain), group), `{"regexValues":[".*"]}`)
		err := k8s.Create(ctx, ing)
		require.Error(t, err)
		assert.Contains(t, err.Error(), fmt.Sprintf(
			"metadata.annotations[%s]: Forbidden: IngressGroup %q serves hostname %q of namespace %s; an Ingress of namespace %s in that group may not have a rule without host, a defaultBackend or a host-header pattern in a conditions annotation",
			annotation, group, shop, teamA, teamB))
	})
	t.Run("the same regex host-header on its own ALB is allowed", func(t *testing.T) {
		require.NoError(t, k8s.Create(ctx, hostHeader(ingress(teamB, "alb", "b4."+z.Spec.Domain), `{"regexValues":[".*"]}`)))
	})
	t.Run("a hostless Ingress whose only host is in the annotation reaches the webhook", func(t *testing.T) {
		ing := hostHeader(catchAllIngress(teamB), fmt.Sprintf(`{"values":[%q]}`, shop))
		ing.Annotations[lbc.IngressClassAnnotation] = "alb"
		ing.Spec.IngressClassName = nil
		err := k8s.Create(ctx, ing)
		require.Error(t, err)
		assert.Contains(t, err.Error(), fmt.Sprintf("metadata.annotations[%s]: Forbidden:", annotation))
	})
	t.Run("malformed conditions in a group are denied, on an Ingress of its own ALB left to LBC", func(t *testing.T) {
		bad := func(ing *networkingv1.Ingress) *networkingv1.Ingress {
			ing.Annotations = map[string]string{annotation: `[{"field":`}
			return ing
		}
		err := k8s.Create(ctx, grouped(bad(ingress(teamB, "alb", "b5."+z.Spec.Domain)), group))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "not a JSON list of rule conditions")
		require.NoError(t, k8s.Create(ctx, bad(ingress(teamB, "alb", "b6."+z.Spec.Domain))))
	})
}

// TestAnIngressCannotNameAnotherNamespacesCertificate: LBC attaches every ARN of an Ingress's
// certificate-arn annotation to its ALB. Naming another namespace's claim certificate is denied;
// an ARN that is no claim's is not the orchestrator's to judge.
func TestAnIngressCannotNameAnotherNamespacesCertificate(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	teamA, teamC := tenant(t), tenant(t)
	shop := "shop." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, ingress(teamA, "alb", shop)))
	c := issued(t, shop)
	arn := c.Status.CertificateARN
	require.NotEmpty(t, arn)
	// Admission reads the claim's certificate from the manager's cache.
	require.Eventually(t, func() bool {
		var cached v1alpha1.DomainClaim
		return env.Manager.GetCache().Get(ctx, client.ObjectKey{Name: c.Name}, &cached) == nil && cached.Status.CertificateARN == arn
	}, 10*time.Second, 20*time.Millisecond)

	withARN := func(arns string) *networkingv1.Ingress {
		ing := ingress(teamC, "alb", "c."+z.Spec.Domain)
		ing.Annotations = map[string]string{lbc.CertificateARNAnnotation: arns}
		return ing
	}
	err := k8s.Create(ctx, withARN("arn:aws:acm:us-east-1:000000000000:certificate/unrelated, "+arn))
	require.Error(t, err)
	assert.True(t, apierrors.IsInvalid(err), "%v", err)
	assert.Contains(t, err.Error(), fmt.Sprintf(
		"metadata.annotations[%s]: Forbidden: certificate %s is the certificate of hostname %q, owned by namespace %s; an Ingress of namespace %s may not put it on its load balancer",
		lbc.CertificateARNAnnotation, arn, shop, teamA, teamC))

	t.Run("an unrelated ARN is allowed", func(t *testing.T) {
		require.NoError(t, k8s.Create(ctx, withARN("arn:aws:acm:us-east-1:000000000000:certificate/unrelated")))
	})
	t.Run("the owner may name its own certificate", func(t *testing.T) {
		ing := ingress(teamA, "alb", shop)
		ing.Annotations = map[string]string{lbc.CertificateARNAnnotation: arn}
		require.NoError(t, k8s.Create(ctx, ing))
	})
	t.Run("a hostless Ingress classified by annotation still reaches the webhook", func(t *testing.T) {
		ing := catchAllIngress(teamC)
		ing.Spec.IngressClassName = nil
		ing.Annotations = map[string]string{lbc.IngressClassAnnotation: "alb", lbc.CertificateARNAnnotation: arn}
		err := k8s.Create(ctx, ing)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "is the certificate of hostname")
	})
}
