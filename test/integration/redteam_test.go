package integration

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// requireDenial requires err to be a webhook's denial: an Invalid status with field causes, not an
// internal error, a timeout or a success.
func requireDenial(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.True(t, apierrors.IsInvalid(err), "a denial, not an internal error: %v", err)
}

// Attacks a hostile tenant tried from outside against the running system (make run-local),
// reproduced here with the webhooks registered in a real API server.

const tenantHold = "tenant.example/hold"

// deleteHeld deletes obj, which carries a finalizer of the tenant's own, so that it stays in
// the API server, being deleted, for as long as the tenant likes; the test removes the
// finalizer at the end.
func deleteHeld(t *testing.T, obj client.Object) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, k8s.Delete(ctx, obj))
	require.NoError(t, k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj))
	require.NotNil(t, obj.GetDeletionTimestamp(), "the finalizer holds the object")
	t.Cleanup(func() {
		_ = updateLatest(ctx, obj, func() { obj.SetFinalizers(nil) })
	})
}

// assertOwnedBy asserts that err is admission's denial naming the owner of hostname h and
// what the user can do about it.
func assertOwnedBy(t *testing.T, err error, h, owner string) {
	t.Helper()
	requireDenial(t, err)
	assert.Contains(t, err.Error(), `hostname "`+h+`" is claimed by namespace "`+owner+`"`)
	assert.Contains(t, err.Error(), "; use another hostname, or ask a cluster admin to transfer it to namespace")
}

// An object held by the tenant's own finalizer after its delete used to skip admission on
// every update ("an object being deleted"), so its spec could be edited to any hostname: LBC
// serves routes being deleted like the others (on the tenant's own Gateway it would discover
// the owner's ACM certificate by that name). Its spec is checked now; the finalizer's removal
// still passes.
func TestRedteamAnObjectBeingDeletedCannotTakeAnotherNamespacesHostname(t *testing.T) {
	ctx := context.Background()
	z, owner, shop := owned(t)
	attacker := tenant(t)

	t.Run("HTTPRoute", func(t *testing.T) {
		r := route(attacker, "held-route."+z.Spec.Domain)
		r.Finalizers = []string{tenantHold}
		require.NoError(t, k8s.Create(ctx, r))
		deleteHeld(t, r)
		err := updateLatest(ctx, r, func() { r.Spec.Hostnames = []gwv1.Hostname{gwv1.Hostname(shop)} })
		assertOwnedBy(t, err, shop, owner)

		require.NoError(t, updateLatest(ctx, r, func() { r.Finalizers = nil }), "removing the finalizer passes")
		require.Eventually(t, func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(r), &gwv1.HTTPRoute{}))
		}, 10*time.Second, 20*time.Millisecond)
	})
	t.Run("GRPCRoute", func(t *testing.T) {
		r := grpcRoute(attacker, "held-grpc."+z.Spec.Domain)
		r.Finalizers = []string{tenantHold}
		require.NoError(t, k8s.Create(ctx, r))
		deleteHeld(t, r)
		err := updateLatest(ctx, r, func() { r.Spec.Hostnames = append(r.Spec.Hostnames, gwv1.Hostname(shop)) })
		assertOwnedBy(t, err, shop, owner)
	})
	t.Run("Ingress", func(t *testing.T) {
		ing := ingress(attacker, "alb", "held-ingress."+z.Spec.Domain)
		ing.Finalizers = []string{tenantHold}
		require.NoError(t, k8s.Create(ctx, ing))
		deleteHeld(t, ing)
		err := updateLatest(ctx, ing, func() { ing.Spec.Rules[0].Host = shop })
		assertOwnedBy(t, err, shop, owner)
	})
	t.Run("tenant Gateway", func(t *testing.T) {
		gw := tenantGateway(attacker, "held-gateway."+z.Spec.Domain)
		gw.Finalizers = []string{tenantHold}
		require.NoError(t, k8s.Create(ctx, gw))
		deleteHeld(t, gw)
		err := updateLatest(ctx, gw, func() { gw.Spec.Listeners[0].Hostname = ptr.To(gwv1.Hostname(shop)) })
		assertOwnedBy(t, err, shop, owner)
	})
	t.Run("a label or annotation written on an object being deleted still passes", func(t *testing.T) {
		r := route(attacker, "held-label."+z.Spec.Domain)
		r.Finalizers = []string{tenantHold}
		require.NoError(t, k8s.Create(ctx, r))
		deleteHeld(t, r)
		require.NoError(t, updateLatest(ctx, r, func() { r.Annotations = map[string]string{"note": "leaving"} }))
	})
}

