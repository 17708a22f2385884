package clusterid

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

func cluster(uid string) *fake.ClientBuilder {
	return fake.NewClientBuilder().WithObjects(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system", UID: types.UID(uid)}})
}

func TestResolve(t *testing.T) {
	ctx := context.Background()
	a, err := Resolve(ctx, cluster("1b4e28ba-2fa1-11d2-883f-0016d3cca427").Build(), "")
	require.NoError(t, err)
	assert.Equal(t, "k8s-1b4e28ba-2fa1-11d2-883f-0016d3cca427", a, "derived from the kube-system namespace's UID")
	b, err := Resolve(ctx, cluster("6fa459ea-ee8a-3ca4-894e-db77e160355e").Build(), "")
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "two clusters get two IDs")

	named, err := Resolve(ctx, cluster("1b4e28ba-2fa1-11d2-883f-0016d3cca427").Build(), "prod-eu")
	require.NoError(t, err)
	assert.Equal(t, "prod-eu", named, "a configured name wins")

	_, err = Resolve(ctx, fake.NewClientBuilder().Build(), "")
	require.Error(t, err, "no silent fallback when the namespace cannot be read")
	assert.Contains(t, err.Error(), "--cluster-name")
}
