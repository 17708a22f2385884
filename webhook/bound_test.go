package webhook

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

func TestRecordObjectUID(t *testing.T) {
	withObject := func(raw string) context.Context {
		return admission.NewContextWithRequest(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			Object: runtime.RawExtension{Raw: []byte(raw)},
		}})
	}
	cases := []struct {
		name string
		ctx  context.Context
		want string
	}{
		{name: "the admitted object's UID is recorded", ctx: withObject(`{"kind":"HTTPRoute","metadata":{"name":"shop","uid":"u-1"}}`), want: "u-1"},
		{name: "an object without a UID records nothing", ctx: withObject(`{"metadata":{"name":"shop"}}`)},
		{name: "an object that is not JSON records nothing", ctx: withObject(`not json`)},
		{name: "no admission request records nothing", ctx: context.Background()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClaim("shop.example.com", "a", "HTTPRoute a/shop")
			recordObjectUID(tc.ctx, c)
			got, ok := c.Annotations[v1alpha1.AnnotationClaimedForUID]
			assert.Equal(t, tc.want != "", ok)
			assert.Equal(t, tc.want, got)
		})
	}
}
