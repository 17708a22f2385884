package gatewaypool

import (
	"maps"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// A pool reconcile reads and plans every claim of the pool, and most of them have not changed
// since the last one: a pool of N claims coming up together would pay O(N) per reconcile for the
// same answers. The memos below keep, per pool, the answers of the pure steps whose inputs are few
// and comparable (a resourceVersion stands for the whole object), and the plan recomputes only the
// claims and Gateways whose inputs differ. They remember results, never state: every answer is
// checked against the inputs of this snapshot, so a memo can make a plan cheaper but never
// different (TestPlanWithMemoEqualsPlanWithout), and nothing papers over a lagging cache.

// planMemo remembers, for one pool, each Gateway's planned change and each claim's planned status
// from the last plan. Only the pool's own reconcile uses it (one at a time). A condition that
// turns in a remembered status keeps the transition time of the plan that first decided it.
type planMemo struct {
	gateways map[string]*gatewayMemo
	claims   map[string]*claimMemo
}

// gatewayKey is what planGateway reads of a Gateway besides its seats: the pool's spec (by its
// generation), the Gateway and its configuration (by resourceVersion).
type gatewayKey struct {
	pool           types.UID
	poolGeneration int64
	gateway        string
	config         string
}

// seatKey is what planGateway reads of a seated claim.
type seatKey struct {
	claim, hostname, namespace string
	// gone says the owner namespace is gone (ClaimState.OwnerGone): the listener admits nobody.
	gone bool
	// arn is the certificate the Gateway serves for the claim ("" while it is not issued).
	arn string
}

type gatewayMemo struct {
	key      gatewayKey
	seats    []seatKey
	change   GatewayChange
	certs    ListenerCertificates
	admitted map[string]bool
}

// claimKey is everything the plan reads to decide a claim's status, once the claim is seated (or
// not): the claim itself (by resourceVersion), the pool's spec, the seat and what the plan knows of
// its Gateway.
type claimKey struct {
	uid, pool               types.UID
	resourceVersion         string
	poolGeneration          int64
	gateway                 string
	moved                   bool
	host, zone, refusal     string
	unknown                 string
	exhausted, strays       string
	attached, admitted, set bool
	// own is the claim's OwnTarget (its key).
	own string
	// gone is ClaimState.OwnerGone.
	gone bool
}

type claimMemo struct {
	key    claimKey
	status *v1alpha1.DomainClaimStatus
	// unchanged says status equals the claim's in what the pool writes (poolSliceEqual).
	unchanged bool
}

func newPlanMemo() *planMemo {
	return &planMemo{gateways: map[string]*gatewayMemo{}, claims: map[string]*claimMemo{}}
}

// gatewayKeyOf is a Gateway's key; ok is false for a Gateway or configuration not written yet, or
// an object without a resourceVersion (a test's), which are planned afresh.
func gatewayKeyOf(pool *v1alpha1.GatewayPool, st *GatewayState) (gatewayKey, bool) {
	if st == nil || st.Gateway == nil || st.Config == nil || st.Gateway.ResourceVersion == "" || st.Config.ResourceVersion == "" {
		return gatewayKey{}, false
	}
	return gatewayKey{pool: pool.UID, poolGeneration: pool.Generation, gateway: st.Gateway.ResourceVersion, config: st.Config.ResourceVersion}, true
}

// gateway returns the memo of Gateway name if its key and seats are still those given.
func (m *planMemo) gateway(name string, key gatewayKey, claims []*v1alpha1.DomainClaim, gone map[string]bool) *gatewayMemo {
	if m == nil {
		return nil
	}
	g := m.gateways[name]
	if g == nil || g.key != key || len(g.seats) != len(claims) {
		return nil
	}
	for i, c := range claims {
		if g.seats[i] != seatKeyOf(c, gone) {
			return nil
		}
	}
	return g
}

func seatKeyOf(c *v1alpha1.DomainClaim, gone map[string]bool) seatKey {
	k := seatKey{claim: c.Name, hostname: c.Spec.Hostname, namespace: c.Spec.Namespace, gone: gone[c.Name]}
	if issued(c) {
		k.arn = c.Status.CertificateARN
	}
	return k
}

func (m *planMemo) rememberGateway(name string, key gatewayKey, claims []*v1alpha1.DomainClaim, gone map[string]bool, change GatewayChange, certs ListenerCertificates, admitted map[string]bool) {
	if m == nil {
		return
	}
	seats := make([]seatKey, len(claims))
	for i, c := range claims {
		seats[i] = seatKeyOf(c, gone)
	}
	m.gateways[name] = &gatewayMemo{key: key, seats: seats, change: change, certs: certs, admitted: admitted}
}

// claimKeyOf is a claim's key; ok is false for a claim without a resourceVersion (a test's).
func claimKeyOf(pool *v1alpha1.GatewayPool, c *v1alpha1.DomainClaim, gateway string, moved bool, gw *GatewayState,
	exhausted string, strays []string, attached, admitted bool, own OwnTarget, gone bool) (claimKey, bool) {
	if c.ResourceVersion == "" {
		return claimKey{}, false
	}
	k := claimKey{uid: c.UID, pool: pool.UID, resourceVersion: c.ResourceVersion, poolGeneration: pool.Generation, gateway: gateway,
		moved: moved, exhausted: exhausted, strays: strings.Join(strays, "\n"), attached: attached, admitted: admitted, set: true, own: own.key(), gone: gone}
	if gw != nil {
		k.host, k.zone, k.refusal, k.unknown = gw.LoadBalancerHost, gw.LoadBalancerZone, gw.Refusal, gw.UnknownLoadBalancer
	}
	return k, true
}

// claim returns the memo of claim name if its key is still the one given.
func (m *planMemo) claim(name string, key claimKey) *claimMemo {
	if m == nil || !key.set {
		return nil
	}
	if c := m.claims[name]; c != nil && c.key == key {
		return c
	}
	return nil
}

func (m *planMemo) rememberClaim(name string, c *claimMemo) {
	if m == nil || !c.key.set {
		return
	}
	m.claims[name] = c
}

// prune forgets the Gateways and claims the last plan did not keep or plan.
func (m *planMemo) prune(gateways []string, claims map[string]*v1alpha1.DomainClaimStatus) {
	if m == nil {
		return
	}
	for name := range m.gateways {
		if !slices.Contains(gateways, name) {
			delete(m.gateways, name)
		}
	}
	for name := range m.claims {
		if claims[name] == nil {
			delete(m.claims, name)
		}
	}
}

// memos holds each pool's memos: the plan's, and the seats gathered (see needMemo).
type memos struct {
	mu    sync.Mutex
	plans map[string]*planMemo
	needs map[string]map[string]*needMemo // pool → claim hostname → what it needs
	// configs are each pool's LoadBalancerConfigurations as last read, by name.
	configs map[string]map[string]*lbc.LoadBalancerConfiguration
	// epoch counts route events; a need computed across one is not remembered (see need).
	epoch uint64
}

// plan is pool's plan memo.
func (m *memos) plan(pool string) *planMemo {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.plans == nil {
		m.plans = map[string]*planMemo{}
	}
	p := m.plans[pool]
	if p == nil {
		p = newPlanMemo()
		m.plans[pool] = p
	}
	return p
}

// forget drops a deleted pool's memos.
func (m *memos) forget(pool string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.plans, pool)
	delete(m.needs, pool)
	delete(m.configs, pool)
}

