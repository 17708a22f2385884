// Package ownlb decides, as pure data, which load balancer a claim's ALIAS points at: a seat on a
// pool Gateway, or the load balancer its user brought along. A team's own Gateway (not a pool's),
// an Ingress (LBC gives each its own ALB) and a route whose parentRefs name only such Gateways are
// served by that object's load balancer; a seat on a shared pool ALB would serve nothing for them,
// and an ALIAS there would send the hostname's traffic to the wrong load balancer.
package ownlb

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// User is one object of the claim's owning namespace that uses its hostname, as the decision
// sees it.
type User struct {
	// Object names it, for messages: "HTTPRoute ns/name", "Gateway ns/name", "Ingress ns/name".
	Object string
	// Pool says a pool Gateway serves it: a route whose parentRefs name a pool Gateway, or that has
	// none (the routes reconciler attaches it to the hostname's seat).
	Pool bool
	// LoadBalancers are the objects whose own load balancers serve it when it is not Pool (the
	// object itself for a Gateway or Ingress; the Gateways a route names), with their addresses.
	LoadBalancers []LoadBalancer
}

// LoadBalancer is an object with a load balancer of its own and the DNS name it reports.
type LoadBalancer struct {
	// Object names it: "Gateway ns/name" or "Ingress ns/name".
	Object string
	// Address is the DNS name in its status ("" until it has one).
	Address string
	// Refusal is its controller's verdict when it does not accept the object ("" when it does).
	Refusal string
	// Pending says why it is not yet a user's load balancer though it may have an address (a
	// Gateway of another namespace that has not accepted the user); "" when it is. Address and
	// Refusal are then empty: the object is waited for.
	Pending string
	// Missing says the object does not exist (a Gateway a route's parentRef names that is not
	// there, or no longer): it is waited for, and serves nothing meanwhile.
	Missing bool
}

// Kind is what a Decision says the claim needs.
type Kind int

const (
	// Pool: a seat on a pool Gateway (a user needs the pool, or no user brings a load balancer).
	Pool Kind = iota
	// Own: no seat; the ALIAS points at Address, the load balancer of Objects.
	Own
	// Waiting: no ALIAS at Objects until they report an address (a claim without a seat gets
	// none, and no record; one with a seat keeps it, and its ALIAS on the pool's ALB).
	Waiting
	// Ambiguous: Objects report different addresses, and a hostname can be an ALIAS of one load
	// balancer only: as for Waiting, a seat is kept and none is taken.
	Ambiguous
)

// Decision is what Decide returns.
type Decision struct {
	Kind Kind
	// Address is the load balancer's DNS name (Own only).
	Address string
	// Objects are, for Own the objects served by Address; for Waiting those without an address;
	// for Ambiguous each object with its address ("Gateway ns/a (dns)"); for Pool the objects with
	// a load balancer of their own that DNS does not point at (none when no user brings one).
	// Sorted.
	Objects []string
	// Refusals are the verdicts of the controller that does not accept the objects serving
	// Address (Own only): what they say does not reach the load balancer.
	Refusals []string
	// Missing says (Waiting only) that no object has an address and none of those waited for
	// exists: nothing serves the hostname until one is created.
	Missing bool
}

// Decide decides from the claim's users. A claim needs a seat when a user needs the pool, or when
// no user brings a load balancer of its own (an admin's claim with provision Always, or one whose
// routes are gone, keeps today's seat). Otherwise the users' load balancers decide: one address
// for all is the ALIAS target; an object without an address yet is waited for; two different
// addresses are ambiguous.
func Decide(users []User) Decision {
	pool := false
	addr := map[string]string{}    // object → address
	refusal := map[string]string{} // object → refusal
	pending := map[string]string{} // object → why it is waited for
	missing := map[string]bool{}   // objects that do not exist
	for _, u := range users {
		if u.Pool {
			pool = true
			continue
		}
		for _, lb := range u.LoadBalancers {
			if a, ok := addr[lb.Object]; !ok || a == "" {
				addr[lb.Object] = lb.Address
			}
			if lb.Refusal != "" {
				refusal[lb.Object] = lb.Refusal
			}
			if lb.Pending != "" {
				pending[lb.Object] = lb.Pending
			}
			if lb.Missing {
				missing[lb.Object] = true
			}
		}
	}
	objects := make([]string, 0, len(addr))
	for o := range addr {
		objects = append(objects, o)
	}
	sort.Strings(objects)
	if pool || len(objects) == 0 {
		return Decision{Kind: Pool, Objects: objects}
	}
	byAddress := map[string][]string{}
	var waiting []string
	gone := true // every object waited for does not exist
	for _, o := range objects {
		a := normalize(addr[o])
		if a == "" {
			gone = gone && missing[o]
			if why := pending[o]; why != "" && !missing[o] { // a missing object waits for its creation first
				o += " (" + why + ")"
			}
			waiting = append(waiting, o)
			continue
		}
		byAddress[a] = append(byAddress[a], o)
	}
	if len(byAddress) > 1 {
		var named []string
		for _, o := range objects {
			if a := normalize(addr[o]); a != "" {
				named = append(named, o+" ("+a+")")
			}
		}
		return Decision{Kind: Ambiguous, Objects: named}
	}
	if len(waiting) > 0 {
		return Decision{Kind: Waiting, Objects: waiting, Missing: gone && len(byAddress) == 0}
	}
	var refusals []string
	for _, o := range objects {
		if r := refusal[o]; r != "" {
			refusals = append(refusals, r)
		}
	}
	return Decision{Kind: Own, Address: normalize(addr[objects[0]]), Objects: objects, Refusals: refusals}
}

// normalize is an address as DNS compares it: lower case, without the trailing dot.
func normalize(a string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(a)), ".")
}

// Message says the decision to the claim's reader, for hostname h.
func (d Decision) Message(h string) string {
	list := strings.Join(d.Objects, ", ")
	switch d.Kind {
	case Own:
		return fmt.Sprintf("%s is served by the load balancer of %s (%s), not by a pool Gateway", h, list, d.Address)
	case Waiting:
		if d.Missing {
			return fmt.Sprintf("%s does not exist, so nothing serves %s: create it, or serve %s from another Gateway or Ingress", list, h, h)
		}
		return fmt.Sprintf("waiting for the load balancer address of %s (status.addresses of a Gateway, status.loadBalancer.ingress of an Ingress)", list)
	case Ambiguous:
		return fmt.Sprintf("%s is served by several load balancers: %s; an ALIAS record can point at one only, so none points at them: serve %s from one of them", h, list, h)
	}
	if len(d.Objects) == 0 {
		return ""
	}
	return fmt.Sprintf("DNS points %s at its pool Gateway (a route uses it there), not at the load balancer of %s", h, list)
}

// Equal reports whether two decisions are the same.
func (d Decision) Equal(o Decision) bool {
	return d.Kind == o.Kind && d.Address == o.Address && slices.Equal(d.Objects, o.Objects) && slices.Equal(d.Refusals, o.Refusals) && d.Missing == o.Missing
}
