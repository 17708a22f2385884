package webhook

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// configJSON is a LoadBalancerConfiguration as the API server sends it, with fields of LBC's
// schema the orchestrator does not declare (they must not stop the decoding).
func configJSON(ns string, labels, listeners string) []byte {
	return []byte(`{"apiVersion":"gateway.k8s.aws/v1beta1","kind":"LoadBalancerConfiguration",
		"metadata":{"name":"cfg","namespace":"` + ns + `","labels":` + labels + `},
		"spec":{"scheme":"internet-facing","loadBalancerSubnets":[{"identifier":"subnet-1"}],"wafV2":{"webACL":"acl"},
		"listenerConfigurations":` + listeners + `}}`)
}

func TestLoadBalancerConfigurationCertificates(t *testing.T) {
	scheme := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(scheme))
	claim := func(name, ns, host, arn string) *v1alpha1.DomainClaim {
		return &v1alpha1.DomainClaim{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       v1alpha1.DomainClaimSpec{Hostname: host, Namespace: ns},
			Status:     v1alpha1.DomainClaimStatus{CertificateARN: arn},
		}
	}
	pool := &v1alpha1.GatewayPool{ObjectMeta: metav1.ObjectMeta{Name: "public"}, Spec: v1alpha1.GatewayPoolSpec{Namespace: "gateway-system"}}
	k := fake.NewClientBuilder().WithScheme(scheme).
		WithObjects(claim("shop", "team-a", "shop.example.com", "arn:shop"), claim("c", "team-c", "c.example.com", "arn:c"), pool).
		WithStatusSubresource(&v1alpha1.DomainClaim{}).
		WithIndex(&v1alpha1.DomainClaim{}, index.ClaimCertificateARN, index.ClaimCertificateARNKeys).Build()
	s := runtime.NewScheme()
	s.AddKnownTypeWithName(lbc.GroupVersionKind, &lbc.LoadBalancerConfiguration{})
	hook := admission.WithValidator[*lbc.LoadBalancerConfiguration](s, &LoadBalancerConfigValidator{Reader: k})

	for name, tc := range map[string]struct {
		ns, labels, listeners string
		old                   []byte
		want                  []string
	}{
		"no certificates": {ns: "team-c", listeners: `[{"protocolPort":"HTTPS:443","sslPolicy":"p"}]`},
		"its own claim's certificate and an ARN that is no claim's": {ns: "team-c",
			listeners: `[{"protocolPort":"HTTPS:443","defaultCertificate":"arn:c","certificates":["arn:other",null]}]`},
		"another namespace's certificate as default and in the list, each named": {ns: "team-c",
			listeners: `[{"protocolPort":"HTTP:80"},{"protocolPort":"HTTPS:443","defaultCertificate":"arn:shop","certificates":["arn:c","arn:shop"],"alpnPolicy":"None"}]`,
			want: []string{
				`spec.listenerConfigurations[1].defaultCertificate: Forbidden: certificate arn:shop is the certificate of hostname "shop.example.com", owned by namespace team-a; a LoadBalancerConfiguration of namespace team-c may not put it on its load balancer (DomainClaim shop)`,
				`spec.listenerConfigurations[1].certificates[1]: Forbidden: certificate arn:shop is the certificate of hostname "shop.example.com", owned by namespace team-a`,
			}},
		"the pool's own configuration in the pool's namespace": {ns: "gateway-system", labels: `{"gateway.opendi.com/pool":"public"}`,
			listeners: `[{"protocolPort":"HTTPS:443","defaultCertificate":"arn:shop","certificates":["arn:c"]}]`},
		"the pool's label in a tenant namespace proves nothing": {ns: "team-c", labels: `{"gateway.opendi.com/pool":"public"}`,
			listeners: `[{"protocolPort":"HTTPS:443","certificates":["arn:shop"]}]`,
			want:      []string{`spec.listenerConfigurations[0].certificates[0]: Forbidden: certificate arn:shop`}},
		"an update that changes neither spec, labels nor annotations is not judged again": {ns: "team-c",
			old:       configJSON("team-c", `{}`, `[{"protocolPort":"HTTPS:443","certificates":["arn:shop"]}]`),
			listeners: `[{"protocolPort":"HTTPS:443","certificates":["arn:shop"]}]`},
		"an update of the listeners is judged again": {ns: "team-c",
			old:       configJSON("team-c", `{}`, `[{"protocolPort":"HTTPS:443","certificates":["arn:shop"]}]`),
			listeners: `[{"protocolPort":"HTTPS:443","certificates":["arn:shop"],"sslPolicy":"p"}]`,
			want:      []string{`spec.listenerConfigurations[0].certificates[0]: Forbidden: certificate arn:shop`}},
	} {
		t.Run(name, func(t *testing.T) {
			labels := tc.labels
			if labels == "" {
				labels = "{}"
			}
			req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
				Operation: admissionv1.Create,
				Object:    runtime.RawExtension{Raw: configJSON(tc.ns, labels, tc.listeners)},
			}}
			if tc.old != nil {
				req.Operation, req.OldObject = admissionv1.Update, runtime.RawExtension{Raw: tc.old}
			}
			resp := hook.Handle(context.Background(), req)
			if len(tc.want) == 0 {
				assert.True(t, resp.Allowed, "%+v", resp.Result)
				return
			}
			require.False(t, resp.Allowed)
			require.NotNil(t, resp.Result.Details)
			require.Len(t, resp.Result.Details.Causes, len(tc.want), "%+v", resp.Result.Details.Causes)
			assert.Equal(t, "LoadBalancerConfiguration", resp.Result.Details.Kind)
			for i, w := range tc.want {
				c := resp.Result.Details.Causes[i]
				assert.Contains(t, c.Field+": "+c.Message, w)
			}
		})
	}
}
