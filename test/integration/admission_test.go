package integration

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/webhook"
)

func TestFreeHostnameIsAdmittedAndClaimedForTheNamespace(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	ns := tenant(t)
	h := "shop." + z.Spec.Domain

	require.NoError(t, k8s.Create(ctx, route(ns, h)))

	c, err := getClaim(h)
	require.NoError(t, err, "kubectl get domainclaim <hostname> must find the claim")
	assert.Equal(t, h, c.Spec.Hostname)
	assert.Equal(t, ns, c.Spec.Namespace)
	assert.Equal(t, v1alpha1.ClaimedByRoute, c.Spec.ClaimedBy)
	assert.Equal(t, ns, c.Labels[webhook.LabelOwner])
}

func TestSecondNamespaceIsDeniedWithTheOwnerNamed(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	owner, other := tenant(t), tenant(t)
	h := "shop." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(owner, h)))

	err := k8s.Create(ctx, route(other, h))

	require.Error(t, err)
	assert.True(t, apierrors.IsInvalid(err), "a denial is reported as an invalid object: %v", err)
	msg := err.Error()
	assert.Contains(t, msg, fmt.Sprintf(`hostname %q is claimed by namespace %q (DomainClaim %s, since `, h, owner, h))
	assert.Contains(t, msg, "spec.hostnames[0]")

	// The owner itself may keep adding routes for its hostname.
	require.NoError(t, k8s.Create(ctx, route(owner, h)))
}

func TestEquivalentSpellingsAreOneHostname(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	owner, other := tenant(t), tenant(t)
	r := route(owner, "Shop."+strings.ToUpper(z.Spec.Domain)+".")
	require.NoError(t, k8s.Create(ctx, r))

	stored := &gwv1.HTTPRoute{}
	require.NoError(t, k8s.Get(ctx, client.ObjectKeyFromObject(r), stored))
	assert.Equal(t, []gwv1.Hostname{gwv1.Hostname("shop." + z.Spec.Domain)}, stored.Spec.Hostnames, "the mutating webhook normalizes before the schema runs")

	err := k8s.Create(ctx, route(other, "shop."+z.Spec.Domain))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is claimed by namespace")
}

func TestUnicodeHostnameIsStoredAsPunycode(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	r := route(tenant(t), "bücher."+z.Spec.Domain)
	require.NoError(t, k8s.Create(ctx, r))
	stored := &gwv1.HTTPRoute{}
	require.NoError(t, k8s.Get(ctx, client.ObjectKeyFromObject(r), stored))
	assert.Equal(t, gwv1.Hostname("xn--bcher-kva."+z.Spec.Domain), stored.Spec.Hostnames[0])
	_, err := getClaim("xn--bcher-kva." + z.Spec.Domain)
	assert.NoError(t, err)
}

func TestHostnameOutsideEveryZoneIsDenied(t *testing.T) {
	err := k8s.Create(context.Background(), route(tenant(t), "shop.unmanaged.example.org"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `hostname "shop.unmanaged.example.org" is not under any ManagedZone`)
}

func TestNamespaceNotAllowedByTheZoneIsDenied(t *testing.T) {
	z := newZone(t)
	outsider := newNamespace(t, nil)
	err := k8s.Create(context.Background(), route(outsider, "shop."+z.Spec.Domain))
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("namespace %q may not claim hostnames in ManagedZone %q", outsider, z.Name))
}

func TestZoneAllowsNamespacesByName(t *testing.T) {
	listed := newNamespace(t, nil)
	z := newZone(t, func(z *v1alpha1.ManagedZone) { z.Spec.AllowedNamespaces.Names = []string{listed} })
	require.NoError(t, k8s.Create(context.Background(), route(listed, "a."+z.Spec.Domain)))
}

func TestLongestMatchingZoneDecides(t *testing.T) {
	parent := newZone(t)
	onlyListed := newNamespace(t, nil)
	child := newZone(t, func(z *v1alpha1.ManagedZone) {
		z.Spec.Domain = "team." + parent.Spec.Domain
		z.Spec.AllowedNamespaces = v1alpha1.AllowedNamespaces{Names: []string{onlyListed}}
	})
	err := k8s.Create(context.Background(), route(tenant(t), "x."+child.Spec.Domain))
	require.Error(t, err, "the child zone, not the parent, decides who may claim below it")
	assert.Contains(t, err.Error(), child.Name)
	require.NoError(t, k8s.Create(context.Background(), route(onlyListed, "x."+child.Spec.Domain)))
}

