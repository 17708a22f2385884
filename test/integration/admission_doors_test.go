package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/webhook"
)

const hostlessMessage = "must name its hostnames; without hostnames it would match every Host on the load balancer"

// poolNamespace creates a namespace and a GatewayPool (without Gateways of its own) whose
// Gateways live there, and waits until admission sees the pool.
func poolNamespace(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	ns := unique("gw")
	require.NoError(t, k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	p := pool(unique("pool"), func(p *v1alpha1.GatewayPool) { p.Spec.Namespace, p.Spec.MinGateways = ns, 0 })
	require.NoError(t, k8s.Create(ctx, p))
	require.Eventually(t, func() bool {
		return env.Manager.GetCache().Get(ctx, client.ObjectKeyFromObject(p), &v1alpha1.GatewayPool{}) == nil
	}, 10*time.Second, 20*time.Millisecond)
	return ns
}

func parentRef(ns, name string) gwv1.ParentReference {
	return gwv1.ParentReference{Namespace: ptr.To(gwv1.Namespace(ns)), Name: gwv1.ObjectName(name), SectionName: ptr.To(gwv1.SectionName("https"))}
}

func grpcRoute(ns string, hostnames ...string) *gwv1.GRPCRoute {
	r := &gwv1.GRPCRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: unique("grpc")}}
	for _, h := range hostnames {
		r.Spec.Hostnames = append(r.Spec.Hostnames, gwv1.Hostname(h))
	}
	return r
}

func ingress(ns, class string, hosts ...string) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: unique("ing")}}
	if class != "" {
		ing.Spec.IngressClassName = ptr.To(class)
	}
	for _, h := range hosts {
		ing.Spec.Rules = append(ing.Spec.Rules, networkingv1.IngressRule{Host: h, IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: ptr.To(networkingv1.PathTypePrefix),
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}},
			}}},
		}})
	}
	return ing
}

// tenantGateway is a Gateway of a class the LBC stand-in leaves alone, with one HTTPS listener
// per hostname.
func tenantGateway(ns string, hostnames ...string) *gwv1.Gateway {
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: unique("gw")}, Spec: gwv1.GatewaySpec{GatewayClassName: "tenant-class"}}
	for i, h := range hostnames {
		gw.Spec.Listeners = append(gw.Spec.Listeners, gwv1.Listener{
			Name: gwv1.SectionName(fmt.Sprintf("https-%d", i)), Port: 443, Protocol: gwv1.HTTPSProtocolType, Hostname: ptr.To(gwv1.Hostname(h)),
			TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "cert"}}},
		})
	}
	return gw
}

// owned creates a zone and an HTTPRoute of a fresh namespace for "shop.<zone>", and returns the
// zone, the owner and the hostname.
func owned(t *testing.T) (*v1alpha1.ManagedZone, string, string) {
	t.Helper()
	z := newZone(t)
	owner := tenant(t)
	h := "shop." + z.Spec.Domain
	require.NoError(t, k8s.Create(context.Background(), route(owner, h)))
	return z, owner, h
}

