package claim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

func bound(reason, msg string) func(*v1alpha1.DomainClaim) {
	return func(c *v1alpha1.DomainClaim) {
		c.Status.Conditions = append(c.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionBound, Status: metav1.ConditionTrue, Reason: reason, Message: msg})
	}
}

func admin(p v1alpha1.ProvisionPolicy) func(*v1alpha1.DomainClaim) {
	return func(c *v1alpha1.DomainClaim) {
		c.Spec.ClaimedBy, c.Spec.Provision = v1alpha1.ClaimedByAdmin, p
	}
}

func transferredTo(ns string) func(*v1alpha1.DomainClaim) {
	return func(c *v1alpha1.DomainClaim) { c.Spec.Namespace = ns }
}

func TestPlanBind(t *testing.T) {
	at := t0.Add(5 * time.Minute)
	cases := []struct {
		name        string
		claim       *v1alpha1.DomainClaim
		routes      []string
		tlsRoutes   []string
		releaseAt   *time.Time
		want        bool
		wantReason  string
		wantMessage []string
		wantNot     string
	}{
		{name: "a route claim whose object exists is bound by it", claim: routeClaim(), routes: []string{"HTTPRoute a/shop", "Ingress a/web"},
			want: true, wantReason: v1alpha1.ReasonObjectExists, wantMessage: []string{"bound by HTTPRoute a/shop"}},
		{name: "a route claim whose object the API server refused stays unbound and says when it is released",
			claim: routeClaim(func(c *v1alpha1.DomainClaim) {
				c.Annotations = map[string]string{v1alpha1.AnnotationClaimedFor: "HTTPRoute a/shop"}
			}), releaseAt: &at,
			wantReason: v1alpha1.ReasonUnbound, wantMessage: []string{"namespace a", "nothing is provisioned", "made for HTTPRoute a/shop", "2026-11-26T12:05:00Z"}},
		{name: "a TLSRoute binds nothing: it takes no pool seat and provisions nothing", claim: routeClaim(), tlsRoutes: []string{"TLSRoute a/db"},
			wantReason: v1alpha1.ReasonUnbound, wantNot: "TLSRoute"},
		{name: "an admin claim listed only by a TLSRoute stays unbound", claim: routeClaim(admin("")), tlsRoutes: []string{"TLSRoute a/db"},
			wantReason: v1alpha1.ReasonUnbound},
		{name: "a bound claim stays bound when its routes go, naming what bound it", claim: routeClaim(bound(v1alpha1.ReasonObjectExists, "bound by HTTPRoute a/shop")),
			want: true, wantReason: v1alpha1.ReasonObjectExists, wantMessage: []string{"bound by HTTPRoute a/shop"}},
		{name: "a bound claim keeps the object that bound it first", claim: routeClaim(bound(v1alpha1.ReasonObjectExists, "bound by HTTPRoute a/shop")),
			routes: []string{"HTTPRoute a/other"}, want: true, wantReason: v1alpha1.ReasonObjectExists, wantMessage: []string{"bound by HTTPRoute a/shop"}},
		{name: "a claim transferred to namespace b is bound by b's object, not a's", claim: routeClaim(bound(v1alpha1.ReasonObjectExists, "bound by HTTPRoute a/shop"), transferredTo("b")),
			routes: []string{"Ingress b/web"}, want: true, wantReason: v1alpha1.ReasonObjectExists, wantMessage: []string{"bound by Ingress b/web"}, wantNot: "a/shop"},
		{name: "a claim transferred to a namespace none of whose objects uses it says it was bound before", claim: routeClaim(bound(v1alpha1.ReasonObjectExists, "bound by HTTPRoute a/shop"), transferredTo("b")),
			want: true, wantReason: v1alpha1.ReasonObjectExists, wantMessage: []string{"bound before the transfer to b"}, wantNot: "a/shop"},
		{name: "a namespace prefix is not the namespace", claim: routeClaim(bound(v1alpha1.ReasonObjectExists, "bound by HTTPRoute ab/shop")),
			want: true, wantReason: v1alpha1.ReasonObjectExists, wantMessage: []string{"bound before the transfer to a"}, wantNot: "ab/shop"},
		{name: "a claim transferred twice names the latest transfer", claim: routeClaim(bound(v1alpha1.ReasonObjectExists, "bound before the transfer to b"), transferredTo("c")),
			want: true, wantReason: v1alpha1.ReasonObjectExists, wantMessage: []string{"bound before the transfer to c"}},
		{name: "after the transfer the new namespace's first user is named once it comes", claim: routeClaim(bound(v1alpha1.ReasonObjectExists, "bound before the transfer to a")),
			routes: []string{"HTTPRoute a/new"}, want: true, wantReason: v1alpha1.ReasonObjectExists, wantMessage: []string{"bound by HTTPRoute a/new"}},
		{name: "an admin claim without provision stays unbound and says how to provision it", claim: routeClaim(admin("")),
			wantReason: v1alpha1.ReasonUnbound, wantMessage: []string{"spec.provision: Always"}},
		{name: "an admin claim set to WhenBound stays unbound", claim: routeClaim(admin(v1alpha1.ProvisionWhenBound)),
			wantReason: v1alpha1.ReasonUnbound},
		{name: "an admin claim set to Always is bound", claim: routeClaim(admin(v1alpha1.ProvisionAlways)),
			want: true, wantReason: v1alpha1.ReasonProvisionAlways, wantMessage: []string{"spec.provision is Always"}},
		{name: "an admin claim used by a route is bound by it", claim: routeClaim(admin("")), routes: []string{"GRPCRoute a/api"},
			want: true, wantReason: v1alpha1.ReasonObjectExists, wantMessage: []string{"bound by GRPCRoute a/api"}},
		{name: "a route claim cannot bind itself with Always", claim: routeClaim(func(c *v1alpha1.DomainClaim) { c.Spec.Provision = v1alpha1.ProvisionAlways }),
			wantReason: v1alpha1.ReasonUnbound},
		{name: "a claim that held a certificate before binding existed keeps it", claim: routeClaim(func(c *v1alpha1.DomainClaim) { c.Status.CertificateARN = "arn:cert" }),
			want: true, wantReason: v1alpha1.ReasonProvisionedBefore, wantMessage: []string{"arn:cert"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := PlanBind(tc.claim, Usage{Routes: tc.routes, TLSRoutes: tc.tlsRoutes, Now: t0}, Release{ReleaseAt: tc.releaseAt})
			assert.Equal(t, tc.want, got.Bound)
			assert.Equal(t, tc.wantReason, got.Reason)
			for _, m := range tc.wantMessage {
				assert.Contains(t, got.Message, m)
			}
			if tc.wantNot != "" {
				assert.NotContains(t, got.Message, tc.wantNot)
			}
			assert.Equal(t, tc.want, v1alpha1.ProvisioningAllowed(withBinding(tc.claim, got)), "ProvisioningAllowed follows Bound")
		})
	}
}

func withBinding(c *v1alpha1.DomainClaim, b Binding) *v1alpha1.DomainClaim {
	c = c.DeepCopy()
	setCondition(&c.Status, c.Generation, v1alpha1.ConditionBound, b.Bound, b.Reason, b.Message)
	return c
}