func TestMalformedHostnamesAreDenied(t *testing.T) {
	z := newZone(t)
	ns := tenant(t)
	long := strings.Repeat("a", 64)
	cases := []struct {
		name, hostname, want string
	}{
		{"an IP address", "10.1.2.3", "IP address"},
		{"a wildcard that is not the leftmost label", "a.*." + z.Spec.Domain, ""},
		{"a partial wildcard label", "a*." + z.Spec.Domain, ""},
		{"a label over 63 characters", long + "." + z.Spec.Domain, "at most 63"},
		{"a name over 253 characters", strings.Repeat("abcdefghij.", 24) + z.Spec.Domain, ""},
		{"a reserved double-hyphen label", "ab--cd." + z.Spec.Domain, "reserved"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := k8s.Create(context.Background(), route(ns, tc.hostname))
			require.Error(t, err)
			assert.True(t, apierrors.IsInvalid(err), "%v", err)
			assert.Contains(t, err.Error(), "spec.hostnames[0]")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestEveryBadHostnameIsListedInOneResponse(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	owner, other := tenant(t), tenant(t)
	taken := "taken." + z.Spec.Domain
	// A route with hostnames that fail on their own claims nothing, so the taken name is decided
	// from the webhook's cache only: wait until the cache holds its claim.
	claimedInCache(t, owner, taken)

	free := "free." + z.Spec.Domain
	err := k8s.Create(ctx, route(other, free, taken, "x.nowhere.example.org", "10.9.8.7"))
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "spec.hostnames[1]")
	assert.Contains(t, msg, "spec.hostnames[2]")
	assert.Contains(t, msg, "spec.hostnames[3]")
	assert.NotContains(t, msg, "spec.hostnames[0]")
	_, err = getClaim(free)
	assert.True(t, apierrors.IsNotFound(err), "a denied route claims nothing: %v", err)
}

func TestServerSideDryRun(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	owner, other := tenant(t), tenant(t)
	taken := "taken." + z.Spec.Domain
	// A route with hostnames that fail on their own claims nothing, so the taken name is decided
	// from the webhook's cache only: wait until the cache holds its claim.
	claimedInCache(t, owner, taken)

	t.Run("a conflicting route is denied", func(t *testing.T) {
		err := k8s.Create(ctx, route(other, taken), client.DryRunAll)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "is claimed by namespace")
	})
	t.Run("a free hostname is allowed and nothing is claimed", func(t *testing.T) {
		free := "free." + z.Spec.Domain
		require.NoError(t, k8s.Create(ctx, route(other, free), client.DryRunAll))
		_, err := getClaim(free)
		assert.True(t, apierrors.IsNotFound(err), "dry-run must not create a DomainClaim: %v", err)
		// And the real apply that follows gets the same verdict.
		require.NoError(t, k8s.Create(ctx, route(other, free)))
	})
}

func TestUpdates(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	owner, other := tenant(t), tenant(t)
	theirs := "theirs." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, route(owner, theirs)))
	mine := route(other, "mine."+z.Spec.Domain, "second."+z.Spec.Domain)
	require.NoError(t, k8s.Create(ctx, mine))

	t.Run("adding a hostname owned by another namespace is denied", func(t *testing.T) {
		r := mine.DeepCopy()
		err := updateLatest(ctx, r, func() { r.Spec.Hostnames = append(r.Spec.Hostnames, gwv1.Hostname(theirs)) })
		require.Error(t, err)
		assert.Contains(t, err.Error(), fmt.Sprintf("claimed by namespace %q", owner))
	})
	t.Run("removing a hostname is allowed", func(t *testing.T) {
		r := mine.DeepCopy()
		require.NoError(t, updateLatest(ctx, r, func() { r.Spec.Hostnames = r.Spec.Hostnames[:1] }))
	})
	t.Run("adding a free hostname claims it", func(t *testing.T) {
		r := mine.DeepCopy()
		require.NoError(t, updateLatest(ctx, r, func() { r.Spec.Hostnames = append(r.Spec.Hostnames, gwv1.Hostname("third."+z.Spec.Domain)) }))
		c, err := getClaim("third." + z.Spec.Domain)
		require.NoError(t, err)
		assert.Equal(t, other, c.Spec.Namespace)
	})
}

