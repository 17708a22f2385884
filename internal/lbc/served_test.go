package lbc

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// gatewayClient holds GatewayClass "alb" (LBC's ALB controller), "nginx" (another controller's)
// and Gateways "lbc" and "other" of namespace infra, of those classes.
func gatewayClient(t *testing.T) client.Client {
	t.Helper()
	s := runtime.NewScheme()
	require.NoError(t, gwv1.Install(s))
	class := func(name, controller string) *gwv1.GatewayClass {
		return &gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: gwv1.GatewayClassSpec{ControllerName: gwv1.GatewayController(controller)}}
	}
	return fake.NewClientBuilder().WithScheme(s).WithObjects(
		class("alb", ControllerName), class("nginx", "k8s.io/nginx"),
		gateway("infra", "lbc", "alb"), gateway("infra", "other", "nginx"),
	).Build()
}

func gateway(ns, name, class string) *gwv1.Gateway {
	return &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: gwv1.GatewaySpec{GatewayClassName: gwv1.ObjectName(class)}}
}

func TestServesGateway(t *testing.T) {
	k := gatewayClient(t)
	for _, tc := range []struct {
		name  string
		class string
		want  bool
	}{
		{name: "a Gateway of a class whose controller is LBC's ALB controller is LBC's", class: "alb", want: true},
		{name: "a Gateway of another controller's class is not", class: "nginx"},
		{name: "a Gateway of a class not created yet may become LBC's", class: "later", want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ServesGateway(context.Background(), k, gateway("team", "gw", tc.class))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestServesListenerSet(t *testing.T) {
	k := gatewayClient(t)
	ls := func(ref gwv1.ParentGatewayReference) *gwv1.ListenerSet {
		return &gwv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "ls"}, Spec: gwv1.ListenerSetSpec{ParentRef: ref}}
	}
	infra := ptr.To(gwv1.Namespace("infra"))
	for _, tc := range []struct {
		name string
		ref  gwv1.ParentGatewayReference
		want bool
	}{
		{name: "listeners on LBC's Gateway are LBC's", ref: gwv1.ParentGatewayReference{Name: "lbc", Namespace: infra}, want: true},
		{name: "listeners on another controller's Gateway are not", ref: gwv1.ParentGatewayReference{Name: "other", Namespace: infra}},
		{name: "a parent not created yet (in the ListenerSet's own namespace by default) may become LBC's", ref: gwv1.ParentGatewayReference{Name: "other"}, want: true},
		{name: "a parent of another kind is not a Gateway of LBC's",
			ref: gwv1.ParentGatewayReference{Name: "lbc", Namespace: infra, Kind: ptr.To(gwv1.Kind("XGateway"))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ServesListenerSet(context.Background(), k, ls(tc.ref))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
