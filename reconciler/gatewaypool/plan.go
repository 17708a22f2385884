package gatewaypool

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Capacity is what one Gateway of a pool may carry.
type Capacity struct {
	// Certificates besides the default certificate (ALB default quota: 25).
	Certificates int32
	// Rules is the ALB rule quota (default 100), over all the ALB's listeners: every hostname of
	// every route rule and match is one rule on each listener the route attaches to (albrules).
	Rules int32
	// TargetGroups is how many target groups one ALB may use (MaxTargetGroupsPerALB).
	TargetGroups int32
}

// MaxTargetGroupsPerALB is the ELBv2 quota "target groups per Application Load Balancer" (100,
// not adjustable). LBC makes one target group per Gateway, route, Service backend and port.
const MaxTargetGroupsPerALB = 100

// Load is one Gateway's current use.
type Load struct {
	Name         string
	Certificates int32
	Rules        int32
	// TargetGroups counts, per target group key (see TargetGroupKey), the seats whose routes use it:
	// seats sharing a route and backend share LBC's target group.
	TargetGroups map[string]int
	// Closed marks a Gateway being deleted: never chosen, and its number is not free.
	Closed bool
}

// Seat is what a hostname needs on its Gateway.
type Seat struct {
	Certificates int32 // 1, or 0 for a name its owner's wildcard certificate covers
	Rules        int32
	// TargetGroups are the keys of the target groups LBC makes for the hostname's routes.
	TargetGroups []string
	// Routes name the routes that use the hostname ("HTTPRoute ns/name"), for messages.
	Routes []string
}

// TargetGroupKey identifies one of LBC's target groups on a Gateway: LBC keys them by Gateway,
// route (kind, namespace, name), backend Service and port.
func TargetGroupKey(routeKind, routeNS, routeName, serviceNS, service string, port int32) string {
	return fmt.Sprintf("%s/%s/%s>%s/%s:%d", routeKind, routeNS, routeName, serviceNS, service, port)
}

// newTargetGroups is how many of the seat's target groups the Gateway does not have yet.
func (l *Load) newTargetGroups(s Seat) int32 {
	n := int32(0)
	for _, k := range s.TargetGroups {
		if l.TargetGroups[k] == 0 {
			n++
		}
	}
	return n
}

// TargetGroupCount is how many distinct target groups the Gateway's seats use.
func (l *Load) TargetGroupCount() int32 { return int32(len(l.TargetGroups)) }

// add puts a seat on the Gateway.
func (l *Load) add(s Seat) {
	l.Certificates += s.Certificates
	l.Rules += s.Rules
	if l.TargetGroups == nil {
		l.TargetGroups = map[string]int{}
	}
	for _, k := range s.TargetGroups {
		l.TargetGroups[k]++
	}
}

// remove takes a seat off the Gateway.
func (l *Load) remove(s Seat) {
	l.Certificates -= s.Certificates
	l.Rules -= s.Rules
	for _, k := range s.TargetGroups {
		if l.TargetGroups[k]--; l.TargetGroups[k] <= 0 {
			delete(l.TargetGroups, k)
		}
	}
}

// fits reports whether the Gateway has room for the seat.
func (l *Load) fits(capacity Capacity, s Seat) bool {
	return l.Certificates+s.Certificates <= capacity.Certificates && l.Rules+s.Rules <= capacity.Rules &&
		l.TargetGroupCount()+l.newTargetGroups(s) <= capacity.TargetGroups
}

// over reports whether the Gateway carries more than LBC can deploy on one ALB.
func (l *Load) over(capacity Capacity) bool {
	return l.Rules > capacity.Rules || l.TargetGroupCount() > capacity.TargetGroups
}

// Choice is the outcome of Assign.
type Choice struct {
	// Gateway is the chosen Gateway's name; Create says it does not exist yet.
	Gateway string
	Create  bool
	// Exhausted says every Gateway is full and the pool is at its maximum; Message says so.
	Exhausted bool
	Message   string
}

// GatewayName is the name of a pool's n-th Gateway (from 1).
func GatewayName(pool string, n int) string { return fmt.Sprintf("%s-%d", pool, n) }

// gatewayNumber is n of a pool Gateway's name, or 0 when the name is not the pool's.
func gatewayNumber(pool, name string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(name, pool+"-"))
	if err != nil || !strings.HasPrefix(name, pool+"-") || n < 1 {
		return 0
	}
	return n
}

// Assign picks a Gateway for a seat by first fit over the pool's Gateways in a stable order (by
// their number), so that Gateways fill up one after the other and empty ones at the end can be
// removed. The first free number gets a new Gateway when none has room, up to maxGateways.
func Assign(pool string, gateways []Load, capacity Capacity, maxGateways int, seat Seat) Choice {
	sorted := append([]Load(nil), gateways...)
	sort.Slice(sorted, func(i, j int) bool { return gatewayNumber(pool, sorted[i].Name) < gatewayNumber(pool, sorted[j].Name) })
	used := map[int]bool{}
	for _, g := range sorted {
		used[gatewayNumber(pool, g.Name)] = true
		if g.Closed {
			continue
		}
		if g.fits(capacity, seat) {
			return Choice{Gateway: g.Name}
		}
	}
	routes := strings.Join(seat.Routes, ", ")
	if seat.Rules > capacity.Rules {
		return Choice{Exhausted: true, Message: fmt.Sprintf("the hostname needs %d ALB rules, more than one Gateway of pool %s holds (%d); its routes: %s",
			seat.Rules, pool, capacity.Rules, routes)}
	}
	if n := int32(len(seat.TargetGroups)); n > capacity.TargetGroups {
		return Choice{Exhausted: true, Message: fmt.Sprintf("the hostname needs %d target groups (one per route, Service and port), more than one ALB holds (%d); its routes: %s",
			n, capacity.TargetGroups, routes)}
	}
	open := 0
	for _, g := range sorted {
		if !g.Closed {
			open++
		}
	}
	// A Gateway being deleted does not count against the maximum: its claims must go somewhere.
	if open >= maxGateways {
		return Choice{Exhausted: true, Message: fmt.Sprintf("all %d Gateways of pool %s are full (%d certificates, %d rules, %d target groups each) and the pool is at its maximum; raise spec.maxGateways or the ALB quotas",
			open, pool, capacity.Certificates, capacity.Rules, capacity.TargetGroups)}
	}
	n := 1
	for used[n] {
		n++
	}
	return Choice{Gateway: GatewayName(pool, n), Create: true}
}
