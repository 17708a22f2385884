package lbc

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Incompatibility is a target group setting that makes LBC's build or deploy of an ALB fail: the
// field, its value, why, and what to do instead.
type Incompatibility struct {
	Path  *field.Path
	Value string
	Why   string
	Fix   string
}

// ELBv2 CreateTargetGroup / ModifyTargetGroup ranges for an ALB target group (the API reference
// of CreateTargetGroupInput and Matcher).
const (
	MinHealthCheckInterval = 5
	MaxHealthCheckInterval = 300
	MinHealthCheckTimeout  = 2
	MaxHealthCheckTimeout  = 120
	MinThresholdCount      = 2
	MaxThresholdCount      = 10
	// MaxHealthCheckPath is the longest health check path ELBv2 takes.
	MaxHealthCheckPath = 1024
	// MaxTargetGroupName is the longest target group name ELBv2 takes.
	MaxTargetGroupName = 32
)

// LBC v3's health check defaults (pkg/gateway/model newTargetGroupBuilder), which a
// healthCheckConfig that sets only one of interval and timeout is compared with.
const (
	lbcDefaultInterval = 15
	lbcDefaultTimeout  = 5
)

// NeedsService reports whether deciding layers needs the Service they configure: targetType
// instance needs its NodePorts, a named health check port its port names.
func NeedsService(layers []PropsLayer) bool {
	for _, l := range layers {
		p := l.Props
		if p.TargetType != nil && *p.TargetType == "instance" {
			return true
		}
		if hc := p.HealthCheckConfig; hc != nil && hc.HealthCheckPort != nil {
			if _, err := strconv.Atoi(*hc.HealthCheckPort); err != nil && *hc.HealthCheckPort != "traffic-port" {
				return true
			}
		}
	}
	return false
}

// ALBIncompatible lists the settings of layers (Layers: highest first) with which LBC v3 cannot
// build or deploy the target group of an ALB, so that its deploy of the whole Gateway fails.
// svc is the Service configured, nil when it is unknown (its checks are skipped then). Each field
// is judged where it takes effect, the first layer that sets it; target group attributes are
// judged in every layer. Checked:
//   - protocol other than HTTP or HTTPS (LBC: "backend protocol must be within [HTTP, HTTPS]");
//   - targetType instance for a Service without NodePorts (LBC: "TargetGroup port is empty");
//   - targetControlPort with targetType instance (LBC refuses it);
//   - a target group name ELBv2 refuses (empty, over 32 characters, other than letters, digits
//     and inner hyphens);
//   - a health check ELBv2 refuses for an HTTP(S) target group: protocol TCP, interval outside
//     5-300, timeout outside 2-120 or not below the interval, thresholds outside 2-10, a path
//     not starting with "/" or over 1024 characters, a port that is neither traffic-port, 1-65535
//     nor a port name of the Service, HTTP codes outside 200-499, gRPC codes outside 0-99;
//   - target group attributes an ALB's instance or ip target group does not take, or values
//     outside their ranges.
func ALBIncompatible(layers []PropsLayer, svc *corev1.Service) []Incompatibility {
	var out []Incompatibility
	add := func(p *field.Path, v, why, fix string) {
		out = append(out, Incompatibility{Path: p, Value: v, Why: why, Fix: fix})
	}
	if v, p := first(layers, func(t *TargetGroupProps) *string { return t.Protocol }, "protocol"); v != nil && *v != "HTTP" && *v != "HTTPS" {
		add(p, *v, "an ALB forwards only to target groups of protocol HTTP or HTTPS, and LBC refuses to build any other for it",
			"use HTTP or HTTPS, or remove it")
	}
	targetType, ttPath := first(layers, func(t *TargetGroupProps) *string { return t.TargetType }, "targetType")
	instance := targetType != nil && *targetType == "instance"
	if instance && svc != nil && !hasNodePorts(svc) {
		add(ttPath, *targetType, fmt.Sprintf("LBC registers the nodes on the Service's NodePort, and Service %s is of type %s, without NodePorts (LBC: TargetGroup port is empty)", svc.Name, serviceType(svc)),
			"use targetType ip, or make the Service of type NodePort")
	}
	if v, p := first(layers, func(t *TargetGroupProps) *int32 { return t.TargetControlPort }, "targetControlPort"); v != nil && instance {
		add(p, strconv.Itoa(int(*v)), "LBC refuses a target control port for a target group of targetType instance",
			"remove it, or use targetType ip")
	}
	for _, l := range layers {
		if n := l.Props.TargetGroupName; n != nil {
			if why := badTargetGroupName(*n); why != "" {
				add(l.Path.Child("targetGroupName"), *n, why, "choose a name of 1 to 32 letters, digits and inner hyphens, or remove it")
			}
		}
	}
	for _, l := range layers {
		if hc := l.Props.HealthCheckConfig; hc != nil {
			out = append(out, healthCheck(l.Path.Child("healthCheckConfig"), hc, svc)...)
			break // LBC takes the health check as a whole from the first layer that sets it
		}
	}
	for _, l := range layers {
		out = append(out, attributes(l.Path.Child("targetGroupAttributes"), l.Props.TargetGroupAttributes)...)
	}
	return out
}