func TestWildcardOverlaps(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	a, b := tenant(t), tenant(t)

	t.Run("a name under another namespace's wildcard is denied", func(t *testing.T) {
		require.NoError(t, k8s.Create(ctx, route(a, "*.w1."+z.Spec.Domain)))
		for _, h := range []string{"x.w1." + z.Spec.Domain, "x.y.w1." + z.Spec.Domain, "*.y.w1." + z.Spec.Domain} {
			err := k8s.Create(ctx, route(b, h))
			require.Error(t, err, h)
			assert.Contains(t, err.Error(), fmt.Sprintf(`is covered by wildcard "*.w1.%s", claimed by namespace %q`, z.Spec.Domain, a))
		}
		// The wildcard does not match its own domain.
		require.NoError(t, k8s.Create(ctx, route(b, "w1."+z.Spec.Domain)))
	})
	t.Run("a wildcard over another namespace's names is denied", func(t *testing.T) {
		require.NoError(t, k8s.Create(ctx, route(b, "deep.x.w2."+z.Spec.Domain)))
		err := k8s.Create(ctx, route(a, "*.w2."+z.Spec.Domain))
		require.Error(t, err)
		assert.Contains(t, err.Error(), fmt.Sprintf(`would cover "deep.x.w2.%s", claimed by namespace %q`, z.Spec.Domain, b))
		_, err = getClaim("wc--wildcard.w2." + z.Spec.Domain)
		assert.True(t, apierrors.IsNotFound(err))
	})
	t.Run("the wildcard's owner uses names below it", func(t *testing.T) {
		require.NoError(t, k8s.Create(ctx, route(a, "*.w3."+z.Spec.Domain)))
		c, err := getClaim("wc--wildcard.w3." + z.Spec.Domain)
		require.NoError(t, err, "a wildcard's claim is found under its documented name")
		assert.Equal(t, "*.w3."+z.Spec.Domain, c.Spec.Hostname)

		require.NoError(t, k8s.Create(ctx, route(a, "one.w3."+z.Spec.Domain)))
		_, err = getClaim("one.w3." + z.Spec.Domain)
		assert.True(t, apierrors.IsNotFound(err), "a name one label below is covered by the wildcard's claim and certificate")

		require.NoError(t, k8s.Create(ctx, route(a, "two.one.w3."+z.Spec.Domain)))
		c, err = getClaim("two.one.w3." + z.Spec.Domain)
		require.NoError(t, err, "deeper names get claims of their own: a wildcard certificate covers one label")
		assert.Equal(t, a, c.Spec.Namespace)
	})
}

