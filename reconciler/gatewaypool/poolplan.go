package gatewaypool

import (
	"fmt"
	"maps"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/conditions"
	"github.com/opendi/gateway-orchestrator/internal/lbc"
)

// Snapshot is everything one reconcile of a pool reads, gathered once (see gather) before the
// plan is made. Nothing in it is changed by Plan.
type Snapshot struct {
	Pool *v1alpha1.GatewayPool
	// Gateways are the pool's Gateways, in any order.
	Gateways []GatewayState
	// Claims are the claims of the zones the pool serves, oldest first (first fit is in this order).
	Claims []ClaimState
	// ClassProblem says why the pool's GatewayClass keeps its Gateways from serving the pool's
	// certificates (none exists, another controller's, or its configuration would override
	// them); the zero value when nothing does.
	ClassProblem ClassProblem
}

// ClassProblem is the pool's Ready reason and message when its GatewayClass is in the way.
type ClassProblem struct {
	// Reason is v1alpha1.ReasonGatewayClassNotFound, ReasonGatewayClassNotLBC or
	// ReasonClassOverridesCertificates; "" when the class is fine.
	Reason string
	// Message says what is wrong and what to do.
	Message string
}

// GatewayState is one pool Gateway as gathered.
type GatewayState struct {
	Gateway *gwv1.Gateway
	// Config is the Gateway's LoadBalancerConfiguration; nil while it does not exist.
	Config *lbc.LoadBalancerConfiguration
	// LoadBalancerHost and LoadBalancerZone are the ALB's DNS name and canonical hosted zone,
	// "" until LBC has programmed the Gateway.
	LoadBalancerHost, LoadBalancerZone string
	// Refusal is LBC's Accepted=False verdict on the Gateway ("" when it accepts it).
	Refusal string
	// UnknownLoadBalancer is the address the programmed Gateway reports when ELBv2 knows no load
	// balancer of that name (deleted outside LBC, or not visible yet); LoadBalancerHost is ""
	// then. One such Gateway does not stop the pool: its seats wait, the others go on.
	UnknownLoadBalancer string
}

// ClaimState is one claim as gathered: the claim, what it needs on a Gateway, and the routes of
// other namespaces that list its hostname.
type ClaimState struct {
	Claim  *v1alpha1.DomainClaim
	Need   Seat
	Strays []string
	// Own says whether the claim's users need a pool seat or bring their own load balancer (the
	// zero value: a seat, as for a claim no user brings one for).
	Own OwnTarget
	// OwnerGone says the claim was made by a route of a namespace that is gone: deleted, or
	// created again under its name (see ownerGone). Its listener admits no namespace.
	OwnerGone bool
}

// PoolPlan is what one reconcile changes, as plain data. A converged pool plans nothing: no
// Gateway, configuration, claim or pool status to write and nothing to delete.
type PoolPlan struct {
	// Gateways are the Gateways (and configurations) to create or change, by number.
	Gateways []GatewayChange
	// Claims are the claim statuses to write, the most urgent first (see urgency), oldest claim
	// first within the same urgency.
	Claims []ClaimChange
	// Status is the pool's new status; nil when it has not changed.
	Status *v1alpha1.GatewayPoolStatus
	// Delete names the empty surplus Gateways to delete, after everything else.
	Delete []string
}

// GatewayChange is one Gateway to create or change.
type GatewayChange struct {
	Name string
	// Create says the Gateway does not exist yet.
	Create bool
	// Gateway is the desired Gateway; nil when it is as it should be.
	Gateway *gwv1.Gateway
	// Config is the desired LoadBalancerConfiguration; nil when it is as it should be. Its
	// owner reference to the Gateway is set when it is written (a new Gateway has no UID yet).
	Config *lbc.LoadBalancerConfiguration
	// CreateConfig says the configuration does not exist yet.
	CreateConfig bool
}

