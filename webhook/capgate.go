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
// the cache, which sees a new claim a moment after admission created it; without the gate,
// creates of one namespace racing each other all count the same claims and all pass. With it,
// the admissions of one namespace that claim under a capped zone take turns to count and
// reserve, and a reserved claim counts until the cache shows it (or its admission fails). The
// claims' creates themselves run outside the turn, side by side.
//
// Admissions served by other replicas are not seen until the cache shows their claims: with
// several replicas serving the webhook, racing creates can pass a cap by the claims the other
// replicas made within the cache's delay (docs/design.md, Caps per namespace).
type capGate struct {
	mu       sync.Mutex
	turns    map[string]chan struct{} // namespace -> its turn, held from count to reservation
	reserved map[string]*reservation  // claim name -> the reservation that counts it
}

// reservation is one admission's new claims, counted until the cache shows them.
type reservation struct {
	namespace string
	hostnames []string
	at        time.Time
}

// reservationTTL is how long a reserved claim counts while the cache does not show it: far longer
// than the cache's delay, short enough that a claim deleted before the cache saw it does not hold
// a slot for long.
const reservationTTL = time.Minute

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

// reserve counts the new claims of namespace ns from now on.
func (g *capGate) reserve(ns string, claims []claim) *reservation {
	r := &reservation{namespace: ns, at: time.Now()}
	for _, c := range claims {
		r.hostnames = append(r.hostnames, c.d.Hostname)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.reserved == nil {
		g.reserved = map[string]*reservation{}
	}
	for name, o := range g.reserved {
		if r.at.Sub(o.at) > reservationTTL {
			delete(g.reserved, name)
		}
	}
	for _, h := range r.hostnames {
		g.reserved[hostname.ClaimName(h)] = r
	}
	return r
}

// forget drops the claims of a reservation whose admission failed: they were not made, or were
// withdrawn.
func (g *capGate) forget(r *reservation) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, h := range r.hostnames {
		if name := hostname.ClaimName(h); g.reserved[name] == r {
			delete(g.reserved, name)
		}
	}
}

// notYetCached counts namespace ns's reserved claims under domain that cache does not show yet
// (a new claim is unbound, so it counts for both caps); those it shows are forgotten, the cache
// counts them now.
func (g *capGate) notYetCached(ctx context.Context, cache client.Reader, ns, domain string) (int, error) {
	g.mu.Lock()
	var names []string
	for name, r := range g.reserved {
		if r.namespace != ns || time.Since(r.at) > reservationTTL {
			continue
		}
		for _, h := range r.hostnames {
			if hostname.ClaimName(h) == name && slices.Contains(hostname.ZoneCandidates(h), domain) {
				names = append(names, name)
			}
		}
	}
	g.mu.Unlock()
	n := 0
	for _, name := range names {
		err := cache.Get(ctx, client.ObjectKey{Name: name}, &v1alpha1.DomainClaim{})
		switch {
		case err == nil:
			g.mu.Lock()
			delete(g.reserved, name)
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
