package gatewaypool

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestListeners(t *testing.T) {
	t.Run("a Gateway without seats has one listener for its own namespace only", func(t *testing.T) {
		ls := Listeners(nil, false)
		require.Len(t, ls, 1)
		assert.Nil(t, ls[0].Hostname)
		assert.Equal(t, gwv1.NamespacesFromSame, *ls[0].AllowedRoutes.Namespaces.From)
	})
	t.Run("each seat gets an HTTPS listener named like its claim, for its owner only", func(t *testing.T) {
		ls := Listeners([]Seated{
			{Claim: "wc--wildcard.example.com", Hostname: "*.example.com", Namespace: "team-b"},
			{Claim: "shop.example.com", Hostname: "shop.example.com", Namespace: "team-a"},
		}, false)
		require.Len(t, ls, 2)
		assert.Equal(t, gwv1.SectionName("shop.example.com"), ls[0].Name, "sorted by claim name")
		assert.Equal(t, gwv1.Hostname("shop.example.com"), *ls[0].Hostname)
		assert.Equal(t, gwv1.PortNumber(443), ls[0].Port)
		assert.Equal(t, map[string]string{"kubernetes.io/metadata.name": "team-a"}, ls[0].AllowedRoutes.Namespaces.Selector.MatchLabels)
		assert.Equal(t, gwv1.Hostname("*.example.com"), *ls[1].Hostname)
		kinds := []gwv1.Kind{}
		for _, k := range ls[1].AllowedRoutes.Kinds {
			kinds = append(kinds, k.Kind)
		}
		assert.Equal(t, []gwv1.Kind{"HTTPRoute", "GRPCRoute"}, kinds, "kinds pinned, not LBC's default")
	})
	t.Run("HTTP adds a port 80 listener per seat under a name no claim can have", func(t *testing.T) {
		ls := Listeners([]Seated{{Claim: "shop.example.com", Hostname: "shop.example.com", Namespace: "team-a"}}, true)
		require.Len(t, ls, 2)
		assert.Equal(t, gwv1.SectionName("80--shop.example.com"), ls[1].Name)
		assert.Equal(t, gwv1.PortNumber(80), ls[1].Port)
		assert.Len(t, ls[1].AllowedRoutes.Kinds, 1, "HTTPRoute only: ALB serves gRPC over HTTPS")
	})
}
