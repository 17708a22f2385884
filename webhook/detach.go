package webhook

import (
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// detaching reports whether a route update only removes parentRefs, and changes no label and
// no annotation but the orchestrator's AnnotationAttachedTo record: such an update makes the
// route serve less, so a hostname the route can no longer use (transferred, released) must not
// wedge it. The routes reconciler detaches routes this way from pool Gateways that seat none of
// their hostnames any more. refs returns the parentRefs of a spec; the specs are copies.
func detaching[S any](old, obj metav1.Object, oldSpec, spec S, refs func(*S) *[]gwv1.ParentReference) bool {
	before, after := *refs(&oldSpec), *refs(&spec)
	*refs(&oldSpec), *refs(&spec) = nil, nil
	return len(after) < len(before) && subsequence(after, before) &&
		equality.Semantic.DeepEqual(oldSpec, spec) &&
		equality.Semantic.DeepEqual(old.GetLabels(), obj.GetLabels()) &&
		equality.Semantic.DeepEqual(withoutRecord(old.GetAnnotations()), withoutRecord(obj.GetAnnotations()))
}

// subsequence reports whether every parentRef of a is in b, in b's order.
func subsequence(a, b []gwv1.ParentReference) bool {
	j := 0
	for _, ref := range a {
		for j < len(b) && !equality.Semantic.DeepEqual(ref, b[j]) {
			j++
		}
		if j == len(b) {
			return false
		}
		j++
	}
	return true
}

func withoutRecord(annotations map[string]string) map[string]string {
	if _, ok := annotations[v1alpha1.AnnotationAttachedTo]; !ok {
		return annotations
	}
	out := make(map[string]string, len(annotations))
	for k, v := range annotations {
		if k != v1alpha1.AnnotationAttachedTo {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func httpRouteRefs(s *gwv1.HTTPRouteSpec) *[]gwv1.ParentReference { return &s.ParentRefs }

func grpcRouteRefs(s *gwv1.GRPCRouteSpec) *[]gwv1.ParentReference { return &s.ParentRefs }
