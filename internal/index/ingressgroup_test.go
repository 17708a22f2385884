package index

import (
	"testing"

	"github.com/stretchr/testify/assert"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

func TestIngressGroupKeys(t *testing.T) {
	for name, tc := range map[string]struct {
		annotations map[string]string
		class       *string
		want        []string
	}{
		"a class and a group":               {map[string]string{lbc.IngressGroupAnnotation: "shared"}, ptr.To("alb"), []string{"group/shared", "class/alb"}},
		"no class: the default class's key": {nil, nil, []string{"class/"}},
		"the class annotation classifies it, so no IngressClassParams apply": {
			map[string]string{lbc.IngressClassAnnotation: "alb", lbc.IngressGroupAnnotation: "shared"}, nil, []string{"group/shared"},
		},
		"an invalid group name is no group": {map[string]string{lbc.IngressGroupAnnotation: "Shared"}, ptr.To("alb"), []string{"class/alb"}},
	} {
		t.Run(name, func(t *testing.T) {
			ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Annotations: tc.annotations}, Spec: networkingv1.IngressSpec{IngressClassName: tc.class}}
			assert.Equal(t, tc.want, IngressGroupKeys(ing))
		})
	}
}
