package lbcstandin

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/types"
)

func TestTargetGroupsAreCountedPerRouteServiceAndPort(t *testing.T) {
	svc := func(name string, port int32) ServicePort {
		return ServicePort{Service: types.NamespacedName{Namespace: "team-a", Name: name}, Port: port}
	}
	routes := []Route{
		{Kind: "HTTPRoute", Namespace: "team-a", Name: "shop", Rules: []RouteRule{
			{Services: []ServicePort{svc("web", 80)}},
			{Services: []ServicePort{svc("web", 80), svc("web", 8080)}}, // the same Service and port again: one target group
		}},
		{Kind: "HTTPRoute", Namespace: "team-a", Name: "blog", Rules: []RouteRule{{Services: []ServicePort{svc("web", 80)}}}}, // another route: its own
		{Kind: "GRPCRoute", Namespace: "team-a", Name: "shop", Rules: []RouteRule{{Services: []ServicePort{svc("web", 80)}}}}, // another kind: its own
	}
	assert.Equal(t, 4, TargetGroups(routes))
	assert.Equal(t, 0, TargetGroups(nil))
}
