package dnsbatch

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/stretchr/testify/assert"
)

// said lists wants as "ZONE create|delete TYPE NAME", in order.
func said(ws []Want) []string {
	out := []string{}
	for _, w := range ws {
		verb := "create"
		if w.Absent {
			verb = "delete"
		}
		out = append(out, fmt.Sprintf("%s %s %s %s", w.Zone, verb, w.Record.Type, aws.ToString(w.Record.Name)))
	}
	return out
}

func TestRelocate(t *testing.T) {
	const h = "shop.example.com."
	a := Want{Zone: "ignored", Kind: Exclusive, Record: alias(h, "lb")}
	aaaa := Want{Zone: "ignored", Kind: Exclusive, Record: aliasOf(types.RRTypeAaaa, h, "lb")}
	staleAAAA := aaaa
	staleAAAA.Absent = true
	cnameWant := Want{Kind: Shared, Record: cname("_v."+h, "_x.acm-validations.aws.")}
	cases := []struct {
		name             string
		recorded, zoneID string
		wants            []Want
		keepOld          bool
		want             []string
		moving           bool
	}{
		{name: "records in the zone in effect are only made sure of", recorded: "Z1", zoneID: "Z1", wants: []Want{a},
			want: []string{"Z1 create A " + h}},
		{name: "records written before the zone was recorded are taken to be in the zone in effect", recorded: "", zoneID: "Z1", wants: []Want{a, aaaa},
			want: []string{"Z1 create A " + h, "Z1 create AAAA " + h}},
		{name: "a new hosted zone gets the records first, then ours go from the old one", recorded: "Z1", zoneID: "Z2", wants: []Want{a, aaaa}, moving: true,
			want: []string{"Z2 create A " + h, "Z2 create AAAA " + h, "Z1 delete A " + h, "Z1 delete AAAA " + h}},
		{name: "a record the claim no longer wants goes from both zones", recorded: "Z1", zoneID: "Z2", wants: []Want{a, staleAAAA}, moving: true,
			want: []string{"Z2 create A " + h, "Z2 delete AAAA " + h, "Z1 delete A " + h, "Z1 delete AAAA " + h}},
		{name: "a shared record another claim still needs in the old zone stays there", recorded: "Z1", zoneID: "Z2", wants: []Want{cnameWant}, keepOld: true, moving: true,
			want: []string{"Z2 create CNAME _v." + h}},
		{name: "a shared record nobody else needs there moves", recorded: "Z1", zoneID: "Z2", wants: []Want{cnameWant}, moving: true,
			want: []string{"Z2 create CNAME _v." + h, "Z1 delete CNAME _v." + h}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Relocate(tc.recorded, tc.zoneID, tc.wants, tc.keepOld)
			assert.Equal(t, tc.want, said(got.Ensure))
			assert.Equal(t, tc.zoneID, got.Zone, "once done, the records are recorded in the zone in effect")
			assert.Equal(t, tc.moving, got.Moving)
		})
	}
}

func TestRemoval(t *testing.T) {
	const h = "shop.example.com."
	a := Want{Zone: "ignored", Kind: Exclusive, Record: alias(h, "lb")}
	cases := []struct {
		name             string
		recorded, zoneID string
		want             []string
	}{
		{name: "records go from the zone they were written in", recorded: "Z1", zoneID: "Z1", want: []string{"Z1 delete A " + h}},
		{name: "records written before the zone was recorded go from the zone in effect", recorded: "", zoneID: "Z1", want: []string{"Z1 delete A " + h}},
		{name: "a claim deleted while its records moved has them cleaned from both zones", recorded: "Z1", zoneID: "Z2",
			want: []string{"Z1 delete A " + h, "Z2 delete A " + h}},
		{name: "records whose ManagedZone is gone still go from the zone they were written in", recorded: "Z1", zoneID: "", want: []string{"Z1 delete A " + h}},
		{name: "nothing recorded and no zone: nothing to delete", recorded: "", zoneID: "", want: []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, said(Removal(tc.recorded, tc.zoneID, []Want{a})))
		})
	}
}