// ClaimChange is one claim's new status (the pool's slice of it is written; routes are attached by
// reconciler/routes from it).
type ClaimChange struct {
	Claim  *v1alpha1.DomainClaim
	Status v1alpha1.DomainClaimStatus
}

// capacityOf is what one Gateway of the pool may carry: every seat takes its own listeners (at
// most 64 per Gateway), a certificate, ALB rules and LBC's target groups.
func capacityOf(pool *v1alpha1.GatewayPool) Capacity {
	return Capacity{
		Certificates: min(pool.Spec.MaxCertificatesPerGateway, MaxListenersPerGateway/ListenersPerSeat(pool.Spec.Template.HTTPListener)),
		Rules:        pool.Spec.MaxRulesPerGateway,
		TargetGroups: MaxTargetGroupsPerALB,
	}
}

// released reports whether a claim being deleted may leave its Gateway: the deletion order is
// ALIAS first, then the certificate off the listener, so a client that still resolves the name
// to the ALB never meets a certificate that does not match. It is the claim's own answer to
// whether an ALIAS record may still exist (AliasRecordsGone), the one reconciler/dns removes
// records by and the certificate reconciler keeps the claim's finalizer by: a seat without a DNS
// condition or a load balancer may still have a record queued before a crash, so it is held until
// reconciler/dns has removed whatever may be there and said RecordsRemoved.
func released(c *v1alpha1.DomainClaim) bool { return c.AliasRecordsGone() }

// Plan decides, as pure data, the pool's Gateways, each claim's seat, each Gateway's listeners
// and certificates, the claims' status and the pool's status from one snapshot.
//
// Seats are first fit in the claims' order. A claim's seat is read from its status.gateway, or,
// when the cache has not seen that status yet, from the Gateway whose listener is named after it:
// the apply step writes a Gateway's listeners before the claim's status, so the Gateway is the
// record of a seat and no in-memory ledger is needed. A write from a stale snapshot fails its
// optimistic lock and the pool is reconciled again.
func Plan(s *Snapshot) *PoolPlan { return planWith(s, nil) }

