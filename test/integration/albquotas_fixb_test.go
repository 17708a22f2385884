package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// LBC v3.0 to v3.4.2 builds one ALB rule per match whose host-header condition holds all the
// route's hostnames, so each hostname is one of the 5 condition values of every match: 4
// hostnames and a PathPrefix /api need 6, as do 5 hostnames and no matches (the API server
// defaults that to PathPrefix /, "/*"). ELBv2 refuses such a rule and LBC's deploy of the shared
// Gateway fails for every team; admission denies it on the pool, and 5 values pass.
func TestFixBEveryHostnameOfARouteCountsAsAConditionValueOfEachMatch(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	ns := tenant(t)
	hosts := func(prefix string, n int) []string {
		var out []string
		for i := 0; i < n; i++ {
			out = append(out, fmt.Sprintf("%s-%d.%s", prefix, i, z.Spec.Domain))
		}
		return out
	}
	prefix := func(v string) []gwv1.HTTPRouteMatch {
		return []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To(v)}}}
	}

	r := route(ns, hosts("four-api", 4)...)
	r.Spec.Rules = []gwv1.HTTPRouteRule{{Matches: prefix("/api")}}
	err := k8s.Create(ctx, r)
	requireDenial(t, err)
	assert.Contains(t, err.Error(), "spec.rules[0].matches[0]: Forbidden: the match needs 6 ALB condition values (one per hostname of the route")

	r = route(ns, hosts("five-all", 5)...)
	r.Spec.Rules = []gwv1.HTTPRouteRule{{}}
	err = k8s.Create(ctx, r)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the match needs 6 ALB condition values")

	g := grpcRoute(ns, hosts("five-grpc", 5)...)
	g.Spec.Rules = []gwv1.GRPCRouteRule{{Matches: []gwv1.GRPCRouteMatch{{Method: &gwv1.GRPCMethodMatch{Service: ptr.To("shop.Cart")}}}}}
	err = k8s.Create(ctx, g)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "spec.rules[0].matches[0]: Forbidden: the match needs 6 ALB condition values")

	r = route(ns, hosts("four-all", 4)...)
	r.Spec.Rules = []gwv1.HTTPRouteRule{{}}
	require.NoError(t, k8s.Create(ctx, r), "4 hostnames and /* are 5 values")

	own := hosts("own-four-api", 4)
	gw := createOwnGateway(t, ns, own...)
	r = route(ns, own...)
	r.Spec.ParentRefs = []gwv1.ParentReference{{Name: gwv1.ObjectName(gw.Name)}}
	r.Spec.Rules = []gwv1.HTTPRouteRule{{Matches: prefix("/api")}}
	require.NoError(t, k8s.Create(ctx, r), "on the team's own Gateway it is LBC's business")
	require.Eventually(t, func() bool {
		for _, v := range env.StandIn.Refusals(ns, gw.Name) {
			if strings.Contains(v, "HTTPRoute "+ns+"/"+r.Name+" has a match needing 6 ALB condition values, more than the 5 an ALB rule holds") {
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "the stand-in, as strict as ELBv2, refuses that team's own Gateway")
}

// The quotas guard the shared pool ALB, so they apply to a route the routes reconciler attaches
// there (routes.AutoAttached) and to one naming a pool Gateway, not to every route without
// parentRefs: a route marked auto-attach "false" is never attached and passes. A route marked
// "true" is attached even with parentRefs of its own, so it is denied, where before it passed and
// the reconciler's attaching write was then denied forever.
func TestFixBALBQuotasApplyToTheRoutesTheReconcilerAttachesToThePool(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t)
	ns := tenant(t)

	h := "not-attached." + z.Spec.Domain
	r := route(ns, h)
	r.Annotations = map[string]string{v1alpha1.AnnotationAutoAttach: "false"}
	r.Spec.Rules = []gwv1.HTTPRouteRule{{BackendRefs: backendRefs(6)}}
	require.NoError(t, k8s.Create(ctx, r), "a route the reconciler never attaches is not on the pool")

	h = "marked-own-gateway." + z.Spec.Domain
	gw := createOwnGateway(t, ns, h)
	r = route(ns, h)
	r.Annotations = map[string]string{v1alpha1.AnnotationAutoAttach: "true"}
	r.Spec.ParentRefs = []gwv1.ParentReference{{Name: gwv1.ObjectName(gw.Name)}}
	r.Spec.Rules = []gwv1.HTTPRouteRule{{BackendRefs: backendRefs(6)}}
	err := k8s.Create(ctx, r)
	requireDenial(t, err)
	assert.Contains(t, err.Error(), "6 backendRefs in one rule")
	assert.Contains(t, err.Error(), "the route is marked "+v1alpha1.AnnotationAutoAttach+"=true: it is attached to a shared pool Gateway")
}
