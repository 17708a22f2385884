package dns

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

// DefaultNotServedGrace is how long a claim must have been served by nothing before its ALIAS
// records are removed (see NotServed), unless Reconciler.NotServedGrace says otherwise: long
// enough for an administrator's edit of a zone's pool, or a pool created right after the zone
// naming it, to settle without taking the name out of DNS; short next to the minutes a
// deleted load balancer takes to go.
const DefaultNotServedGrace = 15 * time.Second

// servedByNothing are the reasons of GatewayAssigned=False that say no load balancer will serve
// the hostname until someone acts (an administrator, or the owner with a Gateway or Ingress of
// its own): unlike Pending (a seat on its way), they do not pass by themselves.
var servedByNothing = map[string]bool{
	v1alpha1.ReasonNoGatewayPool:        true,
	v1alpha1.ReasonGatewayPoolNotFound:  true,
	v1alpha1.ReasonPoolExhausted:        true,
	v1alpha1.ReasonUnbound:              true,
	v1alpha1.ReasonLoadBalancerNotFound: true,
}

// Withdrawal is NotServed's answer.
type Withdrawal struct {
	// Remove says the claim's ALIAS records go now.
	Remove bool
	// Wait is how long the claim still has to be served by nothing before they go (0 when they
	// go now or are kept).
	Wait time.Duration
	// Message says why they go (DNSRecordReady=False/NoLoadBalancer) when Remove is set, and
	// when they will go while Wait runs.
	Message string
}

// ServedByNothing reports whether the pool (reconciler/gatewaypool) recorded no load balancer
// and no seat for c, and says why with a GatewayAssigned=False reason that does not pass by
// itself (servedByNothing). Any other empty load balancer is a step on its way and keeps the
// records where they point: a seat that moves (status.gateway names the new Gateway, whose load
// balancer is not known yet: the records move once it is, and never go meanwhile), a claim
// waiting for its certificate or for the team's own load balancer to report an address.
func ServedByNothing(c *v1alpha1.DomainClaim) bool {
	st := &c.Status
	if st.LoadBalancerHostname != "" || st.LoadBalancerZoneID != "" || st.Gateway != nil {
		return false
	}
	assigned := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionGatewayAssigned)
	return assigned != nil && assigned.Status == metav1.ConditionFalse && servedByNothing[assigned.Reason]
}

// NotServed decides, as pure data, whether a claim's ALIAS records go because nothing serves its
// hostname any more (ServedByNothing) and has not since at least since, for at least grace.
// since is when the claim was first seen served by nothing, not GatewayAssigned's
// LastTransitionTime: that moves only when the condition's status does, so a claim that waited
// False/Pending for an hour and then turns False/PoolExhausted would have no grace at all.
func NotServed(c *v1alpha1.DomainClaim, since, now time.Time, grace time.Duration) Withdrawal {
	if !ServedByNothing(c) {
		return Withdrawal{}
	}
	assigned := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionGatewayAssigned)
	if until := since.Add(grace); until.After(now) {
		return Withdrawal{Wait: until.Sub(now), Message: fmt.Sprintf(
			"no load balancer serves %s (GatewayAssigned=False/%s: %s): its ALIAS records are removed at %s unless one serves it by then",
			c.Spec.Hostname, assigned.Reason, assigned.Message, until.UTC().Format(time.RFC3339))}
	}
	was := "a load balancer"
	if t := c.Status.AliasTarget; t != nil && t.DNSName != "" {
		was = t.DNSName
	}
	return Withdrawal{Remove: true, Message: fmt.Sprintf(
		"no load balancer serves %s any more (GatewayAssigned=False/%s: %s), so its ALIAS records were removed rather than left pointing at %s, "+
			"which no longer serves it; they are written again once a load balancer serves it",
		c.Spec.Hostname, assigned.Reason, assigned.Message, was)}
}