// planWith is Plan with a memo of the last plan of the same pool (nil for none): a Gateway or claim
// whose inputs are those of the memo gets the memo's answer instead of being planned again (see
// planMemo). The plan is the same either way.
func planWith(s *Snapshot, memo *planMemo) *PoolPlan {
	pool := s.Pool
	capacity := capacityOf(pool)
	states := map[string]*GatewayState{}
	loads := map[string]*Load{}
	for i := range s.Gateways {
		g := &s.Gateways[i]
		states[g.Gateway.Name] = g
		loads[g.Gateway.Name] = &Load{Name: g.Gateway.Name, Closed: !g.Gateway.DeletionTimestamp.IsZero()}
	}
	ledger := listenerLedger(pool.Name, s.Gateways)

	seatOf := map[string]string{} // claim name → Gateway
	moved := map[string]bool{}
	for _, cs := range s.Claims {
		c := cs.Claim
		g := gatewayOf(c)
		if g == "" {
			g = ledger[c.Name]
		}
		l := loads[g]
		switch {
		case g == "":
		case !c.DeletionTimestamp.IsZero():
			if l != nil && !released(c) {
				seatOf[c.Name] = g // held until its ALIAS is gone, even on a Gateway being deleted
				l.add(cs.Need)
			}
		case !claimed(c):
		case cs.Own.givesSeatBack(c):
			// Its users bring their own load balancer and DNS points at it: the seat is given
			// back, and its listener goes with it.
		case l == nil || l.Closed:
			if !cs.Own.needsNoSeat() {
				moved[c.Name] = true // its Gateway is gone or going: seated again below
			}
		default:
			seatOf[c.Name] = g
			l.add(cs.Need)
		}
	}
	// A seated claim whose routes grew past what its Gateway holds (LBC would refuse the whole
	// Gateway) leaves it, newest first, and is seated again like a new one.
	for i := len(s.Claims) - 1; i >= 0; i-- {
		cs := s.Claims[i]
		l := loads[seatOf[cs.Claim.Name]]
		if l == nil || !l.over(capacity) || !cs.Claim.DeletionTimestamp.IsZero() {
			continue
		}
		l.remove(cs.Need)
		delete(seatOf, cs.Claim.Name)
		moved[cs.Claim.Name] = true
	}
	created := map[string]bool{}
	for n := 1; n <= int(pool.Spec.MinGateways); n++ {
		if name := GatewayName(pool.Name, n); loads[name] == nil {
			loads[name] = &Load{Name: name}
			created[name] = true
		}
	}
	exhausted := map[string]string{}
	for _, cs := range s.Claims {
		c := cs.Claim
		if seatOf[c.Name] != "" || !claimed(c) || !issued(c) || !v1alpha1.ProvisioningAllowed(c) || cs.Own.needsNoSeat() {
			continue
		}
		list := make([]Load, 0, len(loads))
		for _, l := range loads {
			list = append(list, *l)
		}
		choice := Assign(pool.Name, list, capacity, int(pool.Spec.MaxGateways), cs.Need)
		if choice.Exhausted {
			exhausted[c.Name] = choice.Message
			continue
		}
		if choice.Create {
			loads[choice.Gateway] = &Load{Name: choice.Gateway}
			created[choice.Gateway] = true
		}
		loads[choice.Gateway].add(cs.Need)
		seatOf[c.Name] = choice.Gateway
	}

	seated := map[string][]*v1alpha1.DomainClaim{}
	for _, cs := range s.Claims {
		if g := seatOf[cs.Claim.Name]; g != "" {
			seated[g] = append(seated[g], cs.Claim)
		}
	}
	names := make([]string, 0, len(loads))
	for name := range loads {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return gatewayNumber(pool.Name, names[i]) < gatewayNumber(pool.Name, names[j]) })

	gone := map[string]bool{} // claim name → its owner namespace is gone (ClaimState.OwnerGone)
	for _, cs := range s.Claims {
		if cs.OwnerGone {
			gone[cs.Claim.Name] = true
		}
	}
	plan := &PoolPlan{}
	certs := map[string]ListenerCertificates{}
	admitted := map[string]bool{} // claim name
	var kept []string
	for _, name := range names {
		st := states[name]
		if st != nil && !loads[name].Closed && len(seated[name]) == 0 && gatewayNumber(pool.Name, name) > int(pool.Spec.MinGateways) {
			plan.Delete = append(plan.Delete, name)
			continue
		}
		kept = append(kept, name)
		change, lc, ok := planGatewayMemo(memo, pool, name, st, seated[name], gone)
		certs[name] = lc
		for claim := range ok {
			admitted[claim] = true
		}
		if change.Gateway != nil || change.Config != nil {
			plan.Gateways = append(plan.Gateways, change)
		}
	}

	attached := map[string]bool{} // ARN → on its Gateway's listener
	for _, lc := range certs {
		if lc.DefaultCertificate != "" {
			attached[lc.DefaultCertificate] = true
		}
		for _, a := range lc.Certificates {
			attached[a] = true
		}
	}
	statuses := map[string]*v1alpha1.DomainClaimStatus{}
	for _, cs := range s.Claims {
		c := cs.Claim
		if !claimed(c) {
			continue
		}
		g := seatOf[c.Name]
		var gw *GatewayState
		if g != "" {
			gw = states[g]
		}
		key, _ := claimKeyOf(pool, c, g, moved[c.Name], gw, exhausted[c.Name], cs.Strays, attached[c.Status.CertificateARN], admitted[c.Name], cs.Own, cs.OwnerGone)
		m := memo.claim(c.Name, key)
		if m == nil {
			st := planClaim(pool, cs, g, moved[c.Name], gw, exhausted[c.Name], attached[c.Status.CertificateARN], admitted[c.Name])
			m = &claimMemo{key: key, status: st, unchanged: poolSliceEqual(st, &c.Status)}
			memo.rememberClaim(c.Name, m)
		}
		statuses[c.Name] = m.status
		if !m.unchanged {
			plan.Claims = append(plan.Claims, ClaimChange{Claim: c, Status: *m.status})
		}
	}
	memo.prune(kept, statuses)

	sort.SliceStable(plan.Claims, func(i, j int) bool { return urgency(plan.Claims[i]) < urgency(plan.Claims[j]) })

	status := poolStatus(s, kept, loads, seated, certs, statuses)
	if !equality.Semantic.DeepEqual(status, &pool.Status) {
		plan.Status = status
	}
	return plan
}