func TestHostlessRouteOnAPoolGatewayIsDenied(t *testing.T) {
	ctx := context.Background()
	gwNS := poolNamespace(t)
	z := newZone(t)
	teamB := tenant(t)

	t.Run("a hostless HTTPRoute naming a pool Gateway is denied and says why", func(t *testing.T) {
		r := route(teamB)
		r.Spec.ParentRefs = []gwv1.ParentReference{parentRef(gwNS, "public-1")}
		err := k8s.Create(ctx, r)
		require.Error(t, err)
		assert.True(t, apierrors.IsInvalid(err), "%v", err)
		assert.Contains(t, err.Error(), "spec.hostnames")
		assert.Contains(t, err.Error(), fmt.Sprintf("a route attached to a shared pool Gateway (%s/public-1) %s", gwNS, hostlessMessage))
	})
	t.Run("a hostless GRPCRoute naming a pool Gateway is denied too", func(t *testing.T) {
		r := grpcRoute(teamB)
		r.Spec.ParentRefs = []gwv1.ParentReference{parentRef(gwNS, "public-1")}
		err := k8s.Create(ctx, r)
		require.Error(t, err)
		assert.Contains(t, err.Error(), hostlessMessage)
	})
	t.Run("a hostless route naming a Gateway labelled as a pool's is denied", func(t *testing.T) {
		labelled := tenantGateway(teamB)
		labelled.Spec.Listeners = []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}}
		labelled.Labels = map[string]string{webhook.LabelPool: "any"}
		require.NoError(t, k8s.Create(ctx, labelled))
		r := route(teamB)
		r.Spec.ParentRefs = []gwv1.ParentReference{{Name: gwv1.ObjectName(labelled.Name)}}
		require.Eventually(t, func() bool {
			err := k8s.Create(ctx, r.DeepCopy())
			return err != nil && apierrors.IsInvalid(err)
		}, 10*time.Second, 50*time.Millisecond, "the Gateway is read from the cache")
	})
	t.Run("a route naming a pool Gateway with hostnames it owns is allowed", func(t *testing.T) {
		r := route(teamB, "blog."+z.Spec.Domain)
		r.Spec.ParentRefs = []gwv1.ParentReference{parentRef(gwNS, "public-1")}
		require.NoError(t, k8s.Create(ctx, r))
		c, err := getClaim("blog." + z.Spec.Domain)
		require.NoError(t, err)
		assert.Equal(t, teamB, c.Spec.Namespace)
	})
	t.Run("a hostless route on the namespace's own Gateway is allowed", func(t *testing.T) {
		r := route(teamB)
		r.Spec.ParentRefs = []gwv1.ParentReference{{Name: "own-gateway"}}
		require.NoError(t, k8s.Create(ctx, r))
	})
}

func TestGRPCRouteHostnamesAreClaimedLikeHTTPRoutes(t *testing.T) {
	ctx := context.Background()
	z, teamA, shop := owned(t)
	teamC := tenant(t)

	err := k8s.Create(ctx, grpcRoute(teamC, shop))
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("hostname %q is claimed by namespace %q", shop, teamA))
	assert.Contains(t, err.Error(), "spec.hostnames[0]")

	r := grpcRoute(teamC, "API."+z.Spec.Domain+".")
	require.NoError(t, k8s.Create(ctx, r))
	api := "api." + z.Spec.Domain
	stored := &gwv1.GRPCRoute{}
	require.NoError(t, k8s.Get(ctx, client.ObjectKeyFromObject(r), stored))
	assert.Equal(t, []gwv1.Hostname{gwv1.Hostname(api)}, stored.Spec.Hostnames, "the GRPCRoute defaulter normalizes")
	assert.Empty(t, stored.Annotations[v1alpha1.AnnotationAutoAttach], "admission does not mark a route for attachment: the routes reconciler does, once a hostname is seated")
	c, err := getClaim(api)
	require.NoError(t, err)
	assert.Equal(t, teamC, c.Spec.Namespace)
	assert.Equal(t, "GRPCRoute "+teamC+"/"+r.Name, c.Annotations[webhook.AnnotationClaimedFor])
	used := waitCondition(t, api, v1alpha1.ConditionInUse, metav1.ConditionTrue)
	assert.Contains(t, meta.FindStatusCondition(used.Status.Conditions, v1alpha1.ConditionInUse).Message, "GRPCRoute "+teamC+"/"+r.Name)
}

