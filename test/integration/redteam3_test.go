package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
	"github.com/opendi/gateway-orchestrator/test/lbcstandin"
)

// Attacks a third red team tried from outside against the running system (make run-local),
// reproduced here with the webhooks registered in a real API server.

// targetGroupRef is a backendRef naming an ALB target group by name (LBC v3's kind
// TargetGroupName; LBC reads the kind whatever the group).
func targetGroupRef(group, name string) gwv1.BackendRef {
	return gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
		Group: ptr.To(gwv1.Group(group)), Kind: ptr.To(gwv1.Kind(lbcstandin.TargetGroupNameKind)), Name: gwv1.ObjectName(name)}}
}

// assertTargetGroupDenied asserts that err is admission's denial of rule 0's backendRef 0,
// saying why and what to do.
func assertTargetGroupDenied(t *testing.T, err error) {
	t.Helper()
	requireDenial(t, err)
	assert.Contains(t, err.Error(), "spec.rules[0].backendRefs[0]: Forbidden: a backendRef of kind TargetGroupName forwards to an ALB target group by its name, which on a shared load balancer may be another team's")
	assert.Contains(t, err.Error(), "name a Service of your namespace instead")
}

// sharedSeat is two teams' hostnames seated on one pool Gateway: team-a's shop (served by its
// Service shop) and team-c's mine, with the name LBC gives team-a's target group there.
type sharedSeat struct {
	z                    *v1alpha1.ManagedZone
	teamA, teamC         string
	shop, mine           string
	shopRoute, mineRoute *gwv1.HTTPRoute
	gw                   v1alpha1.ObjectRef
	shopSvc              types.NamespacedName
	tg                   string
}

// seatTwoTeams creates sharedSeat, team-a's route serving shopPath, and waits until both
// hostnames are Ready on one Gateway.
func seatTwoTeams(t *testing.T, shopPath string) sharedSeat {
	t.Helper()
	ctx := context.Background()
	z, _ := servedZone(t)
	s := sharedSeat{z: z, teamA: tenant(t), teamC: tenant(t), shop: "shop." + z.Spec.Domain, mine: "mine." + z.Spec.Domain}
	s.shopRoute = servingRoute(s.teamA, "shop", shopPath, s.shop)
	require.NoError(t, k8s.Create(ctx, s.shopRoute))
	s.mineRoute = servingRoute(s.teamC, "web", "/", s.mine)
	require.NoError(t, k8s.Create(ctx, s.mineRoute))
	s.gw = *ready(t, s.shop, 60*time.Second).Status.Gateway
	require.Equal(t, s.gw, *ready(t, s.mine, 60*time.Second).Status.Gateway, "first fit seats both on one Gateway")
	s.shopSvc = types.NamespacedName{Namespace: s.teamA, Name: "shop"}
	s.tg = lbcstandin.TargetGroupName(s.gw.Namespace, s.gw.Name, lbcstandin.Route{Kind: "HTTPRoute", Namespace: s.teamA, Name: s.shopRoute.Name},
		lbcstandin.ServicePort{Service: s.shopSvc, Port: 80})
	return s
}

