package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// TestARouteBeingDeletedIsNotWedgedByTheDefaulter: a route stored with a parentRef (group "")
// naming section "https" of a Gateway that became a pool Gateway since, whose hostname moved to
// another namespace, and that is being deleted and held by a finalizer. The finalizer's removal
// must go through: were the mutating webhook to drop the section, the spec would change and the
// validating webhook would deny the hostname the route no longer owns, wedging the delete. An
// update of such a route that is not being deleted is still defaulted and denied.
func TestARouteBeingDeletedIsNotWedgedByTheDefaulter(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	ns, other := tenant(t), tenant(t)
	gwNS := newNamespace(t, nil)
	h := "wedge." + z.Spec.Domain
	legacy := gwv1.ParentReference{Group: ptr.To(gwv1.Group("")), Namespace: ptr.To(gwv1.Namespace(gwNS)), Name: "legacy",
		SectionName: ptr.To(gwv1.SectionName("https"))}
	held, control := route(ns, h), route(ns, h)
	for _, r := range []*gwv1.HTTPRoute{held, control} {
		r.Spec.ParentRefs = []gwv1.ParentReference{legacy}
	}
	held.Finalizers = []string{"example.com/hold"}
	// The Gateway does not exist yet: the section is stored as it is.
	require.NoError(t, k8s.Create(ctx, held))
	require.NoError(t, k8s.Create(ctx, control))
	require.Equal(t, gwv1.SectionName("https"), *held.Spec.ParentRefs[0].SectionName)

	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: gwNS, Name: "legacy", Labels: map[string]string{v1alpha1.LabelPool: "legacy-pool"}},
		Spec: gwv1.GatewaySpec{GatewayClassName: "tenant-class", Listeners: []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}}}}
	require.NoError(t, k8s.Create(ctx, gw))
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), gw) })
	require.Eventually(t, func() bool {
		cached := &gwv1.Gateway{}
		return env.Manager.GetCache().Get(ctx, client.ObjectKeyFromObject(gw), cached) == nil && cached.Labels[v1alpha1.LabelPool] != ""
	}, 10*time.Second, 20*time.Millisecond, "the webhook's cache sees the pool Gateway")

	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c, err := getClaim(h)
		if err != nil {
			return err
		}
		c.Spec.Namespace = other
		return k8s.Update(ctx, c)
	}))
	require.Eventually(t, func() bool {
		cached := &v1alpha1.DomainClaim{}
		return env.Manager.GetCache().Get(ctx, client.ObjectKey{Name: h}, cached) == nil && cached.Spec.Namespace == other
	}, 10*time.Second, 20*time.Millisecond, "the webhook's cache sees the transfer")

	err := updateLatest(ctx, control, func() { control.Labels = map[string]string{"touched": "yes"} })
	require.Error(t, err, "a route that is not being deleted is defaulted (its section dropped) and checked again")
	assert.Contains(t, err.Error(), h)

	require.NoError(t, k8s.Delete(ctx, held))
	require.NoError(t, k8s.Get(ctx, client.ObjectKeyFromObject(gw), &gwv1.Gateway{}), "the pool Gateway is still there")
	require.NoError(t, updateLatest(ctx, held, func() { held.Finalizers = nil }), "the finalizer of a route being deleted can go")
	require.Eventually(t, func() bool {
		return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(held), &gwv1.HTTPRoute{}))
	}, 10*time.Second, 50*time.Millisecond, "the route is gone")
}