func TestIngressHostsOfLBCAreClaimedLikeRouteHostnames(t *testing.T) {
	ctx := context.Background()
	z, teamA, shop := owned(t)
	teamC := tenant(t)

	t.Run("a foreign host in the rules is denied naming the owner", func(t *testing.T) {
		err := k8s.Create(ctx, ingress(teamC, "alb", shop))
		require.Error(t, err)
		assert.True(t, apierrors.IsInvalid(err), "%v", err)
		assert.Contains(t, err.Error(), "spec.rules[0].host")
		assert.Contains(t, err.Error(), fmt.Sprintf("hostname %q is claimed by namespace %q", shop, teamA))
	})
	t.Run("a foreign host in tls is denied at its own field", func(t *testing.T) {
		ing := ingress(teamC, "alb", "own-tls."+z.Spec.Domain)
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"own-tls." + z.Spec.Domain, shop}}}
		err := k8s.Create(ctx, ing)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "spec.tls[0].hosts[1]")
		assert.NotContains(t, err.Error(), "spec.rules[0].host")
	})
	t.Run("the class annotation counts like the field", func(t *testing.T) {
		ing := ingress(teamC, "", shop)
		ing.Annotations = map[string]string{"kubernetes.io/ingress.class": "alb"}
		require.Error(t, k8s.Create(ctx, ing))
	})
	t.Run("an IngressClass of LBC under another name counts", func(t *testing.T) {
		ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: unique("alb-internal")}, Spec: networkingv1.IngressClassSpec{Controller: webhook.ALBIngressController}}
		require.NoError(t, k8s.Create(ctx, ic))
		require.Eventually(t, func() bool {
			err := k8s.Create(ctx, ingress(teamC, ic.Name, shop))
			return err != nil && apierrors.IsInvalid(err)
		}, 10*time.Second, 50*time.Millisecond)
	})
	t.Run("its own host is allowed and claimed", func(t *testing.T) {
		h := "orders." + z.Spec.Domain
		ing := ingress(teamC, "alb", h)
		require.NoError(t, k8s.Create(ctx, ing))
		c, err := getClaim(h)
		require.NoError(t, err)
		assert.Equal(t, teamC, c.Spec.Namespace)
		assert.Equal(t, "Ingress "+teamC+"/"+ing.Name, c.Annotations[webhook.AnnotationClaimedFor])
		used := waitCondition(t, h, v1alpha1.ConditionInUse, metav1.ConditionTrue)
		assert.Contains(t, meta.FindStatusCondition(used.Status.Conditions, v1alpha1.ConditionInUse).Message, "Ingress "+teamC+"/"+ing.Name,
			"an Ingress keeps its claim in use, so the claim is not released as unused")
	})
	t.Run("a host outside every zone passes untouched", func(t *testing.T) {
		require.NoError(t, k8s.Create(ctx, ingress(teamC, "alb", "www.unmanaged.example.org")))
	})
	t.Run("an Ingress of another class is untouched", func(t *testing.T) {
		otherClass(t, "nginx")
		ing := ingress(teamC, "nginx", shop)
		require.NoError(t, k8s.Create(ctx, ing))
		c, err := getClaim(shop)
		require.NoError(t, err)
		assert.Equal(t, teamA, c.Spec.Namespace, "the other class's Ingress claims nothing")
	})
}

func TestTenantGatewayListenerHostnames(t *testing.T) {
	ctx := context.Background()
	z, teamA, shop := owned(t)
	teamC := tenant(t)

	t.Run("a foreign listener hostname is denied", func(t *testing.T) {
		err := k8s.Create(ctx, tenantGateway(teamC, shop))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "spec.listeners[0].hostname")
		assert.Contains(t, err.Error(), fmt.Sprintf("claimed by namespace %q", teamA))
	})
	t.Run("the pool label on a tenant's Gateway changes nothing", func(t *testing.T) {
		gw := tenantGateway(teamC, shop)
		gw.Labels = map[string]string{webhook.LabelPool: "public"}
		err := k8s.Create(ctx, gw)
		require.Error(t, err)
		assert.Contains(t, err.Error(), fmt.Sprintf("claimed by namespace %q", teamA))
	})
	t.Run("its own listener hostname is allowed and claimed", func(t *testing.T) {
		h := "edge." + z.Spec.Domain
		gw := tenantGateway(teamC, h, "www.unmanaged.example.org")
		require.NoError(t, k8s.Create(ctx, gw))
		c, err := getClaim(h)
		require.NoError(t, err)
		assert.Equal(t, teamC, c.Spec.Namespace)
		assert.Equal(t, "Gateway "+teamC+"/"+gw.Name, c.Annotations[webhook.AnnotationClaimedFor])
		used := waitCondition(t, h, v1alpha1.ConditionInUse, metav1.ConditionTrue)
		assert.Contains(t, meta.FindStatusCondition(used.Status.Conditions, v1alpha1.ConditionInUse).Message, "Gateway "+teamC+"/"+gw.Name)
	})
	t.Run("a pool's own Gateway is not checked", func(t *testing.T) {
		gwNS := poolNamespace(t)
		var pools v1alpha1.GatewayPoolList
		require.NoError(t, k8s.List(ctx, &pools))
		name := ""
		for _, p := range pools.Items {
			if p.Spec.Namespace == gwNS {
				name = p.Name
			}
		}
		gw := tenantGateway(gwNS, shop)
		gw.Labels = map[string]string{webhook.LabelPool: name}
		require.NoError(t, k8s.Create(ctx, gw), "the orchestrator seats owners' hostnames on its pool Gateways")
	})
	t.Run("a ListenerSet's foreign hostname is denied", func(t *testing.T) {
		ls := &gwv1.ListenerSet{
			ObjectMeta: metav1.ObjectMeta{Namespace: teamC, Name: unique("ls")},
			Spec: gwv1.ListenerSetSpec{
				ParentRef: gwv1.ParentGatewayReference{Name: "some-gateway"},
				Listeners: []gwv1.ListenerEntry{{Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType, Hostname: ptr.To(gwv1.Hostname(shop)),
					TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "cert"}}}}},
			},
		}
		err := k8s.Create(ctx, ls)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "spec.listeners[0].hostname")
		assert.Contains(t, err.Error(), fmt.Sprintf("claimed by namespace %q", teamA))
	})
}

