// Package gatewaypool will reconcile GatewayPools: their Gateways (one ALB each) and each
// hostname's seat on one of them. So far it holds the pure assignment plan; the reconciler that
// applies it is the next step (issue 4).
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
	// Rules is the ALB rule quota (default 100); every hostname of every route rule is one rule.
	Rules int32
}

// Load is one Gateway's current use.
type Load struct {
	Name         string
	Certificates int32
	Rules        int32
	// Closed marks a Gateway being deleted: never chosen, and its number is not free.
	Closed bool
}

// Seat is what a hostname needs on its Gateway.
type Seat struct {
	Certificates int32 // 1, or 0 for a name its owner's wildcard certificate covers
	Rules        int32
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
		if g.Certificates+seat.Certificates <= capacity.Certificates && g.Rules+seat.Rules <= capacity.Rules {
			return Choice{Gateway: g.Name}
		}
	}
	if seat.Certificates > capacity.Certificates || seat.Rules > capacity.Rules {
		return Choice{Exhausted: true, Message: fmt.Sprintf("the hostname needs %d ALB rules, more than one Gateway of pool %s holds (%d)", seat.Rules, pool, capacity.Rules)}
	}
	open := 0
	for _, g := range sorted {
		if !g.Closed {
			open++
		}
	}
	// A Gateway being deleted does not count against the maximum: its claims must go somewhere.
	if open >= maxGateways {
		return Choice{Exhausted: true, Message: fmt.Sprintf("all %d Gateways of pool %s are full (%d certificates, %d rules each) and the pool is at its maximum; raise spec.maxGateways or the ALB quotas",
			open, pool, capacity.Certificates, capacity.Rules)}
	}
	n := 1
	for used[n] {
		n++
	}
	return Choice{Gateway: GatewayName(pool, n), Create: true}
}
