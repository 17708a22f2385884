package webhook

import (
	"testing"

	"github.com/stretchr/testify/assert"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

func TestGroupCatchAll(t *testing.T) {
	rule0 := field.NewPath("spec", "rules").Index(0)
	shop := GroupMember{Namespace: "team-a", Name: "shop", Managed: []string{"shop.example.com"}}
	catchAllOf := func(ns string) GroupMember { return GroupMember{Namespace: ns, Name: "fallback", CatchAll: rule0} }
	for name, tc := range map[string]struct {
		group  string
		self   GroupMember
		others []GroupMember
		want   []string
	}{
		"a catch-all joining another namespace's managed hostname is denied": {
			group: "shared", self: catchAllOf("team-c"), others: []GroupMember{shop},
			want: []string{`spec.rules[0]: Forbidden: IngressGroup "shared" serves hostname "shop.example.com" of namespace team-a; an Ingress of namespace team-c in that group may not have a rule without host, a defaultBackend or a host-header pattern in a conditions annotation (it would receive that hostname's traffic)`},
		},
		"a managed hostname joining another namespace's catch-all is denied": {
			group: "shared", self: shop, others: []GroupMember{catchAllOf("team-c")},
			want: []string{`metadata.annotations[alb.ingress.kubernetes.io/group.name]: Forbidden: IngressGroup "shared" has a rule without host, a defaultBackend or a host-header pattern in Ingress fallback of namespace team-c, which would receive the traffic of hostname "shop.example.com"; use a group of this namespace's own, or no group`},
		},
		"a catch-all next to its own namespace's hostnames is allowed": {
			group: "shared", self: catchAllOf("team-a"), others: []GroupMember{shop},
		},
		"hostnames next to their own namespace's catch-all are allowed": {
			group: "shared", self: shop, others: []GroupMember{catchAllOf("team-a")},
		},
		"an Ingress in no group is never denied": {
			group: "", self: catchAllOf("team-c"), others: []GroupMember{shop},
		},
		"a catch-all next to another namespace's unmanaged hostnames is allowed": {
			group: "shared", self: catchAllOf("team-c"), others: []GroupMember{{Namespace: "team-a", Name: "legacy"}},
		},
		"hostnames of other namespaces in the group without a catch-all are allowed": {
			group: "shared", self: shop, others: []GroupMember{{Namespace: "team-b", Name: "blog", Managed: []string{"blog.example.com"}}},
		},
		"one denial per other namespace, naming each one's hostnames once": {
			group: "shared", self: catchAllOf("team-c"),
			others: []GroupMember{
				{Namespace: "team-b", Name: "blog", Managed: []string{"blog.example.com"}},
				shop,
				{Namespace: "team-a", Name: "shop-2", Managed: []string{"shop.example.com", "api.example.com"}},
			},
			want: []string{
				`spec.rules[0]: Forbidden: IngressGroup "shared" serves hostnames "shop.example.com", "api.example.com" of namespace team-a; an Ingress of namespace team-c in that group may not have a rule without host, a defaultBackend or a host-header pattern in a conditions annotation (it would receive that hostname's traffic)`,
				`spec.rules[0]: Forbidden: IngressGroup "shared" serves hostname "blog.example.com" of namespace team-b; an Ingress of namespace team-c in that group may not have a rule without host, a defaultBackend or a host-header pattern in a conditions annotation (it would receive that hostname's traffic)`,
			},
		},
		"an Ingress with both a catch-all and hostnames is denied both ways": {
			group: "shared",
			self:  GroupMember{Namespace: "team-c", Name: "both", CatchAll: field.NewPath("spec", "defaultBackend"), Managed: []string{"c.example.com"}},
			others: []GroupMember{
				shop,
				{Namespace: "team-b", Name: "fallback", CatchAll: rule0},
			},
			want: []string{
				`spec.defaultBackend: Forbidden: IngressGroup "shared" serves hostname "shop.example.com" of namespace team-a; an Ingress of namespace team-c in that group may not have a rule without host, a defaultBackend or a host-header pattern in a conditions annotation (it would receive that hostname's traffic)`,
				`metadata.annotations[alb.ingress.kubernetes.io/group.name]: Forbidden: IngressGroup "shared" has a rule without host, a defaultBackend or a host-header pattern in Ingress fallback of namespace team-b, which would receive the traffic of hostname "c.example.com"; use a group of this namespace's own, or no group`,
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, e := range GroupCatchAll(tc.group, tc.self, tc.others) {
				got = append(got, e.Error())
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestCatchAllIsWhatLBCServesWithoutAHostCondition(t *testing.T) {
	paths := &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{Path: "/"}}}
	backend := &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web"}}
	for name, tc := range map[string]struct {
		spec networkingv1.IngressSpec
		want string
	}{
		"hosts only":          {networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "a.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: paths}}}}, ""},
		"a rule without host": {networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "a.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: paths}}, {IngressRuleValue: networkingv1.IngressRuleValue{HTTP: paths}}}}, "spec.rules[1]"},
		"a defaultBackend":    {networkingv1.IngressSpec{DefaultBackend: backend}, "spec.defaultBackend"},
		"a hostless rule with no paths (LBC skips it)": {networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{}}}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			got := catchAll(&networkingv1.Ingress{Spec: tc.spec})
			if tc.want == "" {
				assert.Nil(t, got)
				return
			}
			assert.Equal(t, tc.want, got.String())
		})
	}
}

func TestGroupOfFollowsLBCsPrecedence(t *testing.T) {
	classes := map[string]string{"shared-alb": "imposed", "": "default-group"}
	annotated := map[string]string{lbc.IngressGroupAnnotation: "named"}
	for name, tc := range map[string]struct {
		annotations map[string]string
		class       *string
		want, path  string
	}{
		"the class's IngressClassParams win over the annotation": {annotated, ptr.To("shared-alb"), "imposed", "spec.ingressClassName"},
		"a class without a group leaves the annotation's":        {annotated, ptr.To("alb"), "named", "metadata.annotations[alb.ingress.kubernetes.io/group.name]"},
		"no class takes the default class's group":               {nil, nil, "default-group", "spec.ingressClassName"},
		"the class annotation classifies it: no IngressClassParams": {
			map[string]string{lbc.IngressClassAnnotation: "alb", lbc.IngressGroupAnnotation: "named"}, nil, "named", "metadata.annotations[alb.ingress.kubernetes.io/group.name]",
		},
		"no group at all": {nil, ptr.To("alb"), "", "metadata.annotations[alb.ingress.kubernetes.io/group.name]"},
	} {
		t.Run(name, func(t *testing.T) {
			ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Annotations: tc.annotations}, Spec: networkingv1.IngressSpec{IngressClassName: tc.class}}
			g, p := groupOf(ing, classes)
			assert.Equal(t, tc.want, g)
			assert.Equal(t, tc.path, p.String())
		})
	}
}
