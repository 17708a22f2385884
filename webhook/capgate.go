package webhook

import (
	"context"
	"slices"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

// capGate makes a namespace's caps exact within one webhook process. The caps are counted from
// the cache, which sees a new claim a moment after admission created it; without the gate, creates
// of one namespace racing each other all count the same claims and all pass. With it, the
// admissions of one namespace that claim under a capped zone take turns from the count to the
// claims' creates, and the claims this process made count until the cache shows them.
//
// Admissions served by other replicas are not seen until the cache shows their claims: with
// several replicas serving the webhook, racing creates can pass a cap by the claims the other
// replicas made within the cache's delay (docs/operations.md).
type capGate struct {
	mu    sync.Mutex
	turns map[string]chan struct{} // namespace -> its turn, held from count to claims
	made  map[string]madeClaim     // claim name -> a claim this process made, not yet in the cache
}

type madeClaim struct {
	namespace, hostname string
	at                  time.Time
}

// madeClaimTTL is how long a claim this process made counts while the cache does not show it: far
// longer than the cache's delay, short enough that a claim deleted before the cache saw it does not
// hold a slot for long.
const madeClaimTTL = time.Minute

// turn waits for namespace ns's turn; the returned func ends it. It gives up when ctx ends (the
// webhook's timeout).
func (g *capGate) turn(ctx context.Context, ns string) (func(), error) {
	g.mu.Lock()
	if g.turns == nil {
		g.turns = map[string]chan struct{}{}
	}
	ch, ok := g.turns[ns]
	if !ok {
		ch = make(chan struct{}, 1)
		g.turns[ns] = ch
	}
	g.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// remember notes the claims of hostnames that namespace ns's admission has just created.
func (g *capGate) remember(ns string, hostnames []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.made == nil {
		g.made = map[string]madeClaim{}
	}
	now := time.Now()
	for name, m := range g.made {
		if now.Sub(m.at) > madeClaimTTL {
			delete(g.made, name)
		}
	}
	for _, h := range hostnames {
		g.made[hostname.ClaimName(h)] = madeClaim{namespace: ns, hostname: h, at: now}
	}
}

// notYetCached counts the claims this process made for namespace ns under domain that cache does
// not show yet (a new claim is unbound, so it counts for both caps); those it shows are forgotten,
// the cache counts them now.
func (g *capGate) notYetCached(ctx context.Context, cache client.Reader, ns, domain string) (int, error) {
	g.mu.Lock()
	var names []string
	for name, m := range g.made {
		if m.namespace == ns && slices.Contains(hostname.ZoneCandidates(m.hostname), domain) && time.Since(m.at) <= madeClaimTTL {
			names = append(names, name)
		}
	}
	g.mu.Unlock()
	n := 0
	for _, name := range names {
		err := cache.Get(ctx, client.ObjectKey{Name: name}, &v1alpha1.DomainClaim{})
		switch {
		case err == nil:
			g.mu.Lock()
			delete(g.made, name)
			g.mu.Unlock()
		case apierrors.IsNotFound(err):
			n++
		default:
			return 0, err
		}
	}
	return n, nil
}

// capped reports whether any of the claims is under a zone with a cap.
func capped(claims []claim, defaults ownership.Limits) bool {
	for _, c := range claims {
		if c.d.Zone != nil && ownership.ZoneLimits(c.d.Zone, defaults) != (ownership.Limits{}) {
			return true
		}
	}
	return false
}
