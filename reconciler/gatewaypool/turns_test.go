package gatewaypool

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
)

func inNamespace(ns string) claimOpt {
	return func(c *v1alpha1.DomainClaim) { c.Spec.Namespace = ns }
}

// newSeat is a write that seats claim c on public-1 (urgentSeat).
func newSeat(c *v1alpha1.DomainClaim) ClaimChange {
	st := c.Status.DeepCopy()
	st.Gateway = &v1alpha1.ObjectRef{Namespace: "gateway-system", Name: "public-1"}
	return ClaimChange{Claim: c, Status: *st}
}

// refresh is a write that changes only a report (urgentRefresh).
func refresh(c *v1alpha1.DomainClaim) ClaimChange {
	st := c.Status.DeepCopy()
	setStrays(st, c, []string{"HTTPRoute team-x/copycat"})
	return ClaimChange{Claim: c, Status: *st}
}

func TestNamespacesTakeTurnsWithinEachUrgency(t *testing.T) {
	a := func(n int) *v1alpha1.DomainClaim { return testClaim(n, inNamespace("team-a")) }
	b := func(n int) *v1alpha1.DomainClaim { return testClaim(n, inNamespace("team-b")) }
	c := func(n int) *v1alpha1.DomainClaim { return testClaim(n, inNamespace("team-c")) }
	burst := func(ns func(int) *v1alpha1.DomainClaim, from, n int) []ClaimChange {
		var out []ClaimChange
		for i := range n {
			out = append(out, newSeat(ns(from+i)))
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		changes []ClaimChange
		want    []string
	}{
		{
			name:    "one namespace keeps the plan's order",
			changes: burst(a, 1, 3),
			want:    []string{"h0001", "h0002", "h0003"},
		},
		{
			name:    "a newer namespace's one seat goes second, not after the older burst",
			changes: append(burst(a, 1, 4), newSeat(b(5))),
			want:    []string{"h0001", "h0005", "h0002", "h0003", "h0004"},
		},
		{
			name:    "three namespaces take turns, each in its own order",
			changes: append(append(burst(a, 1, 3), burst(c, 4, 2)...), burst(b, 6, 1)...),
			want:    []string{"h0001", "h0004", "h0006", "h0002", "h0005", "h0003"},
		},
		{
			name:    "urgency goes before turns: a refresh waits behind every seat",
			changes: []ClaimChange{newSeat(a(1)), refresh(b(2)), newSeat(a(3)), newSeat(a(4))},
			want:    []string{"h0001", "h0003", "h0004", "h0002"},
		},
		{
			name:    "turns restart in each urgency",
			changes: []ClaimChange{newSeat(a(1)), newSeat(a(2)), refresh(a(3)), refresh(b(4)), refresh(a(5))},
			want:    []string{"h0001", "h0002", "h0003", "h0004", "h0005"},
		},
		{
			name: "nothing to write gives nothing",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, ch := range takeTurns(tc.changes) {
				got = append(got, ch.Claim.Name[:len("h0000")])
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestAnotherNamespacesNewSeatIsAmongTheFirstMaxClaimWrites(t *testing.T) {
	var changes []ClaimChange
	for n := 1; n <= 1000; n++ {
		changes = append(changes, newSeat(testClaim(n, inNamespace("team-a"))))
	}
	changes = append(changes, newSeat(testClaim(1001, inNamespace("team-b"))))
	first := takeTurns(changes)[:maxClaimWrites]
	var names []string
	for _, ch := range first {
		names = append(names, ch.Claim.Name)
	}
	assert.Contains(t, names, fmt.Sprintf("h%04d.example.com", 1001), "team-b's seat is written in this reconcile")
}