func TestUpdatesCheckEveryHostnameAgain(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	oldOwner, newOwner := tenant(t), tenant(t)

	t.Run("a hostname transferred by an admin cannot be kept by an update", func(t *testing.T) {
		h := "moved." + z.Spec.Domain
		r := route(oldOwner, h, "kept."+z.Spec.Domain)
		require.NoError(t, k8s.Create(ctx, r))
		require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
			c, err := getClaim(h)
			if err != nil {
				return err
			}
			c.Spec.Namespace = newOwner
			return k8s.Update(ctx, c)
		}))
		require.Eventually(t, func() bool {
			got := &gwv1.HTTPRoute{}
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(r), got); err != nil {
				return false
			}
			got.Labels = map[string]string{"edited": time.Now().Format("150405.000000")}
			err := k8s.Update(ctx, got)
			if apierrors.IsConflict(err) {
				return false // the stand-in wrote the route meanwhile
			}
			return err != nil && assert.Contains(t, err.Error(), fmt.Sprintf("hostname %q is claimed by namespace %q", h, newOwner))
		}, 10*time.Second, 50*time.Millisecond, "the update is denied once the cache sees the transfer")
	})

	t.Run("a claim being deleted owns nothing", func(t *testing.T) {
		h := "leaving." + z.Spec.Domain
		c := adminClaim(h, oldOwner)
		c.Finalizers = []string{"test.opendi.com/hold"}
		require.NoError(t, k8s.Create(ctx, c))
		r := route(oldOwner, h)
		require.Eventually(t, func() bool { return k8s.Create(ctx, r.DeepCopy()) == nil }, 10*time.Second, 50*time.Millisecond)
		require.NoError(t, k8s.Delete(ctx, c))
		t.Cleanup(func() {
			_ = retry.RetryOnConflict(retry.DefaultRetry, func() error {
				got, err := getClaim(c.Name)
				if err != nil {
					return client.IgnoreNotFound(err)
				}
				got.Finalizers = nil
				return k8s.Update(ctx, got)
			})
		})

		require.Eventually(t, func() bool {
			err := k8s.Create(ctx, route(oldOwner, h))
			return err != nil && assert.Contains(t, err.Error(), fmt.Sprintf("hostname %q is being released", h))
		}, 10*time.Second, 50*time.Millisecond, "its owner's new use is denied")
		err := k8s.Create(ctx, route(newOwner, h))
		require.Error(t, err)
		assert.Contains(t, err.Error(), fmt.Sprintf("hostname %q is being released by namespace %q", h, oldOwner))
	})
}