// LBC v3 forwards a route rule to an existing target group named by a backendRef of kind
// TargetGroupName, looking the name up in the AWS account whoever made it. On a pool ALB every
// team's target groups are on the same load balancer, so team-c's route for its own hostname
// could forward to team-a's target group: every path of team-c's hostname reached team-a's
// Service, past the rules team-a chose (team-a serves only /shop). A name no target group has
// fails LBC's deploy of the whole shared Gateway, and so does a backendRef of kind Gateway (a
// target group of target type alb, which ELBv2 makes only for NLBs). Now both are denied on a pool
// Gateway, on create and on update, for HTTPRoutes and GRPCRoutes; a team's own Gateway is not
// checked.
func TestRedteam3ANamedTargetGroupIsDeniedOnThePool(t *testing.T) {
	ctx := context.Background()
	s := seatTwoTeams(t, "/shop")

	t.Run("an update of an admitted pool route", func(t *testing.T) {
		err := updateLatest(ctx, s.mineRoute, func() {
			s.mineRoute.Spec.Rules[0].BackendRefs = []gwv1.HTTPBackendRef{{BackendRef: targetGroupRef("", s.tg)}}
		})
		assert.Never(t, func() bool {
			for _, path := range []string{"/", "/shop", "/admin"} {
				if got, _ := env.StandIn.Resolve(s.gw.Namespace, s.gw.Name, s.mine, path); got == s.shopSvc {
					return true
				}
			}
			return false
		}, 3*time.Second, 50*time.Millisecond, "https://%s never reaches team-a's Service", s.mine)
		got, ok := env.StandIn.Resolve(s.gw.Namespace, s.gw.Name, s.mine, "/admin")
		assert.True(t, ok)
		assert.Equal(t, types.NamespacedName{Namespace: s.teamC, Name: "web"}, got, "team-c's own Service serves its hostname")
		assertTargetGroupDenied(t, err)
		assert.Contains(t, err.Error(), "attached to a shared pool Gateway, whose ALB every team shares")
	})
	t.Run("a new route naming the pool Gateway, with any group", func(t *testing.T) {
		r := servingRoute(s.teamC, "web", "/", s.mine)
		r.Spec.ParentRefs = []gwv1.ParentReference{gatewayParent(s.gw)}
		r.Spec.Rules[0].BackendRefs = []gwv1.HTTPBackendRef{{BackendRef: targetGroupRef("gateway.k8s.aws", s.tg)}}
		err := k8s.Create(ctx, r)
		assertTargetGroupDenied(t, err)
		assert.Contains(t, err.Error(), "the route is attached to the shared pool Gateway "+s.gw.Namespace+"/"+s.gw.Name)
	})
	t.Run("a GRPCRoute too", func(t *testing.T) {
		g := backendGRPCRoute(s.teamC, "web", gatewayParent(s.gw), s.mine)
		g.Spec.Rules[0].BackendRefs = []gwv1.GRPCBackendRef{{BackendRef: targetGroupRef("", s.tg)}}
		assertTargetGroupDenied(t, k8s.Create(ctx, g))
	})
	t.Run("a name no target group has", func(t *testing.T) {
		r := servingRoute(s.teamC, "web", "/", s.mine)
		r.Spec.Rules[0].BackendRefs = []gwv1.HTTPBackendRef{{BackendRef: targetGroupRef("", "k8s-nothere-nothere-0123456789")}}
		assertTargetGroupDenied(t, k8s.Create(ctx, r))
	})
	t.Run("a Gateway backend, whose target group ELBv2 refuses for an ALB", func(t *testing.T) {
		own := createOwnGateway(t, s.teamC, "own-backend."+s.z.Spec.Domain)
		r := servingRoute(s.teamC, "web", "/", s.mine)
		r.Spec.Rules[0].BackendRefs = []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
			Group: ptr.To(gwv1.Group(gwv1.GroupName)), Kind: ptr.To(gwv1.Kind("Gateway")), Name: gwv1.ObjectName(own.Name), Port: ptr.To(gwv1.PortNumber(443))}}}}
		err := k8s.Create(ctx, r)
		requireDenial(t, err)
		assert.Contains(t, err.Error(), "spec.rules[0].backendRefs[0]: Forbidden: a backendRef of kind Gateway makes a target group of target type alb, which only a Network Load Balancer forwards to")
		assert.Contains(t, err.Error(), "which LBC could not program any more")
	})
	t.Run("on the team's own Gateway it is not checked", func(t *testing.T) {
		own := "own-tg." + s.z.Spec.Domain
		ownGW := createOwnGateway(t, s.teamC, own)
		r := servingRoute(s.teamC, "web", "/", own)
		r.Spec.ParentRefs = []gwv1.ParentReference{{Name: gwv1.ObjectName(ownGW.Name)}}
		r.Spec.Rules[0].BackendRefs = []gwv1.HTTPBackendRef{{BackendRef: targetGroupRef("", "k8s-teamc-web-0123456789")}}
		require.NoError(t, k8s.Create(ctx, r))
	})
	assertGatewayStaysAccepted(t, s.gw)
	got, ok := env.StandIn.Resolve(s.gw.Namespace, s.gw.Name, s.shop, "/shop")
	assert.True(t, ok)
	assert.Equal(t, s.shopSvc, got, "team-a still serves its own hostname")
}

// targetGroupConfiguration is an LBC TargetGroupConfiguration for Service svc of ns; set puts
// target group names into its spec.
func targetGroupConfiguration(ns, svc string, set func(spec map[string]any)) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(lbc.TargetGroupConfigurationGVK)
	u.SetNamespace(ns)
	u.SetGenerateName("tgc-")
	spec := map[string]any{"targetReference": map[string]any{"name": svc}}
	set(spec)
	u.Object["spec"] = spec
	return u
}

