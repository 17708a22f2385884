package integration

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/reconciler/gatewaypool"
	"github.com/opendi/gateway-orchestrator/test/awsfake"
	"github.com/opendi/gateway-orchestrator/test/lbcstandin"
)

// servedZone creates a pool (in a fresh namespace) and a zone it serves.
func servedZone(t *testing.T, mutate ...func(*v1alpha1.GatewayPool)) (*v1alpha1.ManagedZone, *v1alpha1.GatewayPool) {
	t.Helper()
	ctx := context.Background()
	gwNS := unique("gw")
	require.NoError(t, k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: gwNS}}))
	p := pool(unique("pool"), func(p *v1alpha1.GatewayPool) { p.Spec.Namespace = gwNS })
	for _, m := range mutate {
		m(p)
	}
	require.NoError(t, k8s.Create(ctx, p))
	z := newZone(t, func(z *v1alpha1.ManagedZone) { z.Spec.GatewayPoolRef = &v1alpha1.LocalObjectReference{Name: p.Name} })
	return z, p
}

func ready(t *testing.T, name string, within time.Duration) *v1alpha1.DomainClaim {
	t.Helper()
	var c *v1alpha1.DomainClaim
	require.Eventually(t, func() bool {
		var err error
		c, err = getClaim(name)
		return err == nil && meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionReady)
	}, within, 100*time.Millisecond, "claim %s never became Ready: %+v", name, func() any {
		if c == nil {
			return nil
		}
		return c.Status.Conditions
	}())
	return c
}

// listenerCertificates returns the certificates on the HTTPS listener of a Gateway's ALB.
func listenerCertificates(gw v1alpha1.ObjectRef) []string {
	name := lbcstandin.LoadBalancerName(gw.Namespace, gw.Name)
	for _, lb := range env.AWS.ELB.LoadBalancers() {
		if lb.Name == name {
			for _, l := range env.AWS.ELB.Listeners(lb.ARN) {
				if l.Port == 443 {
					return l.Certificates
				}
			}
		}
	}
	return nil
}

func TestRouteWithoutParentRefsIsServedOverHTTPS(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	ns := tenant(t)
	h := "e2e." + z.Spec.Domain
	r := route(ns, h)
	require.NoError(t, k8s.Create(ctx, r))

	c := ready(t, h, 60*time.Second)
	require.NotNil(t, c.Status.Gateway)
	assert.Equal(t, p.Spec.Namespace, c.Status.Gateway.Namespace)
	assert.Equal(t, p.Name+"-1", c.Status.Gateway.Name)

	// LBC programs the listener from the configuration after the claim is Ready: wait for it.
	require.Eventually(t, func() bool { return slices.Contains(listenerCertificates(*c.Status.Gateway), c.Status.CertificateARN) },
		10*time.Second, 50*time.Millisecond, "the certificate is on the ALB's HTTPS listener")
	var alias *awsfake.RecordSet
	for _, rs := range env.AWS.Route53.Records(z.Spec.HostedZoneID) {
		if rs.Name == h+"." && rs.Type == "A" {
			alias = &rs
		}
	}
	require.NotNil(t, alias, "an ALIAS record to the ALB")
	assert.Equal(t, c.Status.LoadBalancerHostname, alias.Alias.DNSName)
	assert.Equal(t, awsfake.ALBZoneID, alias.Alias.HostedZoneID)

	gw := &gwv1.Gateway{}
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Namespace: c.Status.Gateway.Namespace, Name: c.Status.Gateway.Name}, gw))
	var own *gwv1.Listener
	for i := range gw.Spec.Listeners {
		if string(gw.Spec.Listeners[i].Name) == c.Name {
			own = &gw.Spec.Listeners[i]
		}
	}
	require.NotNil(t, own, "the hostname has a listener named like its claim: %+v", gw.Spec.Listeners)
	require.NotNil(t, own.Hostname)
	assert.Equal(t, gwv1.Hostname(h), *own.Hostname)
	sel := own.AllowedRoutes.Namespaces.Selector
	require.NotNil(t, sel, "the listener admits the owner's namespace")
	assert.Equal(t, map[string]string{"kubernetes.io/metadata.name": ns}, sel.MatchLabels, "and only the owner's")
	assert.Len(t, gw.Spec.Listeners, 1, "no other listener (none without a hostname)")
	assert.Equal(t, c.Status.CertificateARN, gw.Annotations[gatewaypool.AnnotationCertificateARN])

	require.Eventually(t, func() bool {
		got := &gwv1.HTTPRoute{}
		return k8s.Get(ctx, client.ObjectKeyFromObject(r), got) == nil && len(got.Spec.ParentRefs) == 1 &&
			string(got.Spec.ParentRefs[0].Name) == c.Status.Gateway.Name
	}, 10*time.Second, 100*time.Millisecond, "the opted-in route gets its Gateway as parent")
}