func TestZoneWildcardNeedsTheZonesOptIn(t *testing.T) {
	ctx := context.Background()
	closed := newZone(t)
	ns := tenant(t)
	err := k8s.Create(ctx, route(ns, "*."+closed.Spec.Domain))
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("wildcard %q would cover every name of ManagedZone %q", "*."+closed.Spec.Domain, closed.Name))
	assert.Contains(t, err.Error(), "spec.allowZoneWildcard")

	open := newZone(t, func(z *v1alpha1.ManagedZone) { z.Spec.AllowZoneWildcard = true })
	require.NoError(t, k8s.Create(ctx, route(ns, "*."+open.Spec.Domain)))
	c, err := getClaim("wc--wildcard." + open.Spec.Domain)
	require.NoError(t, err)
	assert.Equal(t, ns, c.Spec.Namespace)
}

func TestDryRunOfEveryDoor(t *testing.T) {
	ctx := context.Background()
	z, teamA, shop := owned(t)
	teamC := tenant(t)
	free := func(kind string) string { return kind + "-free." + z.Spec.Domain }
	cases := []struct {
		name         string
		foreign, own client.Object
		ownHost      string
	}{
		{"GRPCRoute", grpcRoute(teamC, shop), grpcRoute(teamC, free("grpc")), free("grpc")},
		{"Ingress", ingress(teamC, "alb", shop), ingress(teamC, "alb", free("ing")), free("ing")},
		{"Gateway", tenantGateway(teamC, shop), tenantGateway(teamC, free("gw")), free("gw")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := k8s.Create(ctx, tc.foreign, client.DryRunAll)
			require.Error(t, err)
			assert.Contains(t, err.Error(), fmt.Sprintf("claimed by namespace %q", teamA))

			require.NoError(t, k8s.Create(ctx, tc.own, client.DryRunAll))
			_, err = getClaim(tc.ownHost)
			assert.True(t, apierrors.IsNotFound(err), "dry-run must not create a DomainClaim: %v", err)
		})
	}
}

func TestLookAlikeLabelsAreDenied(t *testing.T) {
	z := newZone(t)
	// "pаypal" with a Cyrillic "а": the mutating webhook stores it as punycode, the validator reads
	// the Unicode label back.
	err := k8s.Create(context.Background(), route(tenant(t), "p\u0430ypal."+z.Spec.Domain))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `label "xn--pypal-4ve" (p`+"\u0430"+`ypal) mixes Latin and Cyrillic letters`)
	require.NoError(t, k8s.Create(context.Background(), route(tenant(t), "b\u00fccher-2."+z.Spec.Domain)), "one script with diacritics is fine")
}

func TestClaimOfAnEarlierNamespaceOfTheSameNameIsNotInherited(t *testing.T) {
	ctx := context.Background()
	z := newZone(t, shortRetention)
	ns := tenant(t)
	h := "inherited." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(ns, h)))
	current := &corev1.Namespace{}
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Name: ns}, current))
	require.Eventually(t, func() bool {
		c, err := getClaim(h)
		return err == nil && c.Status.OwnerNamespace != nil && c.Status.OwnerNamespace.UID == current.UID
	}, 10*time.Second, 50*time.Millisecond, "the claim records its namespace's UID")

	// envtest runs no namespace controller, so a deleted namespace never goes away: record an
	// earlier incarnation's UID instead, as a namespace deleted and created again would leave it.
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c, err := getClaim(h)
		if err != nil {
			return err
		}
		c.Status.OwnerNamespace.UID = "uid-of-an-earlier-namespace"
		return k8s.Status().Update(ctx, c)
	}))
	require.Eventually(t, func() bool {
		err := k8s.Create(ctx, route(ns, h))
		return err != nil && assert.Contains(t, err.Error(), fmt.Sprintf("hostname %q was claimed by an earlier namespace named %q", h, ns))
	}, 10*time.Second, 50*time.Millisecond)
	waitGone(t, h, 15*time.Second)
	// The webhook decides the common cases from its cache, which may hold the released claim for a
	// moment after it is gone (seconds on a loaded machine): the namespace wins the name once it sees.
	err := k8s.Create(ctx, route(ns, h))
	for deadline := time.Now().Add(10 * time.Second); err != nil && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		err = k8s.Create(ctx, route(ns, h))
	}
	require.NoError(t, err, "once released, the namespace claims the hostname again")
	c, err := getClaim(h)
	require.NoError(t, err)
	assert.Equal(t, ns, c.Spec.Namespace)
}