// TestAutoAttachment: admission leaves a route without parentRefs as it is (no mutating webhook
// call for a normalized route); the routes reconciler opts it in and attaches it to the Gateway
// its hostname is seated on in one write, so no stored version is marked without its parent.
// Routes with parentRefs of their own, or that opted out, are left alone.
func TestAutoAttachment(t *testing.T) {
	ctx := context.Background()
	z, p := servedZone(t)
	ns := tenant(t)
	h := "app." + z.Spec.Domain

	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: k8s.Scheme()})
	require.NoError(t, err)
	w, err := wc.Watch(ctx, &gwv1.HTTPRouteList{}, client.InNamespace(ns))
	require.NoError(t, err)
	defer w.Stop()

	first := route(ns, h)
	require.NoError(t, k8s.Create(ctx, first))
	assert.Empty(t, first.Annotations[v1alpha1.AnnotationAutoAttach], "admission does not mark it")
	assert.Empty(t, first.Spec.ParentRefs)
	own := route(ns, h)
	own.Spec.ParentRefs = []gwv1.ParentReference{{Name: "mine"}}
	require.NoError(t, k8s.Create(ctx, own))
	optedOut := route(ns, h)
	optedOut.Annotations = map[string]string{v1alpha1.AnnotationAutoAttach: "false"}
	require.NoError(t, k8s.Create(ctx, optedOut))

	c := ready(t, h, 60*time.Second)
	gw := *c.Status.Gateway
	assert.Equal(t, p.Spec.Namespace, gw.Namespace)
	stored := &gwv1.HTTPRoute{}
	require.Eventually(t, func() bool {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(first), stored); err != nil {
			return false
		}
		return len(stored.Spec.ParentRefs) == 1
	}, 10*time.Second, 50*time.Millisecond, "the route is attached to its hostname's Gateway")
	assert.Equal(t, "true", stored.Annotations[v1alpha1.AnnotationAutoAttach])
	assert.Equal(t, gwv1.ObjectName(gw.Name), stored.Spec.ParentRefs[0].Name)
	assert.Equal(t, gwv1.Namespace(gw.Namespace), *stored.Spec.ParentRefs[0].Namespace)
	assert.Nil(t, stored.Spec.ParentRefs[0].SectionName, "no section: the route follows its hostname's listener")

	// A route created once the hostname is seated is attached too.
	second := route(ns, h)
	require.NoError(t, k8s.Create(ctx, second))
	require.Eventually(t, func() bool {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(second), stored); err != nil {
			return false
		}
		return len(stored.Spec.ParentRefs) == 1 && stored.Annotations[v1alpha1.AnnotationAutoAttach] == "true"
	}, 10*time.Second, 50*time.Millisecond)

	// Every version the API server stored had the mark and the parentRef together, or neither.
	versions := 0
	for drained := false; !drained; {
		select {
		case ev := <-w.ResultChan():
			rt, ok := ev.Object.(*gwv1.HTTPRoute)
			if !ok || (rt.Name != first.Name && rt.Name != second.Name) {
				continue
			}
			versions++
			marked := rt.Annotations[v1alpha1.AnnotationAutoAttach] == "true"
			assert.Equal(t, marked, len(rt.Spec.ParentRefs) > 0, "version %s of %s: marked=%v parentRefs=%v", rt.ResourceVersion, rt.Name, marked, rt.Spec.ParentRefs)
		case <-time.After(500 * time.Millisecond):
			drained = true
		}
	}
	assert.GreaterOrEqual(t, versions, 4, "both routes were seen created and attached")

	for _, r := range []*gwv1.HTTPRoute{own, optedOut} {
		require.NoError(t, k8s.Get(ctx, client.ObjectKeyFromObject(r), stored))
		assert.Equal(t, r.Annotations[v1alpha1.AnnotationAutoAttach], stored.Annotations[v1alpha1.AnnotationAutoAttach], r.Name)
		assert.Equal(t, r.Spec.ParentRefs, stored.Spec.ParentRefs, "%s keeps its own parentRefs", r.Name)
	}
}

// TestConcurrentClaimsHaveExactlyOneWinner races 32 namespaces for one hostname, spelled
// differently by each, again and again: every trial must end with exactly one admitted route and
// exactly one DomainClaim, owned by the winner.
func TestConcurrentClaimsHaveExactlyOneWinner(t *testing.T) {
	const racers = 32
	trials := 200
	if testing.Short() {
		trials = 20
	}
	ctx := context.Background()
	z := newZone(t)
	namespaces := make([]string, racers)
	for i := range namespaces {
		namespaces[i] = tenant(t)
	}
	spell := []func(string) string{
		func(h string) string { return h },
		strings.ToUpper,
		func(h string) string { return h + "." },
		func(h string) string { return strings.ToUpper(h[:1]) + h[1:] + "." },
	}
	for trial := 0; trial < trials; trial++ {
		h := fmt.Sprintf("race-%d.%s", trial, z.Spec.Domain)
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, racers)
		for i := 0; i < racers; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := route(namespaces[i], spell[i%len(spell)](h))
				<-start
				errs[i] = k8s.Create(ctx, r)
			}(i)
		}
		close(start)
		wg.Wait()

		winners := []string{}
		for i, err := range errs {
			if err == nil {
				winners = append(winners, namespaces[i])
				continue
			}
			require.True(t, apierrors.IsInvalid(err), "trial %d: a loser must be denied, not fail otherwise: %v", trial, err)
			require.Contains(t, err.Error(), "is claimed by namespace", "trial %d", trial)
		}
		require.Len(t, winners, 1, "trial %d: exactly one namespace must win %s", trial, h)

		var claims v1alpha1.DomainClaimList
		require.NoError(t, k8s.List(ctx, &claims))
		n := 0
		for _, c := range claims.Items {
			if c.Spec.Hostname == h {
				n++
				require.Equal(t, winners[0], c.Spec.Namespace, "trial %d: the claim belongs to the admitted route's namespace", trial)
			}
		}
		require.Equal(t, 1, n, "trial %d: exactly one DomainClaim for %s", trial, h)
	}
}

