package lbcstandin

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/internal/albrules"
	"github.com/opendi/gateway-orchestrator/reconciler/gatewaypool"
)

// TestThePoolCountsTheRulesTheStandInBuilds seats 16 hostnames, each with an HTTPRoute of 3 rules
// x 2 matches and a GRPCRoute of 2 methods, on one pool Gateway, with and without the HTTP
// listener: the rules albrules counts for the seats are the rules the stand-in builds, on every
// port together (the ALB quota is per load balancer).
func TestThePoolCountsTheRulesTheStandInBuilds(t *testing.T) {
	for _, http := range []bool{false, true} {
		t.Run(fmt.Sprintf("httpListener=%v", http), func(t *testing.T) {
			var seats []gatewaypool.Seated
			var attached []Route
			var hosts []map[int32][]string
			counted := int32(0)
			for i := 0; i < 16; i++ {
				h := fmt.Sprintf("r%02d.example.com", i)
				seats = append(seats, gatewaypool.Seated{Claim: h, Hostname: h, Namespace: "team-a"})
				hr := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "web-" + h}}
				hr.Spec.Hostnames = []gwv1.Hostname{gwv1.Hostname(h)}
				hr.Spec.ParentRefs = []gwv1.ParentReference{{Name: "public-1", Namespace: ptr.To(gwv1.Namespace("gateway-system"))}}
				for j := 0; j < 3; j++ {
					hr.Spec.Rules = append(hr.Spec.Rules, gwv1.HTTPRouteRule{Matches: []gwv1.HTTPRouteMatch{
						{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To(fmt.Sprintf("/a%d", j))}},
						{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchExact), Value: ptr.To(fmt.Sprintf("/b%d", j))}},
					}})
				}
				gr := &gwv1.GRPCRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "rpc-" + h}}
				gr.Spec.Hostnames, gr.Spec.ParentRefs = hr.Spec.Hostnames, hr.Spec.ParentRefs
				gr.Spec.Rules = []gwv1.GRPCRouteRule{{Matches: []gwv1.GRPCRouteMatch{
					{Method: &gwv1.GRPCMethodMatch{Service: ptr.To("shop.Cart"), Method: ptr.To("Get")}},
					{Method: &gwv1.GRPCMethodMatch{Service: ptr.To("shop.Cart"), Method: ptr.To("Put")}},
				}}}
				counted += albrules.HTTPRoute(hr, h, http) + albrules.GRPCRoute(gr)
				attached = append(attached, fromHTTPRoute(hr), fromGRPCRoute(gr))
			}
			gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "gateway-system", Name: "public-1"},
				Spec: gwv1.GatewaySpec{Listeners: gatewaypool.Listeners(seats, http)}}
			for _, rt := range attached {
				a := Attach(gw, rt, map[string]string{"kubernetes.io/metadata.name": "team-a"})
				assert.True(t, a.Accepted, "%s %s: %s", rt.Kind, rt.Name, a.Reason)
				hosts = append(hosts, a.Hosts)
			}
			built := BuildRules(attached, hosts)
			assert.Equal(t, len(built), int(counted), "the pool counts what LBC builds")
			want := 16 * (6 + 2)
			if http {
				want = 16 * (6 + 6 + 2) // the HTTPRoute's on HTTP:80 too; the GRPCRoute on HTTPS only
			}
			assert.Len(t, built, want)
		})
	}
}