// planClaim is claim cs's status as the plan writes it: seated on Gateway g ("" for none), moved
// there from another, and what the plan knows of g and of the claim's certificate and listener.
func planClaim(pool *v1alpha1.GatewayPool, cs ClaimState, g string, moved bool, gw *GatewayState, exhausted string, attached, admitted bool) *v1alpha1.DomainClaimStatus {
	c := cs.Claim
	st := c.Status.DeepCopy()
	if cs.Own.needsNoSeat() && v1alpha1.ProvisioningAllowed(c) && (g == "" || cs.Own.resolved()) {
		st = ownStatus(c, st, cs.Own)
		if g != "" {
			// Make before break: the ALIAS moves to the own load balancer first, the seat (its
			// listener and certificate) is given back once reconciler/dns confirms it there
			// (status.aliasTarget).
			st.Gateway = &v1alpha1.ObjectRef{Namespace: pool.Spec.Namespace, Name: g}
			conditions.Set(&st.Conditions, c.Generation, v1alpha1.ConditionGatewayAssigned, true, v1alpha1.ReasonOwnLoadBalancer,
				fmt.Sprintf("the seat on %s is given back once the ALIAS of %s points at %s, the load balancer of %s (status.aliasTarget)",
					g, c.Spec.Hostname, cs.Own.Decision.Address, strings.Join(cs.Own.Decision.Objects, ", ")))
		}
		setStrays(st, c, cs.Strays)
		return st
	}
	st.Gateway = nil
	if g != "" {
		st.Gateway = &v1alpha1.ObjectRef{Namespace: pool.Spec.Namespace, Name: g}
	}
	if moved || st.Gateway == nil {
		// Forgotten until the new Gateway's ALB is known, so the ALIAS is repointed rather
		// than left on an ALB that goes away.
		st.LoadBalancerHostname, st.LoadBalancerZoneID = "", ""
	}
	var host, zone, refusal, unknown string
	if gw != nil {
		host, zone, refusal, unknown = gw.LoadBalancerHost, gw.LoadBalancerZone, gw.Refusal, gw.UnknownLoadBalancer
	}
	st = claimStatus(pool, c, st, exhausted, attached, admitted, host, zone, refusal, unknown)
	if cs.OwnerGone && st.Gateway != nil {
		conditions.Set(&st.Conditions, c.Generation, v1alpha1.ConditionRoutesAllowed, false, v1alpha1.ReasonOwnerNamespaceGone,
			"listener "+c.Name+" of the Gateway admits no namespace: namespace "+c.Spec.Namespace+
				" that made the claim is gone, and a namespace created again under its name does not inherit the claim; it is released after its retention")
	}
	if note := seatNote(cs.Own, c.Spec.Hostname); note != "" && st.Gateway != nil {
		cond := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionGatewayAssigned)
		conditions.Set(&st.Conditions, c.Generation, v1alpha1.ConditionGatewayAssigned, true, v1alpha1.ReasonAssigned, cond.Message+"; "+note)
	}
	setStrays(st, c, cs.Strays)
	return st
}

// seatNote is what a seated claim's GatewayAssigned adds about its users' own load balancers: a
// pool route and an object with its own load balancer both use the hostname (the seat wins, and
// the claim says which load balancer DNS does not point at), or its users moved to a load
// balancer of their own that no ALIAS can point at yet (the seat, and the ALIAS to it, stay until
// one can: dropping them would leave the old ALIAS on an ALB that no longer serves the name).
func seatNote(t OwnTarget, h string) string {
	if !t.needsNoSeat() {
		return t.Decision.Message(h)
	}
	return "the seat, and the ALIAS to its ALB, are kept until " + h + "'s own load balancer can be pointed at: " + ownPending(t, h)
}

