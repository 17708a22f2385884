package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// assertSettingDenied asserts that err denies the configuration's field as a setting LBC cannot
// deploy on the shared ALB.
func assertSettingDenied(t *testing.T, err error, path, value string) {
	t.Helper()
	requireDenial(t, err)
	assert.Contains(t, err.Error(), path+": Forbidden: \""+value+"\" is a setting LBC cannot deploy on an ALB")
	assert.Contains(t, err.Error(), "whose ALB every team shares")
}

// assertGatewayStaysAccepted asserts that LBC (the stand-in) keeps programming the shared Gateway
// gw for a while: it is never Accepted=False.
func assertGatewayStaysAccepted(t *testing.T, gw v1alpha1.ObjectRef) {
	t.Helper()
	assert.Never(t, func() bool {
		got := &gwv1.Gateway{}
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: gw.Namespace, Name: gw.Name}, got); err != nil {
			return false
		}
		return meta.IsStatusConditionFalse(got.Status.Conditions, string(gwv1.GatewayConditionAccepted))
	}, 2*time.Second, 50*time.Millisecond, "LBC keeps programming the shared ALB")
}

// A tenant's LBC TargetGroupConfiguration for the Service of its pool route could ask for a target
// group LBC cannot build for an ALB (protocol TCP: "backend protocol must be within [HTTP,
// HTTPS]") or ELBv2 refuses; LBC fails the deploy of the whole shared Gateway then, freezing
// every team's listeners. Now such a configuration is denied when a pool route uses the Service,
// and a pool route is denied when its Service already has one; the shared Gateway stays Accepted.
func TestTargetGroupConfigurationCannotStopLBCOnThePool(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	teamA, teamB := tenant(t), tenant(t)
	web, api := "web."+z.Spec.Domain, "api."+z.Spec.Domain
	webRoute := servingRoute(teamA, "web", "/", web)
	require.NoError(t, k8s.Create(ctx, webRoute))
	gw := *ready(t, web, 60*time.Second).Status.Gateway

	t.Run("protocol TCP for the Service of a pool route is denied", func(t *testing.T) {
		cfg := targetGroupConfiguration(teamA, "web", func(spec map[string]any) {
			spec["defaultConfiguration"] = map[string]any{"protocol": "TCP"}
		})
		err := k8s.Create(ctx, cfg)
		if err == nil {
			t.Cleanup(func() { _ = k8s.Delete(context.Background(), cfg) })
			// LBC reads the configuration on its next deploy of the Gateway.
			require.NoError(t, updateLatest(ctx, webRoute, func() { webRoute.Annotations = map[string]string{"touch": "1"} }))
		}
		assertSettingDenied(t, err, "spec.defaultConfiguration.protocol", "TCP")
		assert.Contains(t, err.Error(), "Service web is a backend of HTTPRoute "+teamA+"/"+webRoute.Name)
		assert.Contains(t, err.Error(), "use HTTP or HTTPS, or remove it")
	})
	t.Run("with the configuration made first, the pool route is denied", func(t *testing.T) {
		cfg := targetGroupConfiguration(teamB, "api", func(spec map[string]any) {
			spec["defaultConfiguration"] = map[string]any{"protocol": "TCP"}
		})
		require.NoError(t, k8s.Create(ctx, cfg), "no pool route uses the Service yet")
		t.Cleanup(func() { _ = k8s.Delete(context.Background(), cfg) })
		r := servingRoute(teamB, "api", "/", api)
		var err error
		// The webhook reads configurations from its cache, which follows the create within moments.
		require.Eventually(t, func() bool {
			err = k8s.Create(ctx, r.DeepCopy(), client.DryRunAll)
			return err != nil
		}, 5*time.Second, 50*time.Millisecond, "a dry run of the route is denied once the cache has the configuration")
		err = k8s.Create(ctx, r)
		requireDenial(t, err)
		assert.Contains(t, err.Error(), "spec.rules[0].backendRefs[0]: Forbidden: the Service's TargetGroupConfiguration "+teamB+"/"+cfg.GetName()+
			" sets spec.defaultConfiguration.protocol to \"TCP\", a setting LBC cannot deploy on an ALB")
		assert.Contains(t, err.Error(), "without parentRefs the route is attached to a shared pool Gateway")
		g := backendGRPCRoute(teamB, "api", gatewayParent(gw), api)
		err = k8s.Create(ctx, g)
		require.Error(t, err, "a GRPCRoute naming the pool Gateway too")
		assert.Contains(t, err.Error(), "a setting LBC cannot deploy on an ALB")
	})
	t.Run("an entry for the team's own Gateway's TCPRoutes passes", func(t *testing.T) {
		cfg := targetGroupConfiguration(teamA, "web", func(spec map[string]any) {
			spec["routeConfigurations"] = []any{map[string]any{
				"routeIdentifier":  map[string]any{"kind": "TCPRoute", "namespace": teamA},
				"targetGroupProps": map[string]any{"protocol": "TCP"},
			}}
		})
		require.NoError(t, k8s.Create(ctx, cfg), "LBC applies it to TCPRoutes only")
		require.NoError(t, k8s.Delete(ctx, cfg))
	})
	t.Run("targetType instance for a ClusterIP Service is denied", func(t *testing.T) {
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: teamA, Name: "web"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
		require.NoError(t, k8s.Create(ctx, svc))
		cfg := targetGroupConfiguration(teamA, "web", func(spec map[string]any) {
			spec["defaultConfiguration"] = map[string]any{"targetType": "instance"}
		})
		err := k8s.Create(ctx, cfg)
		assertSettingDenied(t, err, "spec.defaultConfiguration.targetType", "instance")
		assert.Contains(t, err.Error(), "is of type ClusterIP, without NodePorts")
		ok := targetGroupConfiguration(teamA, "web", func(spec map[string]any) {
			spec["defaultConfiguration"] = map[string]any{"targetType": "ip", "healthCheckConfig": map[string]any{"healthCheckPort": "http", "healthCheckInterval": int64(10)}}
		})
		require.NoError(t, k8s.Create(ctx, ok), "targetType ip, a port name of the Service, an interval above LBC's default timeout")
		require.NoError(t, k8s.Delete(ctx, ok))
	})
	t.Run("a health check timeout not shorter than the interval is denied", func(t *testing.T) {
		cfg := targetGroupConfiguration(teamA, "web", func(spec map[string]any) {
			spec["defaultConfiguration"] = map[string]any{"healthCheckConfig": map[string]any{"healthCheckInterval": int64(10), "healthCheckTimeout": int64(10)}}
		})
		assertSettingDenied(t, k8s.Create(ctx, cfg), "spec.defaultConfiguration.healthCheckConfig.healthCheckTimeout", "10")
	})
	t.Run("an empty target group name is denied anywhere", func(t *testing.T) {
		cfg := targetGroupConfiguration(teamB, "unused", func(spec map[string]any) {
			spec["defaultConfiguration"] = map[string]any{"targetGroupName": ""}
		})
		err := k8s.Create(ctx, cfg)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "spec.defaultConfiguration.targetGroupName: Invalid value: \"\": an empty target group name makes LBC ask ELBv2 for a target group without a name")
	})
	assertGatewayStaysAccepted(t, gw)
	assert.Empty(t, env.StandIn.Refusals(gw.Namespace, gw.Name), "the stand-in never refused the shared Gateway")
}
