package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/webhook"
)

func listenerSet(ns, parent string, hostnames ...string) *gwv1.ListenerSet {
	ls := &gwv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: unique("ls")},
		Spec: gwv1.ListenerSetSpec{ParentRef: gwv1.ParentGatewayReference{Name: gwv1.ObjectName(parent)}}}
	for i, h := range hostnames {
		ls.Spec.Listeners = append(ls.Spec.Listeners, gwv1.ListenerEntry{
			Name: gwv1.SectionName(fmt.Sprintf("https-%d", i)), Port: 443, Protocol: gwv1.HTTPSProtocolType, Hostname: ptr.To(gwv1.Hostname(h)),
			TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "cert"}}},
		})
	}
	return ls
}

// TestPoolGatewaysAdmitNoListenerSets: a pool Gateway pins spec.allowedListeners to None, so no
// ListenerSet can add a listener (with a foreign hostname, or none) to the shared ALB, and an edit
// that opens it is put back.
func TestPoolGatewaysAdmitNoListenerSets(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	h := "pinned." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(tenant(t), h)))
	c := ready(t, h, 60*time.Second)
	key := client.ObjectKey{Namespace: c.Status.Gateway.Namespace, Name: c.Status.Gateway.Name}

	pinned := func(gw *gwv1.Gateway) bool {
		a := gw.Spec.AllowedListeners
		return a != nil && a.Namespaces != nil && a.Namespaces.From != nil && *a.Namespaces.From == gwv1.NamespacesFromNone
	}
	gw := &gwv1.Gateway{}
	require.NoError(t, k8s.Get(ctx, key, gw))
	require.True(t, pinned(gw), "the pool writes allowedListeners: %+v", gw.Spec.AllowedListeners)
	assert.Equal(t, p.Name, gw.Labels[webhook.LabelPool])

	require.NoError(t, updateLatest(ctx, gw, func() {
		gw.Spec.AllowedListeners = &gwv1.AllowedListeners{Namespaces: &gwv1.ListenerNamespaces{From: ptr.To(gwv1.NamespacesFromAll)}}
	}))
	require.Eventually(t, func() bool {
		got := &gwv1.Gateway{}
		if err := k8s.Get(ctx, key, got); err != nil {
			return false // not yet
		}
		return pinned(got)
	}, 20*time.Second, 100*time.Millisecond, "the pool puts allowedListeners back")
}

// TestListenerSetHostnamesAreClaimedLikeGatewayListeners: a ListenerSet is one more door for a
// hostname. A foreign one is denied naming its owner (admission_doors_test.go), its own free one
// is allowed and claimed for the namespace, in use by it, and every hostname is checked again on
// update.
func TestListenerSetHostnamesAreClaimedLikeGatewayListeners(t *testing.T) {
	ctx := context.Background()
	z, teamA, shop := owned(t)
	teamC := tenant(t)
	h := "listeners." + z.Spec.Domain

	ls := listenerSet(teamC, "own-gateway", h, "www.unmanaged.example.org")
	require.NoError(t, k8s.Create(ctx, ls))
	c, err := getClaim(h)
	require.NoError(t, err)
	assert.Equal(t, teamC, c.Spec.Namespace)
	assert.Equal(t, "ListenerSet "+teamC+"/"+ls.Name, c.Annotations[webhook.AnnotationClaimedFor])
	used := waitCondition(t, h, v1alpha1.ConditionInUse, metav1.ConditionTrue)
	assert.Contains(t, meta.FindStatusCondition(used.Status.Conditions, v1alpha1.ConditionInUse).Message, "ListenerSet "+teamC+"/"+ls.Name,
		"a ListenerSet keeps its claim in use")

	err = updateLatest(ctx, ls, func() {
		ls.Spec.Listeners = append(ls.Spec.Listeners, listenerSet(teamC, "own-gateway", shop).Spec.Listeners[0])
		ls.Spec.Listeners[len(ls.Spec.Listeners)-1].Name = "foreign"
	})
	require.Error(t, err, "an update adding a foreign hostname is denied")
	assert.Contains(t, err.Error(), "spec.listeners[2].hostname")
	assert.Contains(t, err.Error(), fmt.Sprintf("hostname %q is claimed by namespace %q", shop, teamA))
}
