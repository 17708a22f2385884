package ownership

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

func TestDecideLoadBalancerName(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	meta := func(ns, name string, created time.Time) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(ns + "/" + name), CreationTimestamp: metav1.NewTime(created)}
	}
	gateway := func(ns, name, pool string) ALBHolder {
		return ALBHolder{Object: &gwv1.Gateway{ObjectMeta: meta(ns, name, t0)}, Kind: "Gateway", Pool: pool, On: true}
	}
	ingress := func(ns, name, group string) ALBHolder {
		return ALBHolder{Object: &networkingv1.Ingress{ObjectMeta: meta(ns, name, t0)}, Kind: "Ingress", Group: group}
	}
	on := func(h ALBHolder) ALBHolder { h.On = true; return h }
	later := func(h ALBHolder) ALBHolder {
		h.Object.SetCreationTimestamp(metav1.NewTime(t0.Add(time.Hour)))
		return h
	}
	const generated = "k8s-teama-web-0123456789"
	for _, tc := range []struct {
		name       string
		group, alb string
		self       types.UID
		since      time.Time
		holders    []ALBHolder
		reason     string
		holder     string // namespace/name of the verdict's holder
	}{
		{name: "a name nobody has and of no generated shape is the tenant's own", alb: "team-b-shop"},
		{name: "no name, no decision", alb: ""},
		{name: "a pool Gateway's ALB is denied, naming the pool Gateway",
			alb: "k8s-gateways-public1-0123456789", holders: []ALBHolder{gateway("gateway-system", "public-1", "public")},
			reason: v1alpha1.ReasonPoolLoadBalancerName, holder: "gateway-system/public-1"},
		{name: "a pool Gateway's ALB is denied even when the tenant is on it too",
			alb: "shared", holders: []ALBHolder{ingress("team-b", "web", ""), gateway("gateway-system", "public-1", "public")},
			reason: v1alpha1.ReasonPoolLoadBalancerName, holder: "gateway-system/public-1"},
		{name: "another tenant's own Gateway ALB is denied, naming that Gateway",
			alb: "team-a-alb", holders: []ALBHolder{gateway("team-a", "own", "")},
			reason: v1alpha1.ReasonForeignLoadBalancerName, holder: "team-a/own"},
		{name: "another tenant's Ingress ALB (or the name its annotation took first) is denied",
			alb: generated, holders: []ALBHolder{ingress("team-a", "web", "")},
			reason: v1alpha1.ReasonForeignLoadBalancerName, holder: "team-a/web"},
		{name: "another tenant's ALB is denied even when the tenant is on it too (a takeover admitted earlier)",
			alb: "team-a-alb", holders: []ALBHolder{ingress("team-b", "web", ""), gateway("team-a", "own", "")},
			reason: v1alpha1.ReasonForeignLoadBalancerName, holder: "team-a/own"},
		{name: "the ALB of the tenant's own Gateway may be named (pinning it), generated shape or not",
			alb: generated, holders: []ALBHolder{gateway("team-b", "own", "")}},
		{name: "an IngressGroup shared across namespaces is one ALB by design",
			group: "shared", alb: "k8s-shared-0123456789", holders: []ALBHolder{ingress("team-a", "web", "shared")}},
		{name: "another group's Ingress is another namespace's ALB",
			group: "mine", alb: "grouped", holders: []ALBHolder{ingress("team-a", "web", "shared")},
			reason: v1alpha1.ReasonForeignLoadBalancerName, holder: "team-a/web"},
		{name: "an object that named another namespace's ALB first keeps it (the later namer is the intruder)",
			alb: "team-b-alb", self: "team-b/web", since: t0.Add(-time.Minute), holders: []ALBHolder{ingress("team-b", "web", ""), later(ingress("team-a", "web", ""))}},
		{name: "but a holder created before the subject began to name the ALB came first",
			alb: "team-a-alb", self: "team-b/web", since: t0.Add(time.Minute), holders: []ALBHolder{ingress("team-b", "web", ""), ingress("team-a", "web", "")},
			reason: v1alpha1.ReasonForeignLoadBalancerName, holder: "team-a/web"},
		{name: "an object that named first another namespace's later Ingress's generated ALB does not keep it",
			alb: generated, self: "team-b/web", since: t0.Add(-time.Minute), holders: []ALBHolder{ingress("team-b", "web", ""), later(on(ingress("team-a", "web", "")))},
			reason: v1alpha1.ReasonForeignLoadBalancerName, holder: "team-a/web"},
		{name: "an Ingress may name the generated ALB it is on (pinning it)",
			alb: generated, self: "team-b/web", since: t0, holders: []ALBHolder{on(ingress("team-b", "web", ""))}},
		{name: "an Ingress that only names a generated-shape ALB (its old self in the cache) does not make it its own",
			alb: generated, self: "team-b/web", since: t0, holders: []ALBHolder{ingress("team-b", "web", "")},
			reason: v1alpha1.ReasonGeneratedLoadBalancerName},
		{name: "another Ingress of the namespace naming a generated-shape name makes it the namespace's",
			alb: generated, holders: []ALBHolder{ingress("team-b", "other", "")}},
		{name: "a generated-shape name nobody is on yet is denied (a future pool Gateway's or Ingress's)",
			alb: "k8s-gateways-public3-abcdef0123", reason: v1alpha1.ReasonGeneratedLoadBalancerName},
		{name: "the generated shape is matched whatever the case", alb: "K8S-GATEWAYS-PUBLIC3-ABCDEF0123",
			reason: v1alpha1.ReasonGeneratedLoadBalancerName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := DecideLoadBalancerName(NameSubject{Namespace: "team-b", Group: tc.group, UID: tc.self, Since: tc.since}, tc.alb, tc.holders)
			assert.Equal(t, tc.reason, v.Reason)
			if tc.holder == "" {
				assert.Nil(t, v.Holder)
				return
			}
			if assert.NotNil(t, v.Holder) {
				assert.Equal(t, tc.holder, v.Holder.Object.GetNamespace()+"/"+v.Holder.Object.GetName())
			}
		})
	}
}
