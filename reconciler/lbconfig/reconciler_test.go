package lbconfig

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

func claim(name, ns, host, arn string) *v1alpha1.DomainClaim {
	return &v1alpha1.DomainClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       v1alpha1.DomainClaimSpec{Hostname: host, Namespace: ns},
		Status:     v1alpha1.DomainClaimStatus{CertificateARN: arn},
	}
}

func config(t *testing.T, ns, name string, labels map[string]string, def string, certs ...string) client.Object {
	t.Helper()
	cfg := &lbc.LoadBalancerConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, UID: types.UID(ns + "-" + name)},
		Spec: lbc.Spec{ListenerConfigurations: []lbc.ListenerConfiguration{{ProtocolPort: "HTTPS:443", DefaultCertificate: def, Certificates: certs}}}}
	u, err := cfg.ToUnstructured()
	require.NoError(t, err)
	return u
}

func TestReconcileReportsConfigurationsNamingAnotherNamespacesCertificate(t *testing.T) {
	scheme := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(scheme))
	pool := &v1alpha1.GatewayPool{ObjectMeta: metav1.ObjectMeta{Name: "public"}, Spec: v1alpha1.GatewayPoolSpec{Namespace: "gateway-system"}}
	k := fake.NewClientBuilder().WithScheme(scheme).
		WithObjects(claim("shop", "team-a", "shop.example.com", "arn:shop"), claim("c", "team-c", "c.example.com", "arn:c"), pool,
			config(t, "team-c", "steals", nil, "arn:c", "arn:other", "arn:shop"),
			config(t, "team-a", "own", nil, "arn:shop"),
			config(t, "gateway-system", "public-1", map[string]string{v1alpha1.LabelPool: "public"}, "arn:shop", "arn:c")).
		WithIndex(&v1alpha1.DomainClaim{}, index.ClaimCertificateARN, index.ClaimCertificateARNKeys).
		WithIndex(lbc.NewUnstructured(), index.ConfigurationCertificateARN, index.ConfigurationCertificateARNKeys).Build()
	rec := events.NewFakeRecorder(10)
	r := &Reconciler{Reader: k, Recorder: rec}
	ctx := context.Background()

	for _, key := range []string{"team-c/steals", "team-a/own", "gateway-system/public-1", "team-c/gone"} {
		ns, name, _ := strings.Cut(key, "/")
		_, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}})
		require.NoError(t, err, key)
	}
	require.Len(t, rec.Events, 2, "one Event on team-c's configuration and one on the claim; none for the owner's or the pool's")
	assert.Equal(t, `Warning ForeignCertificate spec.listenerConfigurations[0].certificates[1] names certificate arn:shop of hostname "shop.example.com" (DomainClaim shop), which namespace team-a owns: the AWS Load Balancer Controller serves it on the load balancer of every Gateway that references this configuration; remove it`, <-rec.Events)
	assert.Equal(t, `Warning ForeignCertificate LoadBalancerConfiguration team-c/steals of namespace team-c names this claim's certificate (spec.listenerConfigurations[0].certificates[1]): the AWS Load Balancer Controller serves it on that namespace's load balancer`, <-rec.Events)

	_, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "team-c", Name: "steals"}})
	require.NoError(t, err)
	assert.Empty(t, rec.Events, "reconciling again repeats nothing")

	t.Run("a claim's transfer maps to the configurations naming its certificate", func(t *testing.T) {
		old, moved := claim("shop", "team-a", "shop.example.com", "arn:shop"), claim("shop", "team-c", "shop.example.com", "arn:shop")
		assert.True(t, ownerOrCertificateChanged.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: moved}))
		assert.False(t, ownerOrCertificateChanged.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: old.DeepCopy()}), "a status write that keeps owner and certificate")
		var got []string
		for _, req := range r.claimToConfigurations(ctx, moved) {
			got = append(got, req.String())
		}
		assert.ElementsMatch(t, []string{"team-c/steals", "team-a/own", "gateway-system/public-1"}, got)
	})
}