// planGatewayMemo is planGateway, answered from the memo when the Gateway, its configuration, the
// pool's spec and the Gateway's seats are as they were.
func planGatewayMemo(memo *planMemo, pool *v1alpha1.GatewayPool, name string, st *GatewayState, claims []*v1alpha1.DomainClaim, gone map[string]bool) (GatewayChange, ListenerCertificates, map[string]bool) {
	key, ok := gatewayKeyOf(pool, st)
	if !ok {
		return planGateway(pool, name, st, claims, gone)
	}
	if g := memo.gateway(name, key, claims, gone); g != nil {
		return g.change, g.certs, g.admitted
	}
	change, lc, admitted := planGateway(pool, name, st, claims, gone)
	memo.rememberGateway(name, key, claims, gone, change, lc, admitted)
	return change, lc, admitted
}

// Urgencies of a claim status write, most urgent first.
const (
	// urgentSeat: the claim gets, loses or changes its seat (status.gateway), which the routes
	// reconciler attaches routes by.
	urgentSeat = iota
	// urgentProgress: a step toward Ready, which the next owner waits for: a load balancer to point
	// the ALIAS at, or one of the pool's conditions turning True.
	urgentProgress
	// urgentRefresh: anything else (a waiting reason's message, stray routes).
	urgentRefresh
)

// urgency ranks a claim status write, so that a reconcile bounded in its writes (maxClaimWrites)
// moves claims forward before it refreshes what only reports.
func urgency(ch ClaimChange) int {
	was, st := &ch.Claim.Status, &ch.Status
	if (was.Gateway == nil) != (st.Gateway == nil) || was.Gateway != nil && *was.Gateway != *st.Gateway {
		return urgentSeat
	}
	if was.LoadBalancerHostname != st.LoadBalancerHostname || was.LoadBalancerZoneID != st.LoadBalancerZoneID {
		return urgentProgress
	}
	for _, typ := range []string{v1alpha1.ConditionGatewayAssigned, v1alpha1.ConditionCertificateAttached, v1alpha1.ConditionLoadBalancerReady, v1alpha1.ConditionRoutesAllowed} {
		if meta.IsStatusConditionTrue(st.Conditions, typ) && !meta.IsStatusConditionTrue(was.Conditions, typ) {
			return urgentProgress
		}
	}
	return urgentRefresh
}

// listenerLedger maps each claim with a seat listener on a Gateway to that Gateway (the one with
// the lowest number when, after a move, two still have one).
func listenerLedger(pool string, gateways []GatewayState) map[string]string {
	out := map[string]string{}
	for _, g := range gateways {
		for _, l := range g.Gateway.Spec.Listeners {
			if l.Hostname == nil || l.Protocol != gwv1.HTTPSProtocolType {
				continue
			}
			claim := string(l.Name)
			if prev, ok := out[claim]; !ok || gatewayNumber(pool, g.Gateway.Name) < gatewayNumber(pool, prev) {
				out[claim] = g.Gateway.Name
			}
		}
	}
	return out
}

