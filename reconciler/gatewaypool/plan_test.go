package gatewaypool

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAssign(t *testing.T) {
	capacity := Capacity{Certificates: 25, Rules: 100, TargetGroups: 100}
	one := Seat{Certificates: 1, Rules: 1}
	cases := []struct {
		name     string
		gateways []Load
		max      int
		seat     Seat
		want     Choice
	}{
		{name: "an empty pool creates its first Gateway", max: 10, seat: one, want: Choice{Gateway: "public-1", Create: true}},
		{name: "the first Gateway with room is chosen", max: 10, seat: one,
			gateways: []Load{{Name: "public-1", Certificates: 25}, {Name: "public-2", Certificates: 3}, {Name: "public-3"}},
			want:     Choice{Gateway: "public-2"}},
		{name: "order is by number, not by name", max: 10, seat: one,
			gateways: []Load{{Name: "public-10"}, {Name: "public-2"}},
			want:     Choice{Gateway: "public-2"}},
		{name: "a Gateway full of rules is skipped", max: 10, seat: Seat{Certificates: 1, Rules: 5},
			gateways: []Load{{Name: "public-1", Certificates: 1, Rules: 98}, {Name: "public-2"}},
			want:     Choice{Gateway: "public-2"}},
		{name: "a covered name needs no certificate room", max: 1, seat: Seat{Rules: 1},
			gateways: []Load{{Name: "public-1", Certificates: 25, Rules: 10}},
			want:     Choice{Gateway: "public-1"}},
		{name: "all full creates the first free number", max: 10, seat: one,
			gateways: []Load{{Name: "public-1", Certificates: 25}, {Name: "public-3", Certificates: 25}},
			want:     Choice{Gateway: "public-2", Create: true}},
		{name: "all full at the maximum is exhausted", max: 2, seat: one,
			gateways: []Load{{Name: "public-1", Certificates: 25}, {Name: "public-2", Certificates: 25}},
			want:     Choice{Exhausted: true}},
		{name: "a Gateway being deleted is never chosen", max: 10, seat: one,
			gateways: []Load{{Name: "public-1", Certificates: 25}, {Name: "public-2", Closed: true}, {Name: "public-3", Certificates: 3}},
			want:     Choice{Gateway: "public-3"}},
		{name: "the number of a Gateway being deleted is not free", max: 10, seat: one,
			gateways: []Load{{Name: "public-1", Certificates: 25}, {Name: "public-2", Closed: true}},
			want:     Choice{Gateway: "public-3", Create: true}},
		{name: "a Gateway being deleted does not count against the maximum", max: 2, seat: one,
			gateways: []Load{{Name: "public-1", Certificates: 25}, {Name: "public-2", Closed: true}},
			want:     Choice{Gateway: "public-3", Create: true}},
		{name: "a seat larger than a Gateway is exhausted", max: 10, seat: Seat{Certificates: 1, Rules: 101},
			want: Choice{Exhausted: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Assign("public", tc.gateways, capacity, tc.max, tc.seat)
			if tc.want.Exhausted {
				assert.True(t, got.Exhausted)
				assert.NotEmpty(t, got.Message)
				return
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestThirtyHostnamesFillTwoGateways(t *testing.T) {
	capacity := Capacity{Certificates: 25, Rules: 100, TargetGroups: 100}
	var gateways []Load
	for i := 0; i < 30; i++ {
		c := Assign("public", gateways, capacity, 10, Seat{Certificates: 1, Rules: 1})
		if c.Create {
			gateways = append(gateways, Load{Name: c.Gateway})
		}
		for j := range gateways {
			if gateways[j].Name == c.Gateway {
				gateways[j].Certificates++
				gateways[j].Rules++
			}
		}
	}
	assert.Equal(t, []Load{{Name: "public-1", Certificates: 25, Rules: 25}, {Name: "public-2", Certificates: 5, Rules: 5}}, gateways)
}
