package webhook

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

func TestOnlyAnUpdateThatRemovesParentRefsIsDetaching(t *testing.T) {
	g1 := v1alpha1.ParentRef(v1alpha1.ObjectRef{Namespace: "gateway-system", Name: "public-1"})
	g2 := v1alpha1.ParentRef(v1alpha1.ObjectRef{Namespace: "gateway-system", Name: "public-2"})
	mine := gwv1.ParentReference{Name: "mine"}
	base := func() *gwv1.HTTPRoute {
		r := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "shop",
			Labels:      map[string]string{"app": "shop"},
			Annotations: map[string]string{v1alpha1.AnnotationAutoAttach: "true", v1alpha1.AnnotationAttachedTo: "gateway-system/public-1,gateway-system/public-2"}}}
		r.Spec.Hostnames = []gwv1.Hostname{"shop.example.com"}
		r.Spec.ParentRefs = []gwv1.ParentReference{g1, mine, g2}
		return r
	}
	tests := []struct {
		name   string
		update func(*gwv1.HTTPRoute)
		want   bool
	}{
		{name: "removing the orchestrator's parentRef and its record entry is detaching", want: true, update: func(r *gwv1.HTTPRoute) {
			r.Spec.ParentRefs = []gwv1.ParentReference{mine, g2}
			r.Annotations[v1alpha1.AnnotationAttachedTo] = "gateway-system/public-2"
		}},
		{name: "removing every parentRef is detaching", want: true, update: func(r *gwv1.HTTPRoute) { r.Spec.ParentRefs = nil }},
		{name: "no change at all is not (bookkeeping covers it)", update: func(*gwv1.HTTPRoute) {}},
		{name: "adding a parentRef is not", update: func(r *gwv1.HTTPRoute) {
			r.Spec.ParentRefs = append(r.Spec.ParentRefs, gwv1.ParentReference{Name: "other"})
		}},
		{name: "swapping a parentRef for another is not", update: func(r *gwv1.HTTPRoute) {
			r.Spec.ParentRefs = []gwv1.ParentReference{mine, {Name: "other"}}
		}},
		{name: "changing a kept parentRef's section is not", update: func(r *gwv1.HTTPRoute) {
			changed := g2
			changed.SectionName = ptr.To(gwv1.SectionName("https"))
			r.Spec.ParentRefs = []gwv1.ParentReference{mine, changed}
		}},
		{name: "removing a parentRef while changing the hostnames is not", update: func(r *gwv1.HTTPRoute) {
			r.Spec.ParentRefs = []gwv1.ParentReference{mine}
			r.Spec.Hostnames = []gwv1.Hostname{"other.example.com"}
		}},
		{name: "removing a parentRef while changing a label is not", update: func(r *gwv1.HTTPRoute) {
			r.Spec.ParentRefs = []gwv1.ParentReference{mine}
			r.Labels["app"] = "other"
		}},
		{name: "removing a parentRef while changing another annotation is not", update: func(r *gwv1.HTTPRoute) {
			r.Spec.ParentRefs = []gwv1.ParentReference{mine}
			r.Annotations[v1alpha1.AnnotationAutoAttach] = "false"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old, r := base(), base()
			tc.update(r)
			assert.Equal(t, tc.want, detaching(old, r, old.Spec, r.Spec, httpRouteRefs))
			assert.Equal(t, base().Spec, old.Spec, "the old route is not changed")
		})
	}
}

func TestDetachingWorksForGRPCRoutes(t *testing.T) {
	old := &gwv1.GRPCRoute{}
	old.Spec.ParentRefs = []gwv1.ParentReference{{Name: "a"}, {Name: "b"}}
	r := old.DeepCopy()
	r.Spec.ParentRefs = r.Spec.ParentRefs[1:]
	assert.True(t, detaching(old, r, old.Spec, r.Spec, grpcRouteRefs))
	assert.Len(t, old.Spec.ParentRefs, 2)
}
