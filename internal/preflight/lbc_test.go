package preflight_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/preflight"
)

func TestLBCKindsAreCheckedOnlyWhenAPoolExists(t *testing.T) {
	s := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(s))
	pool := &v1alpha1.GatewayPool{ObjectMeta: metav1.ObjectMeta{Name: "shared"}}
	withLBC := meta.NewDefaultRESTMapper(nil)
	for _, k := range preflight.LBCKinds {
		withLBC.Add(k, meta.RESTScopeNamespace)
	}
	withoutLBC := meta.NewDefaultRESTMapper([]schema.GroupVersion{{Group: "gateway.k8s.aws", Version: "v1beta1"}})

	for _, tc := range []struct {
		name   string
		pools  []client.Object
		mapper meta.RESTMapper
		want   string
	}{
		{"no pool and no LBC is fine: admission and DNS need no LBC", nil, withoutLBC, ""},
		{"a pool with LBC's kinds served is fine", []client.Object{pool}, withLBC, ""},
		{"a pool without LBC's kinds names the pool and the missing kind", []client.Object{pool}, withoutLBC,
			"GatewayPool shared exists, but the API server does not serve LoadBalancerConfiguration (gateway.k8s.aws/v1beta1): install the AWS Load Balancer Controller"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fake.NewClientBuilder().WithScheme(s).WithObjects(tc.pools...).Build()
			err := preflight.LBC(context.Background(), r, tc.mapper)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