// first is the value of the first layer that sets the field get reads, and that field's path.
func first[T any](layers []PropsLayer, get func(*TargetGroupProps) *T, name string) (*T, *field.Path) {
	for _, l := range layers {
		if v := get(l.Props); v != nil {
			return v, l.Path.Child(name)
		}
	}
	return nil, nil
}

func serviceType(svc *corev1.Service) string {
	if svc.Spec.Type == "" {
		return string(corev1.ServiceTypeClusterIP)
	}
	return string(svc.Spec.Type)
}

func hasNodePorts(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer
}

var targetGroupNameChars = regexp.MustCompile(`^[A-Za-z0-9-]*$`)

func badTargetGroupName(n string) string {
	switch {
	case n == "":
		return "LBC would ask ELBv2 for a target group without a name, which it refuses"
	case len(n) > MaxTargetGroupName:
		return fmt.Sprintf("ELBv2 refuses target group names longer than %d characters", MaxTargetGroupName)
	case !targetGroupNameChars.MatchString(n) || strings.HasPrefix(n, "-") || strings.HasSuffix(n, "-"):
		return "ELBv2 takes only letters, digits and hyphens in a target group name, and no hyphen at its start or end"
	}
	return ""
}

func healthCheck(p *field.Path, hc *HealthCheckConfig, svc *corev1.Service) []Incompatibility {
	var out []Incompatibility
	add := func(f string, v any, why, fix string) {
		out = append(out, Incompatibility{Path: p.Child(f), Value: fmt.Sprint(v), Why: why, Fix: fix})
	}
	ranged := func(f string, v *int32, lo, hi int32, what string) {
		if v != nil && (*v < lo || *v > hi) {
			add(f, *v, fmt.Sprintf("ELBv2 takes a health check %s of %d to %d", what, lo, hi), fmt.Sprintf("use a value from %d to %d, or remove it", lo, hi))
		}
	}
	if v := hc.HealthCheckProtocol; v != nil && *v == "TCP" {
		add("healthCheckProtocol", *v, "ELBv2 refuses TCP health checks for a target group of protocol HTTP or HTTPS, the only ones an ALB takes",
			"use HTTP or HTTPS, or remove it")
	}
	ranged("healthCheckInterval", hc.HealthCheckInterval, MinHealthCheckInterval, MaxHealthCheckInterval, "interval (seconds)")
	ranged("healthCheckTimeout", hc.HealthCheckTimeout, MinHealthCheckTimeout, MaxHealthCheckTimeout, "timeout (seconds)")
	ranged("healthyThresholdCount", hc.HealthyThresholdCount, MinThresholdCount, MaxThresholdCount, "healthy threshold")
	ranged("unhealthyThresholdCount", hc.UnhealthyThresholdCount, MinThresholdCount, MaxThresholdCount, "unhealthy threshold")
	interval, timeout := int32(lbcDefaultInterval), int32(lbcDefaultTimeout)
	if hc.HealthCheckInterval != nil {
		interval = *hc.HealthCheckInterval
	}
	if hc.HealthCheckTimeout != nil {
		timeout = *hc.HealthCheckTimeout
	}
	if timeout >= interval && (hc.HealthCheckInterval != nil || hc.HealthCheckTimeout != nil) {
		f, v := "healthCheckTimeout", timeout
		if hc.HealthCheckTimeout == nil {
			f, v = "healthCheckInterval", interval
		}
		add(f, v, fmt.Sprintf("ELBv2 needs the health check interval (%ds) greater than the timeout (%ds; LBC's defaults are %ds and %ds)", interval, timeout, lbcDefaultInterval, lbcDefaultTimeout),
			"make the timeout shorter than the interval")
	}
	if v := hc.HealthCheckPath; v != nil && (!strings.HasPrefix(*v, "/") || len(*v) > MaxHealthCheckPath) {
		add("healthCheckPath", *v, fmt.Sprintf("ELBv2 takes a health check path that starts with \"/\", of at most %d characters", MaxHealthCheckPath), "start it with \"/\"")
	}
	if v := hc.HealthCheckPort; v != nil && *v != "traffic-port" {
		if n, err := strconv.Atoi(*v); err == nil {
			if n < 1 || n > 65535 {
				add("healthCheckPort", *v, "ELBv2 takes a health check port of 1 to 65535", "use traffic-port, a port number, or a port name of the Service")
			}
		} else if svc != nil && !hasPortName(svc, *v) {
			add("healthCheckPort", *v, fmt.Sprintf("Service %s has no port of that name, and LBC fails to build the target group", svc.Name), "use traffic-port, a port number, or a port name of the Service")
		}
	}
	if m := hc.Matcher; m != nil {
		if m.HTTPCode != nil && !codes(*m.HTTPCode, 200, 499) {
			add("matcher.httpCode", *m.HTTPCode, "ELBv2 takes HTTP codes from 200 to 499 for an ALB target group, as a code, a list (200,202) or a range (200-299)", "use codes from 200 to 499")
		}
		if m.GRPCCode != nil && !codes(*m.GRPCCode, 0, 99) {
			add("matcher.grpcCode", *m.GRPCCode, "ELBv2 takes gRPC codes from 0 to 99, as a code, a list (0,1) or a range (0-5)", "use codes from 0 to 99")
		}
	}
	return out
}