// TestServiceUpdatesThatKeepTheCertificateAnnotationNeverReachTheWebhook: LBC's finalizer and
// status patches of a Service naming certificates do not wait on the orchestrator (its
// matchConditions keep them away); a change of the annotation still reaches it.
func TestServiceUpdatesThatKeepTheCertificateAnnotationNeverReachTheWebhook(t *testing.T) {
	ctx := context.Background()
	ns := tenant(t)
	const hook = "vservice.gateway.opendi.com"
	before := webhookCounts(t, webhookCallsMetric)
	svc := nlbService(ns, map[string]string{lbc.ServiceCertificateAnnotation: "arn:aws:acm:us-east-1:000000000000:certificate/one"})
	require.NoError(t, k8s.Create(ctx, svc))
	after := webhookCounts(t, webhookCallsMetric)
	require.Greater(t, after[hook], before[hook], "a create naming a certificate reaches the webhook")

	before = after
	require.NoError(t, updateLatest(ctx, svc, func() { svc.Finalizers = append(svc.Finalizers, "service.k8s.aws/resources") }))
	require.NoError(t, updateLatest(ctx, svc, func() { svc.Labels = map[string]string{"touched": "yes"} }))
	after = webhookCounts(t, webhookCallsMetric)
	assert.Equal(t, before[hook], after[hook], "updates that keep the annotation never reach the webhook")

	before = after
	require.NoError(t, updateLatest(ctx, svc, func() {
		svc.Annotations[lbc.ServiceCertificateAnnotation] = "arn:aws:acm:us-east-1:000000000000:certificate/two"
	}))
	after = webhookCounts(t, webhookCallsMetric)
	assert.Greater(t, after[hook], before[hook], "a change of the annotation reaches it")

	require.NoError(t, updateLatest(ctx, svc, func() { svc.Finalizers = nil }))
}

// TestAnOlderTLSRouteVersionDoesNotBypassTheWebhook: the TLSRoute webhook's rule names v1 only;
// where the CRD also serves v1alpha2 (the experimental channel), matchPolicy Equivalent has the
// API server convert the request to v1 and call the webhook, so an older version is no way
// around it.
func TestAnOlderTLSRouteVersionDoesNotBypassTheWebhook(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	ns := tenant(t)
	dyn, err := dynamic.NewForConfig(env.Config)
	require.NoError(t, err)
	crds := dyn.Resource(apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions"))
	serveV1alpha2 := func(served bool) error {
		return retry.RetryOnConflict(retry.DefaultRetry, func() error {
			crd, err := crds.Get(ctx, "tlsroutes.gateway.networking.k8s.io", metav1.GetOptions{})
			if err != nil {
				return err
			}
			versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
			for _, v := range versions {
				if v := v.(map[string]any); v["name"] == "v1alpha2" {
					v["served"] = served
				}
			}
			if err := unstructured.SetNestedSlice(crd.Object, versions, "spec", "versions"); err != nil {
				return err
			}
			_, err = crds.Update(ctx, crd, metav1.UpdateOptions{})
			return err
		})
	}
	require.NoError(t, serveV1alpha2(true))
	t.Cleanup(func() { require.NoError(t, serveV1alpha2(false)) })

	routes := dyn.Resource(schema.GroupVersionResource{Group: gwv1.GroupName, Version: "v1alpha2", Resource: "tlsroutes"}).Namespace(ns)
	free := "tls-old." + z.Spec.Domain
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": gwv1.GroupName + "/v1alpha2", "kind": "TLSRoute",
		"metadata": map[string]any{"name": unique("tls-old")},
		"spec": map[string]any{"hostnames": []any{free},
			"rules": []any{map[string]any{"backendRefs": []any{map[string]any{"name": "web", "port": int64(443)}}}}},
	}}
	require.Eventually(t, func() bool {
		_, err = routes.Create(ctx, obj, metav1.CreateOptions{})
		return err == nil || !apierrors.IsNotFound(err) // until v1alpha2 is served
	}, 20*time.Second, 100*time.Millisecond)
	require.Error(t, err, "a v1alpha2 TLSRoute goes through the v1 webhook")
	assert.Contains(t, err.Error(), fmt.Sprintf("hostname %q is not claimed by namespace %q yet, and a TLSRoute does not claim hostnames", free, ns))
}