func tlsRoute(ns string, hostnames ...string) *gwv1.TLSRoute {
	r := &gwv1.TLSRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: unique("tls")}}
	for _, h := range hostnames {
		r.Spec.Hostnames = append(r.Spec.Hostnames, gwv1.Hostname(h))
	}
	r.Spec.Rules = []gwv1.TLSRouteRule{{BackendRefs: []gwv1.BackendRef{{BackendObjectReference: gwv1.BackendObjectReference{
		Name: "web", Port: ptr.To(gwv1.PortNumber(443))}}}}}
	return r
}

// TLSRoutes carry hostnames that LBC adds to those it discovers ACM certificates by for the
// TLS listener of the route's Gateway (an NLB); they were admitted without any check, so a
// tenant's TLSRoute on its own Gateway listing another namespace's hostname took the owner's
// certificate onto the tenant's load balancer. They go through the door now, and since a TLSRoute
// binds no claim, a managed hostname must already be its namespace's.
func TestRedteamTLSRouteHostnamesGoThroughTheDoor(t *testing.T) {
	ctx := context.Background()
	z, owner, shop := owned(t)
	attacker := tenant(t)
	notYet := func(t *testing.T, err error, h, ns string) {
		t.Helper()
		require.Error(t, err)
		assert.True(t, apierrors.IsInvalid(err), "%v", err)
		assert.Contains(t, err.Error(), fmt.Sprintf("hostname %q is not claimed by namespace %q yet, and a TLSRoute does not claim hostnames; use it first in an HTTPRoute", h, ns))
	}

	t.Run("another namespace's hostname is denied, naming the owner", func(t *testing.T) {
		assertOwnedBy(t, k8s.Create(ctx, tlsRoute(attacker, shop)), shop, owner)
	})
	t.Run("a zone-wide wildcard is denied", func(t *testing.T) {
		err := k8s.Create(ctx, tlsRoute(attacker, "*."+z.Spec.Domain))
		require.Error(t, err)
		assert.True(t, apierrors.IsInvalid(err), "%v", err)
		assert.Contains(t, err.Error(), "would cover every name of ManagedZone")
	})
	t.Run("a free managed hostname is not claimed for a TLSRoute: it is denied and says what to do", func(t *testing.T) {
		free := "tls-free." + z.Spec.Domain
		notYet(t, k8s.Create(ctx, tlsRoute(attacker, free)), free, attacker)
		_, err := getClaim(free)
		assert.True(t, apierrors.IsNotFound(err), "nothing is claimed: %v", err)
	})
	t.Run("dry-run is denied the same", func(t *testing.T) {
		assertOwnedBy(t, k8s.Create(ctx, tlsRoute(attacker, shop), client.DryRunAll), shop, owner)
	})
	t.Run("a hostname the namespace owns passes, and so do names outside every zone", func(t *testing.T) {
		own := "tls-own." + z.Spec.Domain
		require.NoError(t, k8s.Create(ctx, route(attacker, own)))
		require.NoError(t, k8s.Create(ctx, tlsRoute(attacker, own, "passthrough.unmanaged-"+unique("d")+".test")))
		require.NoError(t, k8s.Create(ctx, tlsRoute(owner, shop)), "the owner's own TLSRoute")

		r := tlsRoute(attacker, own)
		require.NoError(t, k8s.Create(ctx, r))
		err := updateLatest(ctx, r, func() { r.Spec.Hostnames = append(r.Spec.Hostnames, gwv1.Hostname(shop)) })
		assertOwnedBy(t, err, shop, owner)
	})
}

func nlbService(ns string, annotations map[string]string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: unique("svc"), Annotations: annotations},
		Spec: corev1.ServiceSpec{
			Type:              corev1.ServiceTypeLoadBalancer,
			LoadBalancerClass: ptr.To("service.k8s.aws/nlb"),
			Selector:          map[string]string{"app": "web"},
			Ports:             []corev1.ServicePort{{Name: "https", Port: 443, TargetPort: intstr.FromInt32(8443)}},
		},
	}
}