// planGateway is one Gateway's desired state: the template's shape, one set of listeners per
// seat, and the seats' ISSUED certificates in its configuration (LBC fails a Gateway over one
// that is not). It returns the change (empty when the Gateway is as it should be), the listener
// certificates, and the claims whose listener admits their owner. The listener of a claim whose
// owner namespace is gone (gone, by claim name) admits no namespace.
func planGateway(pool *v1alpha1.GatewayPool, name string, st *GatewayState, claims []*v1alpha1.DomainClaim, gone map[string]bool) (GatewayChange, ListenerCertificates, map[string]bool) {
	change := GatewayChange{Name: name, Create: st == nil}
	var cur *gwv1.Gateway
	if st != nil {
		cur = st.Gateway
	}
	gw := &gwv1.Gateway{}
	if cur != nil {
		gw = cur.DeepCopy()
	} else {
		gw.Namespace, gw.Name = pool.Spec.Namespace, name
	}
	desiredGateway(pool, gw)

	seats := make([]Seated, 0, len(claims))
	var arns []string
	for _, c := range claims {
		ns := c.Spec.Namespace
		if gone[c.Name] {
			ns = "" // no namespace has an empty kubernetes.io/metadata.name
		}
		seats = append(seats, Seated{Claim: c.Name, Hostname: c.Spec.Hostname, Namespace: ns})
		if issued(c) {
			arns = append(arns, c.Status.CertificateARN)
		}
	}
	if per := int(ListenersPerSeat(pool.Spec.Template.HTTPListener)); len(seats)*per > MaxListenersPerGateway {
		// Seating never gets here (listeners are a capacity); a pool filled before that stays within the limit.
		sort.Slice(seats, func(i, j int) bool { return seats[i].Claim < seats[j].Claim })
		seats = seats[:MaxListenersPerGateway/per]
	}
	gw.Spec.Listeners = Listeners(seats, pool.Spec.Template.HTTPListener)
	admitted := map[string]bool{}
	for _, s := range seats {
		if s.Namespace != "" && AdmittedBy(gw, s.Claim, s.Namespace) {
			admitted[s.Claim] = true
		}
	}

	var cfg *lbc.LoadBalancerConfiguration
	if st != nil && st.Config != nil {
		cfg = st.Config.DeepCopy()
	} else {
		cfg = &lbc.LoadBalancerConfiguration{}
		cfg.Namespace, cfg.Name = pool.Spec.Namespace, name
		change.CreateConfig = true
	}
	desiredConfiguration(pool, cfg)
	https := cfg.Spec.EnsureListener(HTTPSProtocolPort)
	lc := PlanCertificates(https.DefaultCertificate, arns)
	https.DefaultCertificate, https.Certificates = lc.DefaultCertificate, lc.Certificates

	if gw.Annotations == nil {
		gw.Annotations = map[string]string{}
	}
	for k, v := range lc.Annotations() {
		gw.Annotations[k] = v
	}
	if cur == nil || gatewayChanged(cur, gw) {
		change.Gateway = gw
	}
	if change.CreateConfig || configurationChanged(st.Config, cfg) {
		change.Config = cfg
	}
	return change, lc, admitted
}

// gatewayChanged reports whether want differs from cur in what the plan writes: labels,
// annotations, owner references and spec. The status and the rest of the metadata are not the
// pool's, and comparing every Gateway's status (a condition list per listener) whole was most of a
// plan's cost.
func gatewayChanged(cur, want *gwv1.Gateway) bool {
	return !maps.Equal(cur.Labels, want.Labels) || !maps.Equal(cur.Annotations, want.Annotations) ||
		!equality.Semantic.DeepEqual(cur.OwnerReferences, want.OwnerReferences) || !equality.Semantic.DeepEqual(cur.Spec, want.Spec)
}

// configurationChanged reports whether want differs from cur in what the plan writes: its labels
// and spec (its owner reference is set when it is written).
func configurationChanged(cur, want *lbc.LoadBalancerConfiguration) bool {
	return !maps.Equal(cur.Labels, want.Labels) || !equality.Semantic.DeepEqual(cur.Spec, want.Spec)
}

