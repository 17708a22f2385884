package lbcstandin

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestWidestMatchCountsEveryHostnameOfThePortInEachMatch(t *testing.T) {
	hr := &gwv1.HTTPRoute{}
	hr.Name, hr.Namespace = "api", "team-a"
	hr.Spec.Rules = []gwv1.HTTPRouteRule{{Matches: []gwv1.HTTPRouteMatch{
		{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To("/")}},
		{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To("/api")}},
	}}}
	rt := fromHTTPRoute(hr)
	four := map[int32][]string{443: {"a.example.com", "b.example.com", "c.example.com", "d.example.com"}}

	got, n := WidestMatch([]Route{rt}, []map[int32][]string{four})
	assert.Equal(t, 6, n, "4 hostnames and a PathPrefix /api's two values")
	assert.Equal(t, "api", got.Name)

	_, n = WidestMatch([]Route{rt}, []map[int32][]string{{443: {"a.example.com", "b.example.com", "c.example.com"}}})
	assert.Equal(t, 5, n)

	_, n = WidestMatch([]Route{rt}, []map[int32][]string{{443: {""}}})
	assert.Equal(t, 2, n, "a catch-all has no host condition")

	gr := &gwv1.GRPCRoute{}
	gr.Spec.Rules = []gwv1.GRPCRouteRule{{Matches: []gwv1.GRPCRouteMatch{{
		Method:  &gwv1.GRPCMethodMatch{Service: ptr.To("shop.Cart")},
		Headers: []gwv1.GRPCHeaderMatch{{Name: "x", Value: "1"}}}}}}
	_, n = WidestMatch([]Route{fromGRPCRoute(gr)}, []map[int32][]string{four})
	assert.Equal(t, 6, n, "4 hostnames, the method's path and a header")

	_, n = WidestMatch([]Route{{Rules: []RouteRule{{}}}}, []map[int32][]string{four})
	assert.Equal(t, 5, n, "a rule without matches is /*")
}
