package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// TestRoutesAttachOnlyWhereTheirHostnamesAreSeated: with a.<zone> seated on one pool Gateway and
// b.<zone> on another, a route may name the pool Gateway its hostnames sit on and no other; the
// denial names the Gateway that serves them. A hostname still waiting for its seat, and updates
// that keep a parentRef, are not held up; the legacy "https" section is dropped at admission.
func TestRoutesAttachOnlyWhereTheirHostnamesAreSeated(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t, func(p *v1alpha1.GatewayPool) { p.Spec.MaxCertificatesPerGateway = 1 })
	ns := tenant(t)
	a, b := "a."+z.Spec.Domain, "b."+z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(ns, a)))
	require.NoError(t, k8s.Create(ctx, route(ns, b)))
	ga, gb := *ready(t, a, 60*time.Second).Status.Gateway, *ready(t, b, 60*time.Second).Status.Gateway
	require.NotEqual(t, ga, gb, "one certificate per Gateway seats the two names apart")
	require.Eventually(t, func() bool {
		ca, cb := &v1alpha1.DomainClaim{}, &v1alpha1.DomainClaim{}
		return env.Manager.GetCache().Get(ctx, client.ObjectKey{Name: a}, ca) == nil && ca.SeatFor(ns) != nil &&
			env.Manager.GetCache().Get(ctx, client.ObjectKey{Name: b}, cb) == nil && cb.SeatFor(ns) != nil
	}, 10*time.Second, 20*time.Millisecond, "the webhook's cache sees both seats")
	to := func(gw v1alpha1.ObjectRef) gwv1.ParentReference { return v1alpha1.ParentRef(gw) }

	t.Run("a parentRef to the Gateway of another hostname is denied naming the right one", func(t *testing.T) {
		r := route(ns, a)
		r.Spec.ParentRefs = []gwv1.ParentReference{to(gb)}
		err := k8s.Create(ctx, r)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "spec.parentRefs[0]")
		assert.Contains(t, err.Error(), "pool Gateway "+gb.Namespace+"/"+gb.Name+" serves none of this route's hostnames")
		assert.Contains(t, err.Error(), a+" served by Gateway "+ga.Namespace+"/"+ga.Name)

		grpc := grpcRoute(ns, a)
		grpc.Spec.ParentRefs = []gwv1.ParentReference{to(gb)}
		require.Error(t, k8s.Create(ctx, grpc), "GRPCRoutes alike")
	})
	t.Run("a parentRef to the hostname's own Gateway is allowed", func(t *testing.T) {
		r := route(ns, a)
		r.Spec.ParentRefs = []gwv1.ParentReference{to(ga)}
		require.NoError(t, k8s.Create(ctx, r))
	})
	t.Run("a route over both hostnames may name either Gateway", func(t *testing.T) {
		r := route(ns, a, b)
		r.Spec.ParentRefs = []gwv1.ParentReference{to(gb)}
		require.NoError(t, k8s.Create(ctx, r))
	})
	t.Run("a hostname without a seat yet does not hold the route up", func(t *testing.T) {
		r := route(ns, a, "c."+z.Spec.Domain)
		r.Spec.ParentRefs = []gwv1.ParentReference{to(gb)}
		require.NoError(t, k8s.Create(ctx, r))
	})
	t.Run("a Gateway of the route's own is none of the pool's business", func(t *testing.T) {
		r := route(ns, a)
		r.Spec.ParentRefs = []gwv1.ParentReference{{Name: "own-gateway"}}
		require.NoError(t, k8s.Create(ctx, r))
	})
	t.Run("an update is checked for the parentRefs it adds only", func(t *testing.T) {
		r := route(ns, a)
		r.Spec.ParentRefs = []gwv1.ParentReference{to(ga)}
		require.NoError(t, k8s.Create(ctx, r))
		// The stand-in writes the route's status meanwhile, so each update starts from the latest version.
		err := updateLatest(ctx, r, func() { r.Spec.ParentRefs = append(r.Spec.ParentRefs, to(gb)) })
		require.Error(t, err)
		assert.Contains(t, err.Error(), "spec.parentRefs[1]")

		// Changing anything else leaves the kept parentRefs unchecked.
		require.NoError(t, updateLatest(ctx, r, func() { r.Labels = map[string]string{"changed": "yes"} }))
	})
	t.Run("the legacy https section on a pool Gateway is dropped at admission", func(t *testing.T) {
		r := route(ns, a)
		ref := to(ga)
		ref.SectionName = ptr.To(gwv1.SectionName("https"))
		r.Spec.ParentRefs = []gwv1.ParentReference{ref}
		require.NoError(t, k8s.Create(ctx, r))
		require.Len(t, r.Spec.ParentRefs, 1)
		assert.Nil(t, r.Spec.ParentRefs[0].SectionName, "a parentRef without a section attaches to the hostname's own listener")
		assert.Equal(t, gwv1.ObjectName(ga.Name), r.Spec.ParentRefs[0].Name)

		own := route(ns, a)
		own.Spec.ParentRefs = []gwv1.ParentReference{{Name: "own-gateway", SectionName: ptr.To(gwv1.SectionName("https"))}}
		require.NoError(t, k8s.Create(ctx, own))
		assert.Equal(t, gwv1.SectionName("https"), *own.Spec.ParentRefs[0].SectionName, "other Gateways' sections are the user's")
	})
}
