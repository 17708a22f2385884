package routes

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

func TestAutoAttached(t *testing.T) {
	for _, tc := range []struct {
		name        string
		annotations map[string]string
		refs        int
		owned       bool
		want        bool
	}{
		{"a route without mark or parentRefs whose hostnames its namespace owns", nil, 0, true, true},
		{"a route with a hostname its namespace does not own", nil, 0, false, false},
		{"a route with parentRefs of its own", nil, 1, true, false},
		{"a route marked true, even with parentRefs and foreign hostnames", map[string]string{v1alpha1.AnnotationAutoAttach: "true"}, 2, false, true},
		{"a route marked false", map[string]string{v1alpha1.AnnotationAutoAttach: "false"}, 0, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, AutoAttached(tc.annotations, tc.refs, tc.owned))
		})
	}
}
