package lbc

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestRoundTrip(t *testing.T) {
	u := NewUnstructured()
	u.SetNamespace("gateway-system")
	u.SetName("public-1")
	require.NoError(t, unstructured.SetNestedField(u.Object, "internet-facing", "spec", "scheme"))
	require.NoError(t, unstructured.SetNestedSlice(u.Object, []any{
		map[string]any{"protocolPort": "HTTPS:443", "defaultCertificate": "arn:a", "certificates": []any{"arn:b", "arn:c"}, "sslPolicy": "p"},
	}, "spec", "listenerConfigurations"))

	c, err := FromUnstructured(u)
	require.NoError(t, err)
	assert.Equal(t, "public-1", c.Name)
	assert.Equal(t, "internet-facing", c.Spec.Scheme)
	l := c.Spec.Listener("HTTPS:443")
	require.NotNil(t, l)
	assert.Equal(t, ListenerConfiguration{ProtocolPort: "HTTPS:443", DefaultCertificate: "arn:a", Certificates: []string{"arn:b", "arn:c"}, SSLPolicy: "p"}, *l)
	assert.Nil(t, c.Spec.Listener("HTTP:80"))

	back, err := c.ToUnstructured()
	require.NoError(t, err)
	assert.Equal(t, GroupVersionKind, back.GroupVersionKind())
	certs, _, _ := unstructured.NestedStringSlice(back.Object, "spec", "listenerConfigurations")
	assert.Nil(t, certs, "a list of objects is not a string slice")
	entries, _, _ := unstructured.NestedSlice(back.Object, "spec", "listenerConfigurations")
	assert.Equal(t, []any{map[string]any{"protocolPort": "HTTPS:443", "defaultCertificate": "arn:a", "certificates": []any{"arn:b", "arn:c"}, "sslPolicy": "p"}}, entries)
}

func TestMutateKeepsMetadataAndDropsEmptyFields(t *testing.T) {
	u := NewUnstructured()
	u.SetName("public-1")
	u.SetResourceVersion("7")
	require.NoError(t, Mutate(u, func(c *LoadBalancerConfiguration) error {
		c.Spec.EnsureListener("HTTPS:443").Certificates = []string{"arn:x"}
		c.Spec.EnsureListener("HTTPS:443").SSLPolicy = "p"
		return nil
	}))
	assert.Equal(t, "7", u.GetResourceVersion())
	entries, _, _ := unstructured.NestedSlice(u.Object, "spec", "listenerConfigurations")
	assert.Equal(t, []any{map[string]any{"protocolPort": "HTTPS:443", "certificates": []any{"arn:x"}, "sslPolicy": "p"}}, entries)
	_, found, _ := unstructured.NestedString(u.Object, "spec", "scheme")
	assert.False(t, found, "an unset field is not written")
}

func TestExplicitIngressGroup(t *testing.T) {
	for name, tc := range map[string]struct {
		annotations map[string]string
		want        string
	}{
		"no annotations":                  {nil, ""},
		"a valid name":                    {map[string]string{IngressGroupAnnotation: "shared.web-1"}, "shared.web-1"},
		"upper case is not a group (LBC)": {map[string]string{IngressGroupAnnotation: "Shared"}, ""},
		"a name ending in a dash":         {map[string]string{IngressGroupAnnotation: "shared-"}, ""},
		"64 characters are too many":      {map[string]string{IngressGroupAnnotation: strings.Repeat("a", 64)}, ""},
		"63 characters are enough":        {map[string]string{IngressGroupAnnotation: strings.Repeat("a", 63)}, strings.Repeat("a", 63)},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, ExplicitIngressGroup(tc.annotations))
		})
	}
}

func TestClassParamsGroup(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	assert.Empty(t, ClassParamsGroup(u), "no spec.group")
	require.NoError(t, unstructured.SetNestedField(u.Object, "shared", "spec", "group", "name"))
	assert.Equal(t, "shared", ClassParamsGroup(u))
	require.NoError(t, unstructured.SetNestedField(u.Object, "Shared", "spec", "group", "name"))
	assert.Empty(t, ClassParamsGroup(u), "a name LBC rejects")
}