func TestThirtyHostnamesFillTwoGatewaysAndCleanUp(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	ns := tenant(t)
	// Things in the account the orchestrator did not make, which must survive everything below.
	env.AWS.Route53.Put(z.Spec.HostedZoneID, awsfake.RecordSet{Name: "legacy." + z.Spec.Domain, Type: "A", TTL: ptr.To[int64](60), Values: []string{"192.0.2.1"}})
	var routes []*gwv1.HTTPRoute
	for i := 0; i < 30; i++ {
		r := route(ns, fmt.Sprintf("h%02d.%s", i, z.Spec.Domain))
		routes = append(routes, r)
		require.NoError(t, k8s.Create(ctx, r))
	}
	perGateway := map[string]int{}
	var claims []*v1alpha1.DomainClaim
	for i := 0; i < 30; i++ {
		c := ready(t, fmt.Sprintf("h%02d.%s", i, z.Spec.Domain), 120*time.Second)
		claims = append(claims, c)
		perGateway[c.Status.Gateway.Name]++
	}
	assert.Equal(t, map[string]int{p.Name + "-1": 25, p.Name + "-2": 5}, perGateway, "first fit: 25 certificates on the first Gateway, 5 on the second")
	var onListeners map[string]int
	require.Eventually(t, func() bool {
		onListeners = map[string]int{}
		for _, g := range []string{p.Name + "-1", p.Name + "-2"} {
			for _, arn := range listenerCertificates(v1alpha1.ObjectRef{Namespace: p.Spec.Namespace, Name: g}) {
				onListeners[arn]++
			}
		}
		for _, c := range claims {
			if onListeners[c.Status.CertificateARN] != 1 {
				return false
			}
		}
		return true
	}, 20*time.Second, 100*time.Millisecond, "each certificate is on exactly one listener: %v", onListeners)

	require.Eventually(t, func() bool {
		_ = k8s.Get(ctx, client.ObjectKeyFromObject(p), p)
		return len(p.Status.Gateways) == 2 && p.Status.Gateways[0].Rules == 25 && p.Status.Gateways[0].Certificates == 24 &&
			p.Status.Gateways[1].Rules == 5 && p.Status.Gateways[1].Address != ""
	}, 20*time.Second, 100*time.Millisecond, "pool status shows each Gateway's load: %+v", p.Status.Gateways)

	// The default certificate of the first Gateway survives others coming and going.
	cfg := &unstructured.Unstructured{}
	cfg.SetGroupVersionKind(gatewaypool.LoadBalancerConfigurationGVK)
	require.NoError(t, k8s.Get(ctx, client.ObjectKey{Namespace: p.Spec.Namespace, Name: p.Name + "-1"}, cfg))
	def := gatewaypool.ListenerCertificatesOf(cfg).DefaultCertificate
	require.NotEmpty(t, def)
	for i, c := range claims {
		if c.Status.Gateway.Name == p.Name+"-1" && c.Status.CertificateARN != def && i%2 == 0 {
			require.NoError(t, k8s.Delete(ctx, c))
		}
	}
	assert.Never(t, func() bool {
		err := k8s.Get(ctx, client.ObjectKey{Namespace: p.Spec.Namespace, Name: p.Name + "-1"}, cfg)
		return err != nil || gatewaypool.ListenerCertificatesOf(cfg).DefaultCertificate != def
	}, 3*time.Second, 100*time.Millisecond, "the default certificate does not change")

	// Everything goes: routes and claims.
	for _, r := range routes {
		require.NoError(t, client.IgnoreNotFound(k8s.Delete(ctx, r)))
	}
	var l v1alpha1.DomainClaimList
	require.NoError(t, k8s.List(ctx, &l))
	for i := range l.Items {
		if l.Items[i].Status.ManagedZone == z.Name {
			require.NoError(t, client.IgnoreNotFound(k8s.Delete(ctx, &l.Items[i])))
		}
	}
	require.Eventually(t, func() bool {
		for _, c := range claims {
			if _, err := getClaim(c.Name); !apierrors.IsNotFound(err) {
				return false
			}
		}
		return true
	}, 120*time.Second, 200*time.Millisecond, "every claim is released after its certificate was detached and deleted")
	for _, c := range claims {
		assert.Empty(t, env.AWS.ACM.ForDomain(c.Spec.Hostname))
	}
	recs := env.AWS.Route53.Records(z.Spec.HostedZoneID)
	require.Len(t, recs, 1, "no ALIAS, marker or validation record is left; the foreign record is")
	assert.Equal(t, "legacy."+z.Spec.Domain+".", recs[0].Name)
	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.Len(c, poolGateways(c, p.Spec.Namespace, p.Name), 1) }, 30*time.Second, 200*time.Millisecond,
		"the empty surplus Gateway is removed")
	gw := poolGateways(t, p.Spec.Namespace, p.Name)[0]
	assert.Nil(t, gw.Spec.Listeners[0].AllowedRoutes.Namespaces.Selector, "no namespace is admitted any more")
	names := []string{}
	for _, lb := range env.AWS.ELB.LoadBalancers() {
		names = append(names, lb.Name)
	}
	sort.Strings(names)
	assert.NotContains(t, names, lbcstandin.LoadBalancerName(p.Spec.Namespace, p.Name+"-2"), "the removed Gateway's ALB is gone")
}

