package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// otherClass makes sure IngressClass name exists as another controller's, and that admission's
// cache sees it.
func otherClass(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}
	if err := k8s.Create(ctx, ic); err != nil && !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool {
		return env.Manager.GetCache().Get(ctx, client.ObjectKey{Name: name}, &networkingv1.IngressClass{}) == nil
	}, 10*time.Second, 20*time.Millisecond)
}

// TestIngressesLBCMayServeLaterAreDecidedNow: an Ingress is written once and served by whatever
// its class turns out to be. An Ingress naming a class that does not exist yet, or naming none
// while the cluster has no default class, becomes LBC's when an admin creates that class as LBC's
// or makes LBC's class the default, without the Ingress being written again; so its hosts are
// decided now, like those of an Ingress of class alb. A class of another controller still leaves
// the Ingress alone.
func TestIngressesLBCMayServeLaterAreDecidedNow(t *testing.T) {
	ctx := context.Background()
	z, teamA, shop := owned(t)
	teamC := tenant(t)

	t.Run("a class that does not exist yet", func(t *testing.T) {
		err := k8s.Create(ctx, ingress(teamC, unique("future"), shop))
		require.Error(t, err)
		assert.Contains(t, err.Error(), fmt.Sprintf("hostname %q is claimed by namespace %q", shop, teamA))

		h := "future." + z.Spec.Domain
		require.NoError(t, k8s.Create(ctx, ingress(teamC, unique("future"), h)))
		c, err := getClaim(h)
		require.NoError(t, err)
		assert.Equal(t, teamC, c.Spec.Namespace, "its own host is claimed for it")
	})
	t.Run("no class, and no default class", func(t *testing.T) {
		var classes networkingv1.IngressClassList
		require.NoError(t, k8s.List(ctx, &classes))
		for _, ic := range classes.Items {
			require.NotEqual(t, "true", ic.Annotations["ingressclass.kubernetes.io/is-default-class"], "the package's tests set no default class")
		}
		err := k8s.Create(ctx, ingress(teamC, "", shop))
		require.Error(t, err)
		assert.Contains(t, err.Error(), fmt.Sprintf("hostname %q is claimed by namespace %q", shop, teamA))
	})
	t.Run("a class of another controller", func(t *testing.T) {
		name := unique("nginx")
		otherClass(t, name)
		require.NoError(t, k8s.Create(ctx, ingress(teamC, name, shop)))
		c, err := getClaim(shop)
		require.NoError(t, err)
		assert.Equal(t, teamA, c.Spec.Namespace, "another controller's Ingress claims nothing")
	})
}
