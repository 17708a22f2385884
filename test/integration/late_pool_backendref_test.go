package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// TestARouteWithATargetGroupNameBackendIsNotAttachedWhenItsZoneGetsAPoolLater: a route admitted
// while its hostname had no pool (nothing shared to protect) names an ALB target group by name.
// When an administrator gives the zone a pool, the claim is seated, and the routes reconciler's
// attachment of the route to the shared Gateway goes through the route's validating webhook like
// any update: it is denied (a named target group on a shared ALB may be another team's), the
// route stays off the pool Gateway, and its owner is told why with an AttachDenied Event.
func TestARouteWithATargetGroupNameBackendIsNotAttachedWhenItsZoneGetsAPoolLater(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	ns := tenant(t)
	h := "named-tg." + z.Spec.Domain
	r := route(ns, h)
	r.Spec.Rules = []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: targetGroupRef("", "k8s-teama-shop-0123456789")}}}}
	require.NoError(t, k8s.Create(ctx, r), "no pool serves the hostname yet: nothing shared to protect")
	noGatewayPool(t, z, h, 60*time.Second)

	gwNS := unique("gw")
	require.NoError(t, k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: gwNS}}))
	p := pool(unique("pool"), func(p *v1alpha1.GatewayPool) { p.Spec.Namespace = gwNS })
	require.NoError(t, k8s.Create(ctx, p))
	require.NoError(t, updateLatest(ctx, z, func() { z.Spec.GatewayPoolRef = &v1alpha1.LocalObjectReference{Name: p.Name} }))

	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.NotEmpty(c, routeEvent(c, r, v1alpha1.EventAttachDenied)) },
		90*time.Second, 100*time.Millisecond, "the route is told why it is not attached to the pool's Gateway")
	note := routeEvent(t, r, v1alpha1.EventAttachDenied)
	assert.Contains(t, note, "TargetGroupName")
	refs, _ := parentsOf(t, r)
	for _, ref := range refs {
		assert.NotEqual(t, gwNS, string(ptrOr(ref.Namespace, gwv1.Namespace(ns))), "the route is on no Gateway of the pool: %+v", ref)
	}
}

func ptrOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