func TestGatewayWhoseLoadBalancerNeverComesUpLeavesClaimsWaiting(t *testing.T) {
	ctx := context.Background()
	z, _ := servedZone(t, func(p *v1alpha1.GatewayPool) { env.StandIn.Break(p.Spec.Namespace, p.Name+"-1") })
	h := "stuck." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(tenant(t), h)))
	var c *v1alpha1.DomainClaim
	defer func() {
		if t.Failed() && c != nil {
			t.Logf("conditions: %+v", c.Status.Conditions)
		}
	}()
	require.Eventually(t, func() bool {
		var err error
		c, err = getClaim(h)
		if err != nil {
			return false
		}
		cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionLoadBalancerReady)
		return cond != nil && cond.Status == metav1.ConditionFalse
	}, 60*time.Second, 100*time.Millisecond, "the claim says it waits for the load balancer")
	cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionLoadBalancerReady)
	assert.Equal(t, v1alpha1.ReasonPending, cond.Reason)
	assert.Contains(t, cond.Message, "waiting for the AWS Load Balancer Controller to program Gateway")
	readyCond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionReady)
	require.NotNil(t, readyCond)
	assert.Equal(t, metav1.ConditionFalse, readyCond.Status)
}

// TestHundredsOfConcurrentClaimsNeverOverfillAGateway assigns 200 hostnames, created at once,
// to Gateways of 25 certificates: no Gateway may ever carry more, and every certificate sits on
// exactly one listener.
func TestHundredsOfConcurrentClaimsNeverOverfillAGateway(t *testing.T) {
	ctx := context.Background()
	const n = 200
	z, p := servedZone(t, func(p *v1alpha1.GatewayPool) { p.Spec.MaxGateways = 20 })
	ns := tenant(t)
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func(i int) { errs <- k8s.Create(ctx, route(ns, fmt.Sprintf("c%03d.%s", i, z.Spec.Domain))) }(i)
	}
	for i := 0; i < n; i++ {
		require.NoError(t, <-errs)
	}
	perGateway := map[string]int{}
	fullest := 0 // the most claims one Gateway seated at any time
	require.Eventually(t, func() bool {
		var l v1alpha1.DomainClaimList
		if err := k8s.List(ctx, &l); err != nil {
			return false
		}
		perGateway = map[string]int{}
		done := 0
		for _, c := range l.Items {
			if c.Status.ManagedZone != z.Name {
				continue
			}
			if c.Status.Gateway != nil {
				perGateway[c.Status.Gateway.Name]++
			}
			if meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionReady) {
				done++
			}
		}
		for _, count := range perGateway {
			fullest = max(fullest, count)
		}
		return done == n
	}, 180*time.Second, 250*time.Millisecond, "all claims Ready")
	assert.LessOrEqual(t, fullest, 25, "no Gateway was ever over capacity")
	assert.Len(t, perGateway, 8, "200 certificates fill 8 Gateways of 25: %v", perGateway)
	for g, count := range perGateway {
		cfg := &unstructured.Unstructured{}
		cfg.SetGroupVersionKind(gatewaypool.LoadBalancerConfigurationGVK)
		require.NoError(t, k8s.Get(ctx, client.ObjectKey{Namespace: p.Spec.Namespace, Name: g}, cfg))
		certs := gatewaypool.ListenerCertificatesOf(cfg)
		assert.Equal(t, count, 1+len(certs.Certificates), "the configuration of %s names each of its claims' certificates once", g)
		assert.LessOrEqual(t, len(certs.Certificates), 25)
	}
}