func TestAdminClaimsAreCheckedAgainstWildcards(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	a, b := tenant(t), tenant(t)
	require.NoError(t, k8s.Create(ctx, route(a, "*.res."+z.Spec.Domain)))

	err := k8s.Create(ctx, adminClaim("x.res."+z.Spec.Domain, b))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is covered by wildcard")

	err = k8s.Create(ctx, &v1alpha1.DomainClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "wrong-name." + z.Spec.Domain},
		Spec:       v1alpha1.DomainClaimSpec{Hostname: "right." + z.Spec.Domain, Namespace: b},
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("must be named %q", "right."+z.Spec.Domain))

	// An admin reservation is honoured at admission like any claim.
	reserved := "reserved." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, adminClaim(reserved, b)))
	err = k8s.Create(ctx, route(a, reserved))
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("claimed by namespace %q", b))
}

func TestClaimHostnameIsImmutable(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	h := "fixed." + z.Spec.Domain
	require.NoError(t, k8s.Create(ctx, adminClaim(h, tenant(t))))
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c, err := getClaim(h)
		require.NoError(t, err)
		c.Spec.Hostname = "other." + z.Spec.Domain
		return k8s.Update(ctx, c)
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "hostname is immutable")
}

func TestManagedZoneAndPoolRules(t *testing.T) {
	ctx := context.Background()
	z := newZone(t)
	t.Run("a second zone for the same domain is denied", func(t *testing.T) {
		dup := z.DeepCopy()
		dup.ObjectMeta = metav1.ObjectMeta{Name: unique("dup")}
		err := k8s.Create(ctx, dup)
		require.Error(t, err)
		assert.Contains(t, err.Error(), fmt.Sprintf("already managed by ManagedZone %q", z.Name))
	})
	t.Run("a pool with fewer rules than certificates is denied", func(t *testing.T) {
		err := k8s.Create(ctx, pool(unique("pool"), func(p *v1alpha1.GatewayPool) { p.Spec.MaxRulesPerGateway = 10 }))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "every hostname needs at least one ALB rule")
	})
	t.Run("a pool whose minimum exceeds its maximum is denied", func(t *testing.T) {
		err := k8s.Create(ctx, pool(unique("pool"), func(p *v1alpha1.GatewayPool) { p.Spec.MinGateways, p.Spec.MaxGateways = 5, 2 }))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "minGateways must not exceed maxGateways")
	})
	t.Run("a pool in use by a zone cannot be deleted", func(t *testing.T) {
		p := pool(unique("pool"))
		require.NoError(t, k8s.Create(ctx, p))
		user := newZone(t, func(z *v1alpha1.ManagedZone) { z.Spec.GatewayPoolRef = &v1alpha1.LocalObjectReference{Name: p.Name} })
		require.Eventually(t, func() bool {
			var l v1alpha1.ManagedZoneList
			_ = env.Manager.GetCache().List(ctx, &l)
			for _, z := range l.Items {
				if z.Name == user.Name {
					return true
				}
			}
			return false
		}, 10*time.Second, 20*time.Millisecond)
		err := k8s.Delete(ctx, p)
		require.Error(t, err)
		assert.Contains(t, err.Error(), fmt.Sprintf("ManagedZone %q", user.Name))
	})
}
