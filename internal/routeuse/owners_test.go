package routeuse_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/routeuse"
)

func TestWarnTellsTheClaimAndEveryKindOfObjectThatUsesTheHostnameInItsNamespace(t *testing.T) {
	const h = "shop.example.com"
	s := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(s))
	require.NoError(t, gwv1.Install(s))
	require.NoError(t, networkingv1.AddToScheme(s))
	meta := func(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	hosts := []gwv1.Hostname{h}
	deleting := meta("team", "going")
	now := metav1.Now()
	deleting.DeletionTimestamp, deleting.Finalizers = &now, []string{"keep"}
	b := fake.NewClientBuilder().WithScheme(s).WithObjects(
		&gwv1.HTTPRoute{ObjectMeta: meta("team", "web"), Spec: gwv1.HTTPRouteSpec{Hostnames: hosts}},
		&gwv1.GRPCRoute{ObjectMeta: meta("team", "api"), Spec: gwv1.GRPCRouteSpec{Hostnames: hosts}},
		&networkingv1.Ingress{ObjectMeta: meta("team", "legacy"), Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: h}}}},
		&gwv1.Gateway{ObjectMeta: meta("team", "own"), Spec: gwv1.GatewaySpec{GatewayClassName: "alb",
			Listeners: []gwv1.Listener{{Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType, Hostname: new(gwv1.Hostname(h))}}}},
		&gwv1.HTTPRoute{ObjectMeta: meta("other", "stray"), Spec: gwv1.HTTPRouteSpec{Hostnames: hosts}},
		&gwv1.HTTPRoute{ObjectMeta: meta("team", "unrelated"), Spec: gwv1.HTTPRouteSpec{Hostnames: []gwv1.Hostname{"else.example.com"}}},
		&gwv1.HTTPRoute{ObjectMeta: deleting, Spec: gwv1.HTTPRouteSpec{Hostnames: hosts}},
	)
	for _, o := range []client.Object{&gwv1.HTTPRoute{}, &gwv1.GRPCRoute{}, &networkingv1.Ingress{}, &gwv1.Gateway{}} {
		b = b.WithIndex(o, index.RouteHostname, index.RouteKeys)
	}
	k := b.Build()
	c := &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: h}, Spec: v1alpha1.DomainClaimSpec{Hostname: h, Namespace: "team"}}

	users, err := routeuse.Users(context.Background(), k, c)
	require.NoError(t, err)
	var names []string
	for _, o := range users {
		names = append(names, o.GetNamespace()+"/"+o.GetName())
	}
	assert.ElementsMatch(t, []string{"team/web", "team/api", "team/legacy", "team/own"}, names,
		"routes of both kinds, Ingresses and Gateways of the owner's namespace; not other namespaces, other hostnames or objects being deleted")

	rec := events.NewFakeRecorder(10)
	routeuse.Warn(context.Background(), k, rec, c, "AccessDenied", "Provision", "missing AWS permission")
	close(rec.Events)
	var got []string
	for e := range rec.Events {
		got = append(got, e)
	}
	sort.Strings(got)
	require.Len(t, got, 5, "the claim and its four users: %v", got)
	assert.Equal(t, "Warning AccessDenied missing AWS permission", got[4], "the claim's own Event")
	for _, e := range got[:4] {
		assert.True(t, strings.HasPrefix(e, "Warning AccessDenied hostname shop.example.com: missing AWS permission"), e)
	}
}