func TestRouteSpreadOverTwoGatewaysGetsBothParentsAndSaysWhy(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t, func(p *v1alpha1.GatewayPool) { p.Spec.MaxCertificatesPerGateway, p.Spec.MaxRulesPerGateway = 1, 1 })
	ns := tenant(t)
	a, b := "a."+z.Spec.Domain, "b."+z.Spec.Domain
	r := route(ns, a, b)
	require.NoError(t, k8s.Create(ctx, r))
	ca, cb := ready(t, a, 60*time.Second), ready(t, b, 60*time.Second)
	require.NotEqual(t, ca.Status.Gateway.Name, cb.Status.Gateway.Name, "one certificate per Gateway puts the two names on two Gateways")

	got := &gwv1.HTTPRoute{}
	require.Eventually(t, func() bool {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(r), got); err != nil {
			return false
		}
		return len(got.Spec.ParentRefs) == 2
	}, 20*time.Second, 100*time.Millisecond, "both Gateways are parents")
	// LBC owns the route's status entries for its Gateways; the orchestrator explains with an Event.
	var note string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		note = routeEvent(c, r, v1alpha1.EventHostnamesSpread)
		assert.NotEmpty(c, note)
	}, 20*time.Second, 100*time.Millisecond, "an Event on the route says why it has two parents")
	assert.Contains(t, note, "spread over 2 Gateways of pool "+p.Name)
	assert.Contains(t, note, "Gateway "+p.Spec.Namespace+"/"+ca.Status.Gateway.Name+" serves "+a)
	assert.Contains(t, note, "Gateway "+p.Spec.Namespace+"/"+cb.Status.Gateway.Name+" serves "+b)
	for _, ps := range got.Status.Parents {
		assert.Equal(t, gwv1.GatewayController(lbcstandin.ControllerName), ps.ControllerName, "only LBC writes the route's parent entries")
	}
}

// routeEvent returns the note of the newest Event with the reason on a route, or "".
func routeEvent(t require.TestingT, o client.Object, reason string) string {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	var l eventsv1.EventList
	require.NoError(t, k8s.List(context.Background(), &l, client.InNamespace(o.GetNamespace())))
	note := ""
	for _, e := range l.Items {
		if e.Regarding.Name == o.GetName() && e.Reason == reason {
			note = e.Note
		}
	}
	return note
}