// poolStatus is the pool's status: each kept Gateway's load and address, the claims counted by
// the conditions of the pool's steps (as planned), and Ready.
func poolStatus(s *Snapshot, kept []string, loads map[string]*Load, seated map[string][]*v1alpha1.DomainClaim, certs map[string]ListenerCertificates,
	statuses map[string]*v1alpha1.DomainClaimStatus) *v1alpha1.GatewayPoolStatus {
	pool := s.Pool
	st := pool.Status.DeepCopy()
	st.ObservedGeneration = pool.Generation
	st.Gateways = nil
	for _, name := range kept {
		g := v1alpha1.PoolGatewayStatus{Name: name, Certificates: int32(len(certs[name].Certificates)), Rules: loads[name].Rules,
			Seats: int32(len(seated[name])), TargetGroups: loads[name].TargetGroupCount()}
		for _, gs := range s.Gateways {
			if gs.Gateway.Name != name {
				continue
			}
			for _, a := range gs.Gateway.Status.Addresses {
				if a.Type != nil && *a.Type == gwv1.HostnameAddressType {
					g.Address = a.Value
				}
			}
		}
		st.Gateways = append(st.Gateways, g)
	}
	st.GatewayCount = int32(len(st.Gateways))
	st.Claims, st.DeletingClaims = int32(len(s.Claims)), 0
	counts := map[string]*v1alpha1.ClaimConditionCount{}
	st.ClaimConditions = make([]v1alpha1.ClaimConditionCount, len(CountedConditions))
	for i, typ := range CountedConditions {
		st.ClaimConditions[i].Type = typ
		counts[typ] = &st.ClaimConditions[i]
	}
	for _, cs := range s.Claims {
		if !cs.Claim.DeletionTimestamp.IsZero() {
			st.DeletingClaims++
			continue
		}
		conds := cs.Claim.Status.Conditions
		if st := statuses[cs.Claim.Name]; st != nil {
			conds = st.Conditions // as this plan writes them
		}
		for _, typ := range CountedConditions {
			switch c := meta.FindStatusCondition(conds, typ); {
			case c != nil && c.Status == metav1.ConditionTrue:
				counts[typ].True++
			case c != nil && c.Status == metav1.ConditionFalse:
				counts[typ].False++
			default:
				counts[typ].Unknown++
			}
		}
	}
	if s.ClassProblem.Reason != "" {
		conditions.Set(&st.Conditions, pool.Generation, v1alpha1.ConditionReady, false, s.ClassProblem.Reason, s.ClassProblem.Message)
	} else {
		conditions.Set(&st.Conditions, pool.Generation, v1alpha1.ConditionReady, true, v1alpha1.ReasonGatewaysProvisioned,
			fmt.Sprintf("%d Gateways in %s", len(st.Gateways), pool.Spec.Namespace))
	}
	return st
}

// CountedConditions are the claim conditions a pool's status counts: the claim's ownership, the
// pool's own steps, and the DNS and Ready conditions that follow them.
var CountedConditions = []string{
	v1alpha1.ConditionClaimed, v1alpha1.ConditionCertificateIssued, v1alpha1.ConditionGatewayAssigned,
	v1alpha1.ConditionCertificateAttached, v1alpha1.ConditionLoadBalancerReady, v1alpha1.ConditionRoutesAllowed,
	v1alpha1.ConditionDNSRecord, v1alpha1.ConditionReady,
}

// poolSliceEqual compares the fields of a claim's status the pool writes (the rest is copied
// unchanged): a cheap comparison, because the plan makes it for every claim of the pool.
func poolSliceEqual(a, b *v1alpha1.DomainClaimStatus) bool {
	if (a.Gateway == nil) != (b.Gateway == nil) || a.Gateway != nil && *a.Gateway != *b.Gateway ||
		a.LoadBalancerHostname != b.LoadBalancerHostname || a.LoadBalancerZoneID != b.LoadBalancerZoneID || a.DualStack != b.DualStack ||
		len(a.Conditions) != len(b.Conditions) {
		return false
	}
	for i := range a.Conditions {
		x, y := &a.Conditions[i], &b.Conditions[i]
		if x.Type != y.Type || x.Status != y.Status || x.Reason != y.Reason || x.Message != y.Message ||
			x.ObservedGeneration != y.ObservedGeneration || !x.LastTransitionTime.Equal(&y.LastTransitionTime) {
			return false
		}
	}
	return true
}
