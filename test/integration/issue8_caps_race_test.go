package integration

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/webhook"
)

// liveClaims reads namespace ns's claims straight from the API server and says how many there
// are and how many of them are unbound.
func liveClaims(t *testing.T, ns string) (all, unbound int) {
	t.Helper()
	var l v1alpha1.DomainClaimList
	require.NoError(t, k8s.List(context.Background(), &l, client.MatchingLabels{webhook.LabelOwner: ns}))
	for i := range l.Items {
		all++
		if index.Unbound(&l.Items[i]) {
			unbound++
		}
	}
	return all, unbound
}

// raceCreates sends n creates at once; build returns the i-th object. It returns how many were
// admitted and the denials, which must all be the cap's.
func raceCreates(t *testing.T, n int, build func(i int) client.Object, admitted func(error) bool) (int, []string) {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = k8s.Create(context.Background(), build(i))
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	var denials []string
	for _, err := range errs {
		switch {
		case admitted(err):
			ok++
		case apierrors.IsInvalid(err):
			denials = append(denials, err.Error())
		default:
			t.Fatalf("neither admitted nor denied by the cap: %v", err)
		}
	}
	return ok, denials
}

// TestTheCapPlusFirstClaimIsDeniedAtOnce: one create after another, the create that would make
// the cap+1st claim is denied on its first try, however soon after the last one it comes.
func TestTheCapPlusFirstClaimIsDeniedAtOnce(t *testing.T) {
	ctx := context.Background()
	const limit = 3
	z := newZone(t, func(z *v1alpha1.ManagedZone) {
		z.Spec.Limits = &v1alpha1.ZoneLimits{MaxClaimsPerNamespace: ptr.To[int32](limit)}
	})
	for round := range 5 {
		ns := tenant(t)
		for i := range limit {
			require.NoError(t, k8s.Create(ctx, route(ns, fmt.Sprintf("r%d-%d.%s", round, i, z.Spec.Domain))))
		}
		err := k8s.Create(ctx, route(ns, fmt.Sprintf("r%d-over.%s", round, z.Spec.Domain)))
		require.True(t, apierrors.IsInvalid(err), "round %d: the cap+1st claim must be denied at once: %v", round, err)
		assert.Contains(t, err.Error(), fmt.Sprintf("the cap is %d", limit))
		all, _ := liveClaims(t, ns)
		assert.Equal(t, limit, all, "round %d: the namespace holds exactly the cap", round)
	}
}

// TestRacingCreatesNeverPassTheCap sends many creates of one namespace at once: exactly the cap's
// worth are admitted, for the cap on all claims and for the cap on unbound claims (creates the
// API server refuses after admission).
func TestRacingCreatesNeverPassTheCap(t *testing.T) {
	ctx := context.Background()
	const limit, racers = 4, 24
	z := newZone(t, func(z *v1alpha1.ManagedZone) {
		z.Spec.Limits = &v1alpha1.ZoneLimits{MaxClaimsPerNamespace: ptr.To[int32](limit)}
	})
	ns := tenant(t)
	ok, denials := raceCreates(t, racers, func(i int) client.Object {
		return route(ns, fmt.Sprintf("race%d.%s", i, z.Spec.Domain))
	}, func(err error) bool { return err == nil })
	assert.Equal(t, limit, ok, "exactly the cap's worth of creates is admitted")
	for _, d := range denials {
		assert.Contains(t, d, "spec.limits.maxClaimsPerNamespace")
	}
	all, _ := liveClaims(t, ns)
	assert.Equal(t, limit, all, "the namespace holds exactly the cap")

	uz := newZone(t, func(z *v1alpha1.ManagedZone) {
		z.Spec.Limits = &v1alpha1.ZoneLimits{MaxUnboundClaimsPerNamespace: ptr.To[int32](limit)}
	})
	uns := tenant(t)
	existing := route(uns)
	require.NoError(t, k8s.Create(ctx, existing))
	ok, denials = raceCreates(t, racers, func(i int) client.Object {
		dup := route(uns, fmt.Sprintf("dup%d.%s", i, uz.Spec.Domain))
		dup.Name = existing.Name
		return dup
	}, apierrors.IsAlreadyExists)
	assert.Equal(t, limit, ok, "exactly the cap's worth of refused creates got past admission")
	for _, d := range denials {
		assert.Contains(t, d, "spec.limits.maxUnboundClaimsPerNamespace")
	}
	_, unbound := liveClaims(t, uns)
	assert.Equal(t, limit, unbound, "the namespace holds exactly the cap of unbound claims")
}
