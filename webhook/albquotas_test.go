package webhook

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func hostnamesN(n int) []gwv1.Hostname {
	out := make([]gwv1.Hostname, n)
	for i := range out {
		out[i] = gwv1.Hostname(fmt.Sprintf("h%d.example.com", i))
	}
	return out
}

// LBC v3.0 to v3.4.2 puts all of a route's hostnames into the one host-header condition of each
// match's ALB rule, so every hostname is a condition value of every match.
func TestShapesCountEveryHostnameOfTheRouteInEachMatch(t *testing.T) {
	prefix := func(v string) []gwv1.HTTPRouteMatch {
		return []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To(v)}}}
	}
	for _, tc := range []struct {
		name      string
		hostnames int
		matches   []gwv1.HTTPRouteMatch
		want      []int
	}{
		{"four hostnames and a PathPrefix /api need 4 + 2", 4, prefix("/api"), []int{6}},
		{"five hostnames and no matches need 5 + /*", 5, nil, []int{6}},
		{"four hostnames and no matches need 4 + /*", 4, nil, []int{5}},
		{"three hostnames and a PathPrefix / need 3 + /*", 3, prefix("/"), []int{4}},
		{"no hostnames count as one", 0, prefix("/api"), []int{3}},
		{"one hostname, a prefix and two headers", 1, []gwv1.HTTPRouteMatch{{
			Path:    &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To("/api")},
			Headers: []gwv1.HTTPHeaderMatch{{Name: "a", Value: "1"}, {Name: "b", Value: "2"}}}}, []int{5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &gwv1.HTTPRoute{}
			r.Spec.Hostnames = hostnamesN(tc.hostnames)
			r.Spec.Rules = []gwv1.HTTPRouteRule{{Matches: tc.matches}}
			assert.Equal(t, tc.want, httpShapes(r)[0].matches)
		})
	}
}

func TestGRPCShapesCountEveryHostnameOfTheRouteInEachMatch(t *testing.T) {
	for _, tc := range []struct {
		name      string
		hostnames int
		matches   []gwv1.GRPCRouteMatch
		want      []int
	}{
		{"five hostnames and a method need 5 + its path", 5, []gwv1.GRPCRouteMatch{{Method: &gwv1.GRPCMethodMatch{Service: ptr.To("shop.Cart")}}}, []int{6}},
		{"five hostnames and no matches need 5 + /*", 5, nil, []int{6}},
		{"two hostnames, a method and two headers", 2, []gwv1.GRPCRouteMatch{{
			Method:  &gwv1.GRPCMethodMatch{Service: ptr.To("shop.Cart")},
			Headers: []gwv1.GRPCHeaderMatch{{Name: "a", Value: "1"}, {Name: "b", Value: "2"}}}}, []int{5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &gwv1.GRPCRoute{}
			r.Spec.Hostnames = hostnamesN(tc.hostnames)
			r.Spec.Rules = []gwv1.GRPCRouteRule{{Matches: tc.matches}}
			assert.Equal(t, tc.want, grpcShapes(r)[0].matches)
		})
	}
}