// configurations are the pool's configurations as last read, by name; each is checked against
// its resourceVersion before it is used again (see labelledConfigurations).
func (m *memos) configurations(pool string) map[string]*lbc.LoadBalancerConfiguration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.configs[pool]
}

// rememberConfigurations replaces the pool's configurations as read.
func (m *memos) rememberConfigurations(pool string, configs map[string]*lbc.LoadBalancerConfiguration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.configs == nil {
		m.configs = map[string]map[string]*lbc.LoadBalancerConfiguration{}
	}
	m.configs[pool] = maps.Clone(configs)
}

// needMemo is a claim's seat need as gathered (see seat), with what it was computed from besides
// the routes that list its hostname: the claim's spec (by its generation). A route event for the
// hostname drops it (routesChanged). Only a claim for one name with no route of another namespace
// listing it is remembered: a wildcard's need depends on which names below it have claims of their
// own, and a stray route (routeuse.Strays) on which claim answers for its names; with none, a
// claim's strays are none.
type needMemo struct {
	uid        types.UID
	generation int64
	// http is the pool's httpListener the need was counted with: an HTTPRoute's rules count on
	// both listeners with it.
	http bool
	need Seat
}

// need returns the remembered need of claim c in pool, and the epoch to remember a new one with.
func (m *memos) need(pool string, c *v1alpha1.DomainClaim, http bool) (Seat, bool, uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := m.needs[pool][c.Spec.Hostname]; n != nil && n.uid == c.UID && n.generation == c.Generation && n.http == http {
		return n.need, true, m.epoch
	}
	return Seat{}, false, m.epoch
}

// rememberNeed remembers claim c's need in pool, unless a route event came after epoch: the cache
// may have changed while the need was computed, and the event's invalidation may have run first.
func (m *memos) rememberNeed(pool string, c *v1alpha1.DomainClaim, need Seat, http bool, epoch uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.epoch != epoch {
		return
	}
	if m.needs == nil {
		m.needs = map[string]map[string]*needMemo{}
	}
	if m.needs[pool] == nil {
		m.needs[pool] = map[string]*needMemo{}
	}
	m.needs[pool][c.Spec.Hostname] = &needMemo{uid: c.UID, generation: c.Generation, http: http, need: need}
}

// routesChanged drops the needs of the hostnames a route lists (its RouteHostname index keys). It
// runs after the cache holds the route's change (an informer updates its store before it tells
// the handlers), so a need computed afterwards sees the change.
func (m *memos) routesChanged(keys []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.epoch++
	for _, byHost := range m.needs {
		for _, k := range keys {
			delete(byHost, k)
		}
	}
}

// pruneNeeds forgets the needs of pool's hostnames that have no claim in it any more (there are
// some when it remembers more hostnames than the pool has claims).
func (m *memos) pruneNeeds(pool string, claims []*v1alpha1.DomainClaim) {
	m.mu.Lock()
	defer m.mu.Unlock()
	byHost := m.needs[pool]
	if len(byHost) <= len(claims) {
		return
	}
	live := make(map[string]bool, len(claims))
	for _, c := range claims {
		live[c.Spec.Hostname] = true
	}
	for h := range byHost {
		if !live[h] {
			delete(byHost, h)
		}
	}
}