// A Service's service.beta.kubernetes.io/aws-load-balancer-ssl-cert annotation puts its ARNs on
// the TLS listeners of the Service's NLB (LBC, and the in-tree cloud provider): a Service naming
// another namespace's claim certificate was admitted, the same attack as an Ingress's
// certificate-arn annotation. It is denied now, on create and on an update that writes it.
func TestRedteamAServiceCannotNameAnotherNamespacesCertificate(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	owner, attacker := tenant(t), tenant(t)
	shop := "shop." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(owner, shop)))
	c := issued(t, shop)
	arn := c.Status.CertificateARN
	require.NotEmpty(t, arn)
	require.Eventually(t, func() bool {
		var cached v1alpha1.DomainClaim
		return env.Manager.GetCache().Get(ctx, client.ObjectKey{Name: c.Name}, &cached) == nil && cached.Status.CertificateARN == arn
	}, 10*time.Second, 20*time.Millisecond)
	denial := fmt.Sprintf("metadata.annotations[%s]: Forbidden: certificate %s is the certificate of hostname %q, owned by namespace %s; a Service of namespace %s may not put it on its load balancer",
		lbc.ServiceCertificateAnnotation, arn, shop, owner, attacker)

	t.Run("create", func(t *testing.T) {
		err := k8s.Create(ctx, nlbService(attacker, map[string]string{
			lbc.ServiceCertificateAnnotation: "arn:aws:acm:us-east-1:000000000000:certificate/unrelated, " + arn}))
		require.Error(t, err)
		assert.True(t, apierrors.IsInvalid(err), "%v", err)
		assert.Contains(t, err.Error(), denial)
	})
	t.Run("dry-run", func(t *testing.T) {
		err := k8s.Create(ctx, nlbService(attacker, map[string]string{lbc.ServiceCertificateAnnotation: arn}), client.DryRunAll)
		assert.ErrorContains(t, err, denial)
	})
	t.Run("an update that writes the annotation", func(t *testing.T) {
		svc := nlbService(attacker, nil)
		require.NoError(t, k8s.Create(ctx, svc))
		err := updateLatest(ctx, svc, func() { svc.Annotations = map[string]string{lbc.ServiceCertificateAnnotation: arn} })
		assert.ErrorContains(t, err, denial)
	})
	t.Run("an unrelated ARN, and the owner's own certificate, pass", func(t *testing.T) {
		require.NoError(t, k8s.Create(ctx, nlbService(attacker, map[string]string{
			lbc.ServiceCertificateAnnotation: "arn:aws:acm:us-east-1:000000000000:certificate/unrelated"})))
		require.NoError(t, k8s.Create(ctx, nlbService(owner, map[string]string{lbc.ServiceCertificateAnnotation: arn})))
	})
}

// LBC attaches a route to a Gateway by its parentRef's kind, name and namespace, whatever the
// group says; admission looked only at parentRefs of group gateway.networking.k8s.io, so a
// hostless route whose parentRef to a pool Gateway said `group: ""` (or any other group) was
// admitted. It is denied like any hostless route on a pool Gateway now.
func TestRedteamAParentRefsGroupDoesNotHideAPoolGateway(t *testing.T) {
	ctx := context.Background()
	gwNS := poolNamespace(t)
	attacker := tenant(t)
	for _, group := range []string{"", "example.io"} {
		t.Run("group "+strconv.Quote(group), func(t *testing.T) {
			r := route(attacker)
			r.Spec.ParentRefs = []gwv1.ParentReference{{
				Group: ptr.To(gwv1.Group(group)), Kind: ptr.To(gwv1.Kind("Gateway")),
				Namespace: ptr.To(gwv1.Namespace(gwNS)), Name: "public-1",
			}}
			err := k8s.Create(ctx, r)
			require.Error(t, err)
			assert.True(t, apierrors.IsInvalid(err), "%v", err)
			assert.Contains(t, err.Error(), fmt.Sprintf("a route attached to a shared pool Gateway (%s/public-1) %s", gwNS, hostlessMessage))

			g := grpcRoute(attacker)
			g.Spec.ParentRefs = r.Spec.ParentRefs
			assert.ErrorContains(t, k8s.Create(ctx, g), hostlessMessage)
		})
	}
	t.Run("another kind is no Gateway", func(t *testing.T) {
		r := route(attacker)
		r.Spec.ParentRefs = []gwv1.ParentReference{{
			Group: ptr.To(gwv1.Group("")), Kind: ptr.To(gwv1.Kind("Service")),
			Namespace: ptr.To(gwv1.Namespace(gwNS)), Name: "public-1",
		}}
		require.NoError(t, k8s.Create(ctx, r))
	})
}
