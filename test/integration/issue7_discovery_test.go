package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// TestLBCDiscoversATenantGatewaysCertificateByItsHostname: a tenant's own ALB Gateway names no
// certificate, so LBC (and the stand-in) looks ACM certificates up by its listener hostnames. That
// is why a tenant Gateway (like an Ingress) may list only hostnames its namespace owns: with its
// own hostname it is allowed, claims it, and once the orchestrator has the certificate issued the
// ALB serves it; a hostname without a certificate leaves the Gateway refused (Accepted=False).
func TestLBCDiscoversATenantGatewaysCertificateByItsHostname(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	ns := tenant(t)
	h := "edge." + z.Spec.Domain
	gw := tenantGateway(ns, h)
	gw.Spec.GatewayClassName = "alb"
	require.NoError(t, k8s.Create(ctx, gw))
	c := ready(t, h, 60*time.Second)
	require.NotEmpty(t, c.Status.CertificateARN)

	own := v1alpha1.ObjectRef{Namespace: ns, Name: gw.Name}
	require.Eventually(t, func() bool {
		got := &gwv1.Gateway{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(gw), got); err != nil {
			return false // not yet
		}
		return meta.IsStatusConditionTrue(got.Status.Conditions, "Accepted")
	}, 30*time.Second, 100*time.Millisecond, "LBC accepts the tenant's Gateway once its hostname has an issued certificate")
	assert.Equal(t, []string{c.Status.CertificateARN}, listenerCertificates(own), "the certificate is found by the listener's hostname")

	orphan := tenantGateway(ns, "www.unmanaged.example.org")
	orphan.Spec.GatewayClassName = "alb"
	require.NoError(t, k8s.Create(ctx, orphan))
	var cond *metav1.Condition
	require.Eventually(t, func() bool {
		got := &gwv1.Gateway{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(orphan), got); err != nil {
			return false // not yet
		}
		cond = meta.FindStatusCondition(got.Status.Conditions, "Accepted")
		return cond != nil && cond.Status == metav1.ConditionFalse
	}, 30*time.Second, 100*time.Millisecond, "a hostname without a certificate is refused, as LBC does")
	assert.Equal(t, "no certificate found for host: www.unmanaged.example.org", cond.Message)

	require.NoError(t, k8s.Delete(ctx, gw))
	require.NoError(t, k8s.Delete(ctx, orphan))
}
