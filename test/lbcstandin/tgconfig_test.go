package lbcstandin

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// LBC fails the build of the whole Gateway when the TargetGroupConfiguration of an attached
// route's Service asks for a target group an ALB cannot take; the stand-in refuses it likewise.
func TestTargetGroupConfigVerdict(t *testing.T) {
	web := types.NamespacedName{Namespace: "team-a", Name: "web"}
	shop := Route{Kind: "HTTPRoute", Namespace: "team-a", Name: "shop", Rules: []RouteRule{{Services: []ServicePort{{Service: web, Port: 80}}}}}
	clusterIP := map[types.NamespacedName]*corev1.Service{web: {ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "web"}}}
	cfg := func(ns, target string, p lbc.TargetGroupProps) lbc.TargetGroupConfiguration {
		return lbc.TargetGroupConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cfg"},
			Spec: lbc.TargetGroupConfigurationSpec{TargetReference: &lbc.TargetReference{Name: target}, DefaultConfiguration: p}}
	}
	for _, tc := range []struct {
		name     string
		cfgs     []lbc.TargetGroupConfiguration
		services map[types.NamespacedName]*corev1.Service
		want     string
	}{
		{"no configuration deploys", nil, nil, ""},
		{"protocol HTTPS deploys", []lbc.TargetGroupConfiguration{cfg("team-a", "web", lbc.TargetGroupProps{Protocol: ptr.To("HTTPS")})}, nil, ""},
		{"protocol TCP is refused", []lbc.TargetGroupConfiguration{cfg("team-a", "web", lbc.TargetGroupProps{Protocol: ptr.To("TCP")})}, nil,
			`HTTPRoute team-a/shop: TargetGroupConfiguration team-a/cfg of Service web: spec.defaultConfiguration.protocol "TCP": an ALB forwards only to target groups of protocol HTTP or HTTPS`},
		{"targetType instance for a ClusterIP Service is refused", []lbc.TargetGroupConfiguration{cfg("team-a", "web", lbc.TargetGroupProps{TargetType: ptr.To("instance")})}, clusterIP,
			`spec.defaultConfiguration.targetType "instance"`},
		{"a health check interval of 400 is refused", []lbc.TargetGroupConfiguration{cfg("team-a", "web", lbc.TargetGroupProps{HealthCheckConfig: &lbc.HealthCheckConfig{HealthCheckInterval: ptr.To(int32(400))}})}, nil,
			`spec.defaultConfiguration.healthCheckConfig.healthCheckInterval "400"`},
		{"a configuration of another namespace's Service of that name does not count", []lbc.TargetGroupConfiguration{cfg("team-b", "web", lbc.TargetGroupProps{Protocol: ptr.To("TCP")})}, nil, ""},
		{"a configuration of another Service does not count", []lbc.TargetGroupConfiguration{cfg("team-a", "api", lbc.TargetGroupProps{Protocol: ptr.To("TCP")})}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := TargetGroupConfigVerdict([]Route{shop}, tc.cfgs, tc.services)
			if tc.want == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, tc.want)
		})
	}
}
