package gatewaypool

import (
	"cmp"
	"slices"
)

// takeTurns orders claim status writes by urgency and, within one urgency, lets the claims'
// namespaces (spec.namespace) take turns, each namespace's claims in the order given (oldest
// first, from the plan). Only the first maxClaimWrites are written per reconcile, so without turns
// a namespace's 1,000 new claims, older than another namespace's one, would push that one into
// the tenth reconcile; with them it is among the first writes of the next.
func takeTurns(changes []ClaimChange) []ClaimChange {
	type group struct {
		urgency   int
		namespace string
	}
	type ranked struct {
		urgency, turn int
		change        ClaimChange
	}
	turns := map[group]int{}
	rs := make([]ranked, len(changes))
	for i, ch := range changes {
		g := group{urgency(ch), ch.Claim.Spec.Namespace}
		rs[i] = ranked{urgency: g.urgency, turn: turns[g], change: ch}
		turns[g]++
	}
	slices.SortStableFunc(rs, func(a, b ranked) int {
		return cmp.Or(cmp.Compare(a.urgency, b.urgency), cmp.Compare(a.turn, b.turn))
	})
	out := make([]ClaimChange, len(rs))
	for i, r := range rs {
		out[i] = r.change
	}
	return out
}
