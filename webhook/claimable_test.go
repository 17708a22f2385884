package webhook

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

// zonesOnly is a View that knows ManagedZones and nothing else.
type zonesOnly struct {
	ownership.View
	zones []v1alpha1.ManagedZone
}

func (v zonesOnly) Zone(_ context.Context, domain string) (*v1alpha1.ManagedZone, error) {
	for i := range v.zones {
		if v.zones[i].Spec.Domain == domain {
			return &v.zones[i], nil
		}
	}
	return nil, nil
}

func (v zonesOnly) Namespace(context.Context, string) (*corev1.Namespace, error) {
	return nil, nil
}

func TestClaimReadsOnlyTheWildcardsAdmissionCouldGrant(t *testing.T) {
	zone := func(domain string, allow bool) v1alpha1.ManagedZone {
		return v1alpha1.ManagedZone{ObjectMeta: metav1.ObjectMeta{Name: domain}, Spec: v1alpha1.ManagedZoneSpec{Domain: domain, AllowZoneWildcard: allow}}
	}
	tests := []struct {
		name     string
		hostname string
		zones    []v1alpha1.ManagedZone
		wantGets []string
	}{
		{name: "a name directly below a zone without zone wildcards reads nothing", hostname: "shop.example.com",
			zones: []v1alpha1.ManagedZone{zone("example.com", false)}},
		{name: "a name directly below a zone that allows its wildcard reads that wildcard", hostname: "shop.example.com",
			zones: []v1alpha1.ManagedZone{zone("example.com", true)}, wantGets: []string{"wc--wildcard.example.com"}},
		{name: "a deeper name reads the wildcards inside the zone only", hostname: "app.team.example.com",
			zones: []v1alpha1.ManagedZone{zone("example.com", false)}, wantGets: []string{"wc--wildcard.team.example.com"}},
		{name: "no zone, no read", hostname: "app.team.example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			scheme := runtime.NewScheme()
			require.NoError(t, v1alpha1.AddToScheme(scheme))
			var gets []string
			k := fake.NewClientBuilder().WithScheme(scheme).WithInterceptorFuncs(interceptor.Funcs{
				Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
					gets = append(gets, key.Name)
					return c.Get(ctx, key, obj, opts...)
				}}).Build()
			c := &Claimer{Client: k, APIReader: k, View: zonesOnly{zones: tc.zones}}

			d, _, err := c.Claim(context.Background(), ownership.Decision{Verdict: ownership.Claim, Hostname: tc.hostname}, "team-a", "HTTPRoute team-a/r")

			require.NoError(t, err)
			assert.Equal(t, ownership.Allow, d.Verdict)
			assert.ElementsMatch(t, tc.wantGets, gets)
		})
	}
}