// LBC names a Service's target groups by its TargetGroupConfiguration's targetGroupName (by
// default, or for one route), and ELBv2's CreateTargetGroup is idempotent: asking for a name a
// target group already has returns that target group. On a pool ALB a team naming the
// generated target group of another team's route had its own hostname forward to that team's
// Services. Now a TargetGroupConfiguration naming a target group with the shape of LBC's
// generated names is denied; a name of the team's own choosing passes.
func TestRedteam3ATargetGroupConfigurationCannotAdoptAGeneratedTargetGroup(t *testing.T) {
	ctx := context.Background()
	s := seatTwoTeams(t, "/")

	t.Run("by default", func(t *testing.T) {
		cfg := targetGroupConfiguration(s.teamC, "web", func(spec map[string]any) {
			spec["defaultConfiguration"] = map[string]any{"targetGroupName": s.tg}
		})
		err := k8s.Create(ctx, cfg)
		if err == nil {
			t.Cleanup(func() { _ = k8s.Delete(context.Background(), cfg) })
			// LBC reads the configuration on its next deploy of the Gateway.
			require.NoError(t, updateLatest(ctx, s.mineRoute, func() { s.mineRoute.Annotations = map[string]string{"touch": "1"} }))
		}
		assert.Never(t, func() bool {
			got, _ := env.StandIn.Resolve(s.gw.Namespace, s.gw.Name, s.mine, "/")
			return got == s.shopSvc
		}, 3*time.Second, 50*time.Millisecond, "https://%s never reaches team-a's Service", s.mine)
		requireDenial(t, err)
		assert.Contains(t, err.Error(), "spec.defaultConfiguration.targetGroupName: Forbidden: target group name \""+s.tg+"\" has the shape of the names the AWS Load Balancer Controller generates for the target groups of routes")
		assert.Contains(t, err.Error(), "choose a name that does not end in a 10-digit hex hash, or remove it")
	})
	t.Run("for one route, in upper case", func(t *testing.T) {
		cfg := targetGroupConfiguration(s.teamC, "web", func(spec map[string]any) {
			spec["routeConfigurations"] = []any{map[string]any{
				"routeIdentifier":  map[string]any{"kind": "HTTPRoute", "namespace": s.teamC, "name": s.mineRoute.Name},
				"targetGroupProps": map[string]any{"targetGroupName": strings.ToUpper(s.tg)},
			}}
		})
		err := k8s.Create(ctx, cfg)
		requireDenial(t, err)
		assert.Contains(t, err.Error(), "spec.routeConfigurations[0].targetGroupProps.targetGroupName: Forbidden")
	})
	t.Run("a name another namespace's configuration sets", func(t *testing.T) {
		theirs := targetGroupConfiguration(s.teamA, "shop", func(spec map[string]any) {
			spec["defaultConfiguration"] = map[string]any{"targetGroupName": "shop-tg-" + s.teamA}
		})
		require.NoError(t, k8s.Create(ctx, theirs))
		t.Cleanup(func() { _ = k8s.Delete(context.Background(), theirs) })
		cfg := targetGroupConfiguration(s.teamC, "web", func(spec map[string]any) {
			spec["defaultConfiguration"] = map[string]any{"targetGroupName": strings.ToUpper("shop-tg-" + s.teamA)}
		})
		err := k8s.Create(ctx, cfg)
		requireDenial(t, err)
		assert.Contains(t, err.Error(), "is set by TargetGroupConfiguration "+s.teamA+"/"+theirs.GetName()+" of another namespace")
		// The first keeps its name through its own updates.
		require.NoError(t, unstructured.SetNestedField(theirs.Object, "yes", "metadata", "annotations", "changed"))
		require.NoError(t, unstructured.SetNestedField(theirs.Object, map[string]any{"name": "shop", "kind": "Service"}, "spec", "targetReference"))
		require.NoError(t, k8s.Update(ctx, theirs))
	})
	t.Run("a name of the team's own passes", func(t *testing.T) {
		cfg := targetGroupConfiguration(s.teamC, "web", func(spec map[string]any) {
			spec["defaultConfiguration"] = map[string]any{"targetGroupName": "team-c-web"}
		})
		require.NoError(t, k8s.Create(ctx, cfg))
		t.Cleanup(func() { _ = k8s.Delete(context.Background(), cfg) })
	})
}
