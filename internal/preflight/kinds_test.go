package preflight_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/preflight"
)

func TestKindsNamesWhatToInstallForEveryMissingCRD(t *testing.T) {
	gwGV := schema.GroupVersion{Group: gwv1.GroupName, Version: "v1"}
	ours := []string{"DomainClaim", "ManagedZone", "GatewayPool"}
	gatewayAPI := []string{"GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute"}
	mapper := func(ourKinds, gatewayKinds []string) meta.RESTMapper {
		m := meta.NewDefaultRESTMapper([]schema.GroupVersion{v1alpha1.GroupVersion, gwGV})
		for _, k := range ourKinds {
			m.Add(v1alpha1.GroupVersion.WithKind(k), meta.RESTScopeRoot)
		}
		for _, k := range gatewayKinds {
			m.Add(gwGV.WithKind(k), meta.RESTScopeNamespace)
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		mapper meta.RESTMapper
		want   []string
	}{
		{"every CRD installed passes", mapper(ours, gatewayAPI), nil},
		{"no Gateway API CRDs names them and the install step", mapper(ours, nil), []string{
			"the API server does not serve GatewayClass, Gateway, HTTPRoute, GRPCRoute (gateway.networking.k8s.io/v1): install the Gateway API CRDs, standard channel v1.1 or later"}},
		{"a Gateway API older than v1.1 (no GRPCRoute v1) names GRPCRoute alone", mapper(ours, gatewayAPI[:3]), []string{
			"the API server does not serve GRPCRoute (gateway.networking.k8s.io/v1)"}},
		{"a missing CRD of the orchestrator's own names it and the chart", mapper(ours[:2], gatewayAPI), []string{
			"the API server does not serve GatewayPool (gateway.opendi.com/v1alpha1): install the orchestrator's CRDs"}},
		{"nothing installed names both", mapper(nil, nil), []string{
			"does not serve DomainClaim, ManagedZone, GatewayPool (gateway.opendi.com/v1alpha1)",
			"does not serve GatewayClass, Gateway, HTTPRoute, GRPCRoute (gateway.networking.k8s.io/v1)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := preflight.Kinds(tc.mapper)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}
