package gatewaypool

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestASeatCountsAnHTTPRoutesRulesOnEveryListenerItAttachesTo(t *testing.T) {
	c := testClaim(1) // h0001.example.com of team-a
	host := gwv1.Hostname(c.Spec.Hostname)
	six := func(name string, refs ...gwv1.ParentReference) gwv1.HTTPRoute {
		rt := gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: name}}
		rt.Spec.Hostnames, rt.Spec.ParentRefs = []gwv1.Hostname{host}, refs
		for range 3 {
			rt.Spec.Rules = append(rt.Spec.Rules, gwv1.HTTPRouteRule{Matches: make([]gwv1.HTTPRouteMatch, 2)})
		}
		return rt
	}
	rpc := gwv1.GRPCRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "rpc"}}
	rpc.Spec.Hostnames = []gwv1.Hostname{host}
	rpc.Spec.Rules = []gwv1.GRPCRouteRule{{Matches: make([]gwv1.GRPCRouteMatch, 4)}}
	section := func(s string) gwv1.ParentReference {
		return gwv1.ParentReference{Name: "public-1", Namespace: ptr.To(gwv1.Namespace("gateway-system")), SectionName: ptr.To(gwv1.SectionName(s))}
	}
	for _, tc := range []struct {
		name  string
		http  bool
		https []gwv1.HTTPRoute
		want  int32
	}{
		{"without the HTTP listener an HTTPRoute counts once", false, []gwv1.HTTPRoute{six("web")}, 6 + 4},
		{"with the HTTP listener an HTTPRoute counts on HTTPS and HTTP, the GRPCRoute on HTTPS only", true, []gwv1.HTTPRoute{six("web")}, 12 + 4},
		{"a route naming the claim's HTTPS listener counts once", true, []gwv1.HTTPRoute{six("web", section(c.Name))}, 6 + 4},
		{"a route naming the claim's HTTP listener counts once", true, []gwv1.HTTPRoute{six("web", section("80--"+c.Name))}, 6 + 4},
		{"another namespace's route counts nothing", true, []gwv1.HTTPRoute{func() gwv1.HTTPRoute { r := six("web"); r.Namespace = "team-b"; return r }()}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := seat(c, tc.https, []gwv1.GRPCRoute{rpc}, map[string]bool{c.Name: true}, tc.http)
			assert.Equal(t, tc.want, got.Rules)
		})
	}
}
