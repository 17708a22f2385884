package lbc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestALBIncompatibleSettings(t *testing.T) {
	clusterIP := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
	nodePort := clusterIP.DeepCopy()
	nodePort.Spec.Type = corev1.ServiceTypeNodePort
	hc := func(f func(*HealthCheckConfig)) TargetGroupProps {
		h := &HealthCheckConfig{}
		f(h)
		return TargetGroupProps{HealthCheckConfig: h}
	}
	attr := func(k, v string) TargetGroupProps {
		return TargetGroupProps{TargetGroupAttributes: []TargetGroupAttribute{{Key: k, Value: v}}}
	}
	for _, tc := range []struct {
		name  string
		props TargetGroupProps
		svc   *corev1.Service
		want  []string // the paths denied
	}{
		{"nothing set is fine", TargetGroupProps{}, clusterIP, nil},
		{"protocol HTTP and HTTPS are fine", TargetGroupProps{Protocol: ptr.To("HTTPS")}, nil, nil},
		{"protocol TCP is refused", TargetGroupProps{Protocol: ptr.To("TCP")}, nil, []string{"spec.defaultConfiguration.protocol"}},
		{"protocol TCP_UDP is refused", TargetGroupProps{Protocol: ptr.To("TCP_UDP")}, nil, []string{"spec.defaultConfiguration.protocol"}},
		{"targetType instance for a ClusterIP Service is refused", TargetGroupProps{TargetType: ptr.To("instance")}, clusterIP, []string{"spec.defaultConfiguration.targetType"}},
		{"targetType instance for a NodePort Service is fine", TargetGroupProps{TargetType: ptr.To("instance")}, nodePort, nil},
		{"targetType instance for an unknown Service is not judged", TargetGroupProps{TargetType: ptr.To("instance")}, nil, nil},
		{"targetType ip for a ClusterIP Service is fine", TargetGroupProps{TargetType: ptr.To("ip")}, clusterIP, nil},
		{"a target control port with targetType instance is refused", TargetGroupProps{TargetType: ptr.To("instance"), TargetControlPort: ptr.To(int32(3000))}, nodePort, []string{"spec.defaultConfiguration.targetControlPort"}},
		{"an empty target group name is refused", TargetGroupProps{TargetGroupName: ptr.To("")}, nil, []string{"spec.defaultConfiguration.targetGroupName"}},
		{"a target group name with a dot is refused", TargetGroupProps{TargetGroupName: ptr.To("team.web")}, nil, []string{"spec.defaultConfiguration.targetGroupName"}},
		{"a target group name of 33 characters is refused", TargetGroupProps{TargetGroupName: ptr.To("a23456789012345678901234567890123")}, nil, []string{"spec.defaultConfiguration.targetGroupName"}},
		{"a target group name ending in a hyphen is refused", TargetGroupProps{TargetGroupName: ptr.To("web-")}, nil, []string{"spec.defaultConfiguration.targetGroupName"}},
		{"a plain target group name is fine", TargetGroupProps{TargetGroupName: ptr.To("team-a-web")}, nil, nil},
		{"a TCP health check is refused", hc(func(h *HealthCheckConfig) { h.HealthCheckProtocol = ptr.To("TCP") }), nil, []string{"spec.defaultConfiguration.healthCheckConfig.healthCheckProtocol"}},
		{"an interval of 4 is refused", hc(func(h *HealthCheckConfig) {
			h.HealthCheckInterval = ptr.To(int32(4))
			h.HealthCheckTimeout = ptr.To(int32(2))
		}), nil, []string{"spec.defaultConfiguration.healthCheckConfig.healthCheckInterval"}},
		{"an interval of 300 is fine", hc(func(h *HealthCheckConfig) { h.HealthCheckInterval = ptr.To(int32(300)) }), nil, nil},
		{"an interval of 301 is refused", hc(func(h *HealthCheckConfig) { h.HealthCheckInterval = ptr.To(int32(301)) }), nil, []string{"spec.defaultConfiguration.healthCheckConfig.healthCheckInterval"}},
		{"a timeout of 1 is refused", hc(func(h *HealthCheckConfig) { h.HealthCheckTimeout = ptr.To(int32(1)) }), nil, []string{"spec.defaultConfiguration.healthCheckConfig.healthCheckTimeout"}},
		{"a timeout equal to the interval is refused", hc(func(h *HealthCheckConfig) {
			h.HealthCheckInterval = ptr.To(int32(10))
			h.HealthCheckTimeout = ptr.To(int32(10))
		}), nil, []string{"spec.defaultConfiguration.healthCheckConfig.healthCheckTimeout"}},
		{"a timeout above LBC's default interval is refused", hc(func(h *HealthCheckConfig) { h.HealthCheckTimeout = ptr.To(int32(20)) }), nil, []string{"spec.defaultConfiguration.healthCheckConfig.healthCheckTimeout"}},
		{"an interval at LBC's default timeout is refused", hc(func(h *HealthCheckConfig) { h.HealthCheckInterval = ptr.To(int32(5)) }), nil, []string{"spec.defaultConfiguration.healthCheckConfig.healthCheckInterval"}},
		{"thresholds of 1 and 11 are refused", hc(func(h *HealthCheckConfig) {
			h.HealthyThresholdCount = ptr.To(int32(1))
			h.UnhealthyThresholdCount = ptr.To(int32(11))
		}), nil,
			[]string{"spec.defaultConfiguration.healthCheckConfig.healthyThresholdCount", "spec.defaultConfiguration.healthCheckConfig.unhealthyThresholdCount"}},
		{"a path without a leading slash is refused", hc(func(h *HealthCheckConfig) { h.HealthCheckPath = ptr.To("healthz") }), nil, []string{"spec.defaultConfiguration.healthCheckConfig.healthCheckPath"}},
		{"a port of 0 is refused", hc(func(h *HealthCheckConfig) { h.HealthCheckPort = ptr.To("0") }), nil, []string{"spec.defaultConfiguration.healthCheckConfig.healthCheckPort"}},
		{"a port name the Service lacks is refused", hc(func(h *HealthCheckConfig) { h.HealthCheckPort = ptr.To("admin") }), clusterIP, []string{"spec.defaultConfiguration.healthCheckConfig.healthCheckPort"}},
		{"a port name the Service has is fine", hc(func(h *HealthCheckConfig) { h.HealthCheckPort = ptr.To("http") }), clusterIP, nil},
		{"traffic-port is fine", hc(func(h *HealthCheckConfig) { h.HealthCheckPort = ptr.To("traffic-port") }), clusterIP, nil},
		{"HTTP codes 200-499 are fine", hc(func(h *HealthCheckConfig) { h.Matcher = &HealthCheckMatcher{HTTPCode: ptr.To("200,202,300-499")} }), nil, nil},
		{"HTTP code 500 is refused", hc(func(h *HealthCheckConfig) { h.Matcher = &HealthCheckMatcher{HTTPCode: ptr.To("200-500")} }), nil, []string{"spec.defaultConfiguration.healthCheckConfig.matcher.httpCode"}},
		{"gRPC code 100 is refused", hc(func(h *HealthCheckConfig) { h.Matcher = &HealthCheckMatcher{GRPCCode: ptr.To("0,100")} }), nil, []string{"spec.defaultConfiguration.healthCheckConfig.matcher.grpcCode"}},
		{"gRPC codes 0-99 are fine", hc(func(h *HealthCheckConfig) { h.Matcher = &HealthCheckMatcher{GRPCCode: ptr.To("0-99")} }), nil, nil},
		{"an NLB-only attribute is refused", attr("proxy_protocol_v2.enabled", "true"), nil, []string{"spec.defaultConfiguration.targetGroupAttributes[0].key"}},
		{"deregistration delay 3600 is fine", attr("deregistration_delay.timeout_seconds", "3600"), nil, nil},
		{"deregistration delay 3601 is refused", attr("deregistration_delay.timeout_seconds", "3601"), nil, []string{"spec.defaultConfiguration.targetGroupAttributes[0].value"}},
		{"slow start of 10 seconds is refused", attr("slow_start.duration_seconds", "10"), nil, []string{"spec.defaultConfiguration.targetGroupAttributes[0].value"}},
		{"slow start of 0 (disabled) is fine", attr("slow_start.duration_seconds", "0"), nil, nil},
		{"a reserved cookie name is refused", attr("stickiness.app_cookie.cookie_name", "AWSALBAPP-1"), nil, []string{"spec.defaultConfiguration.targetGroupAttributes[0].value"}},
		{"anomaly mitigation without weighted_random is refused", attr("load_balancing.algorithm.anomaly_mitigation", "on"), nil, []string{"spec.defaultConfiguration.targetGroupAttributes[0].value"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &TargetGroupConfiguration{Spec: TargetGroupConfigurationSpec{DefaultConfiguration: tc.props}}
			var got []string
			for _, i := range ALBIncompatible(cfg.Layers("HTTPRoute", "team-a", "shop"), tc.svc) {
				got = append(got, i.Path.String())
				assert.NotEmpty(t, i.Why)
				assert.NotEmpty(t, i.Fix)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// LBC takes the routeConfigurations entry that matches a route best, field by field over the
// defaultConfiguration: a TCPRoute's protocol TCP does not reach an HTTPRoute of the Service.
func TestLayersFollowLBCsLongestMatch(t *testing.T) {
	cfg := &TargetGroupConfiguration{Spec: TargetGroupConfigurationSpec{
		DefaultConfiguration: TargetGroupProps{Protocol: ptr.To("HTTP")},
		RouteConfigurations: []RouteConfiguration{
			{RouteIdentifier: RouteIdentifier{Kind: "TCPRoute"}, TargetGroupProps: TargetGroupProps{Protocol: ptr.To("TCP")}},
			{RouteIdentifier: RouteIdentifier{Kind: "HTTPRoute"}, TargetGroupProps: TargetGroupProps{TargetType: ptr.To("ip")}},
			{RouteIdentifier: RouteIdentifier{Kind: "HTTPRoute", Namespace: "team-a"}, TargetGroupProps: TargetGroupProps{Protocol: ptr.To("TLS")}},
			{RouteIdentifier: RouteIdentifier{Kind: "HTTPRoute", Namespace: "team-a", Name: "other"}, TargetGroupProps: TargetGroupProps{Protocol: ptr.To("UDP")}},
		},
	}}
	assert.Empty(t, ALBIncompatible(cfg.Layers("HTTPRoute", "team-b", "shop"), nil), "kind HTTPRoute: targetType ip over protocol HTTP")
	got := ALBIncompatible(cfg.Layers("HTTPRoute", "team-a", "shop"), nil)
	require.Len(t, got, 1)
	assert.Equal(t, "spec.routeConfigurations[2].targetGroupProps.protocol", got[0].Path.String())
	assert.Equal(t, "TLS", got[0].Value)
	got = ALBIncompatible(cfg.Layers("HTTPRoute", "team-a", "other"), nil)
	require.Len(t, got, 1)
	assert.Equal(t, "UDP", got[0].Value)
	assert.Empty(t, ALBIncompatible(cfg.Layers("GRPCRoute", "team-a", "shop"), nil), "no entry for GRPCRoutes: the default")
}