func hasPortName(svc *corev1.Service, name string) bool {
	for _, p := range svc.Spec.Ports {
		if p.Name == name {
			return true
		}
	}
	return false
}

// codes reports whether s is a list of codes or ranges of codes, all within lo..hi.
func codes(s string, lo, hi int) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(part, "-")
		from, err := strconv.Atoi(a)
		if err != nil {
			return false
		}
		to := from
		if isRange {
			if to, err = strconv.Atoi(b); err != nil || to < from {
				return false
			}
		}
		if from < lo || to > hi {
			return false
		}
	}
	return true
}

// albAttributes are the target group attributes ELBv2 takes for an ALB's target group of target
// type instance or ip (TargetGroupAttribute in the ELBv2 API reference), each with a check of its
// value that returns what is wrong, or "". NLB-only, Lambda-only and Gateway Load Balancer-only
// attributes are refused for such a target group.
var albAttributes = map[string]func(string) string{
	"deregistration_delay.timeout_seconds":                                           intIn(0, 3600),
	"stickiness.enabled":                                                             oneOf("true", "false"),
	"stickiness.type":                                                                oneOf("lb_cookie", "app_cookie"),
	"load_balancing.cross_zone.enabled":                                              oneOf("true", "false", "use_load_balancer_configuration"),
	"target_group_health.dns_failover.minimum_healthy_targets.count":                 offOr(intIn(1, 1<<31-1)),
	"target_group_health.dns_failover.minimum_healthy_targets.percentage":            offOr(intIn(1, 100)),
	"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count":      intIn(1, 1<<31-1),
	"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": offOr(intIn(1, 100)),
	"load_balancing.algorithm.type":                                                  oneOf("round_robin", "least_outstanding_requests", "weighted_random"),
	"load_balancing.algorithm.anomaly_mitigation":                                    oneOf("on", "off"),
	"slow_start.duration_seconds": func(v string) string {
		if v == "0" {
			return "" // the default: disabled
		}
		return intIn(30, 900)(v)
	},
	"stickiness.app_cookie.cookie_name": func(v string) string {
		if v == "" || strings.HasPrefix(strings.ToUpper(v), "AWSALB") {
			return "a cookie name that is not empty and does not start with AWSALB, AWSALBAPP or AWSALBTG (reserved for the load balancer)"
		}
		return ""
	},
	"stickiness.app_cookie.duration_seconds": intIn(1, 604800),
	"stickiness.lb_cookie.duration_seconds":  intIn(1, 604800),
}

func intIn(lo, hi int) func(string) string {
	return func(v string) string {
		if n, err := strconv.Atoi(v); err != nil || n < lo || n > hi {
			return fmt.Sprintf("an integer from %d to %d", lo, hi)
		}
		return ""
	}
}

func oneOf(values ...string) func(string) string {
	return func(v string) string {
		for _, w := range values {
			if v == w {
				return ""
			}
		}
		return "one of " + strings.Join(values, ", ")
	}
}

func offOr(f func(string) string) func(string) string {
	return func(v string) string {
		if v == "off" {
			return ""
		}
		if want := f(v); want != "" {
			return "off or " + want
		}
		return ""
	}
}

func attributes(p *field.Path, attrs []TargetGroupAttribute) []Incompatibility {
	var out []Incompatibility
	algorithm := ""
	for _, a := range attrs {
		if a.Key == "load_balancing.algorithm.type" {
			algorithm = a.Value
		}
	}
	for i, a := range attrs {
		check, ok := albAttributes[a.Key]
		switch {
		case !ok:
			out = append(out, Incompatibility{Path: p.Index(i).Child("key"), Value: a.Key,
				Why: "ELBv2 takes no target group attribute of that name for an ALB's target group of target type instance or ip", Fix: "remove it"})
		case check(a.Value) != "":
			out = append(out, Incompatibility{Path: p.Index(i).Child("value"), Value: a.Value,
				Why: fmt.Sprintf("ELBv2 takes %s for %s", check(a.Value), a.Key), Fix: "use a value ELBv2 takes, or remove the attribute"})
		case a.Key == "load_balancing.algorithm.anomaly_mitigation" && a.Value == "on" && algorithm != "weighted_random":
			out = append(out, Incompatibility{Path: p.Index(i).Child("value"), Value: a.Value,
				Why: "ELBv2 takes anomaly mitigation only with load_balancing.algorithm.type weighted_random", Fix: "set the algorithm to weighted_random, or remove it"})
		}
	}
	return out
}
