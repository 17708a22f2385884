package dnsbatch

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/stretchr/testify/assert"
)

func cname(name, value string) types.ResourceRecordSet {
	return types.ResourceRecordSet{Name: aws.String(name), Type: types.RRTypeCname, TTL: aws.Int64(300),
		ResourceRecords: []types.ResourceRecord{{Value: aws.String(value)}}}
}

func alias(name, target string) types.ResourceRecordSet {
	return aliasOf(types.RRTypeA, name, target)
}

func aliasOf(typ types.RRType, name, target string) types.ResourceRecordSet {
	return types.ResourceRecordSet{Name: aws.String(name), Type: typ,
		AliasTarget: &types.AliasTarget{DNSName: aws.String(target), HostedZoneId: aws.String("ZLB")}}
}

// marker is the ownership marker of the record of type typ at name.
func marker(name string, typ types.RRType, cluster string) types.ResourceRecordSet {
	return types.ResourceRecordSet{Name: aws.String(MarkerName(name, string(typ))), Type: types.RRTypeTxt, TTL: aws.Int64(300),
		ResourceRecords: []types.ResourceRecord{{Value: aws.String(MarkerValue(cluster))}}}
}

// markers is a marker naming several clusters.
func markers(name string, typ types.RRType, clusters ...string) types.ResourceRecordSet {
	rs := marker(name, typ, clusters[0])
	for _, c := range clusters[1:] {
		rs.ResourceRecords = append(rs.ResourceRecords, types.ResourceRecord{Value: aws.String(MarkerValue(c))})
	}
	return rs
}

func snapshot(rs ...types.ResourceRecordSet) map[key]types.ResourceRecordSet {
	m := map[key]types.ResourceRecordSet{}
	for _, r := range rs {
		r.Name = aws.String(Canonical(aws.ToString(r.Name)))
		m[keyOf(r)] = r
	}
	return m
}

func actions(cs []types.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, string(c.Action)+" "+string(c.ResourceRecordSet.Type)+" "+aws.ToString(c.ResourceRecordSet.Name))
	}
	return out
}

func TestPlan(t *testing.T) {
	const n = "_v.shop.example.com."
	cases := []struct {
		name         string
		snap         map[key]types.ResourceRecordSet
		want         Want
		wantActions  []string
		wantConflict string
	}{
		{name: "a missing shared record is created with its marker", snap: snapshot(),
			want:        Want{Record: cname(n, "x.acm."), Kind: Shared},
			wantActions: []string{"CREATE CNAME " + n, "CREATE TXT _gateway-orchestrator-cname." + n}},
		{name: "desired equals current gives no change", snap: snapshot(cname(n, "x.acm."), marker(n, types.RRTypeCname, "c1")),
			want: Want{Record: cname(n, "x.acm."), Kind: Shared}},
		{name: "a shared record someone else made with the same value is used as it is", snap: snapshot(cname(n, "X.ACM")),
			want: Want{Record: cname(n, "x.acm."), Kind: Shared}},
		{name: "a shared record someone else made with another value is a conflict", snap: snapshot(cname(n, "other.")),
			want: Want{Record: cname(n, "x.acm."), Kind: Shared}, wantConflict: "with other values"},
		{name: "another cluster's marker is not ours", snap: snapshot(alias("shop.example.com", "lb1"), marker("shop.example.com", types.RRTypeA, "c2")),
			want: Want{Record: alias("shop.example.com", "lb1"), Kind: Exclusive}, wantConflict: "not created by gateway-orchestrator"},
		{name: "an exclusive record of ours pointing elsewhere is replaced exactly",
			snap:        snapshot(alias("shop.example.com", "lb1"), marker("shop.example.com", types.RRTypeA, "c1")),
			want:        Want{Record: alias("shop.example.com", "lb2"), Kind: Exclusive},
			wantActions: []string{"DELETE A shop.example.com.", "CREATE A shop.example.com."}},
		{name: "a record beside a foreign CNAME is a conflict", snap: snapshot(cname("shop.example.com", "elsewhere.")),
			want: Want{Record: alias("shop.example.com", "lb1"), Kind: Exclusive}, wantConflict: "cannot stand beside"},
		{name: "our record and marker are deleted exactly", snap: snapshot(cname(n, "x.acm."), marker(n, types.RRTypeCname, "c1")),
			want:        Want{Record: cname(n, ""), Kind: Shared, Absent: true},
			wantActions: []string{"DELETE CNAME " + n, "DELETE TXT _gateway-orchestrator-cname." + n}},
		{name: "a record that is not ours is never deleted", snap: snapshot(cname(n, "x.acm.")),
			want: Want{Record: cname(n, ""), Kind: Shared, Absent: true}},
		{name: "deleting what is gone is no change", snap: snapshot(),
			want: Want{Record: cname(n, ""), Kind: Shared, Absent: true}},
		{name: "a shared record another cluster made is joined: our name is added to its marker",
			snap:        snapshot(cname(n, "x.acm."), marker(n, types.RRTypeCname, "c2")),
			want:        Want{Record: cname(n, "x.acm."), Kind: Shared},
			wantActions: []string{"DELETE TXT _gateway-orchestrator-cname." + n, "CREATE TXT _gateway-orchestrator-cname." + n}},
		{name: "a shared record another cluster still uses is not deleted: only our name leaves its marker",
			snap:        snapshot(cname(n, "x.acm."), markers(n, types.RRTypeCname, "c1", "c2")),
			want:        Want{Record: cname(n, ""), Kind: Shared, Absent: true},
			wantActions: []string{"DELETE TXT _gateway-orchestrator-cname." + n, "CREATE TXT _gateway-orchestrator-cname." + n}},
		{name: "a shared record we use with another cluster needs no change", snap: snapshot(cname(n, "x.acm."), markers(n, types.RRTypeCname, "c1", "c2")),
			want: Want{Record: cname(n, "x.acm."), Kind: Shared}},
		{name: "an exclusive record whose marker names two clusters is not ours",
			snap: snapshot(alias("shop.example.com", "lb1"), markers("shop.example.com", types.RRTypeA, "c1", "c2")),
			want: Want{Record: alias("shop.example.com", "lb1"), Kind: Exclusive, Absent: true}},
		{name: "A and AAAA at one name each get their own marker", snap: snapshot(alias("shop.example.com", "lb1"), marker("shop.example.com", types.RRTypeA, "c1")),
			want:        Want{Record: aliasOf(types.RRTypeAaaa, "shop.example.com", "lb1"), Kind: Exclusive},
			wantActions: []string{"CREATE AAAA shop.example.com.", "CREATE TXT _gateway-orchestrator-aaaa.shop.example.com."}},
		{name: "deleting the A of a dual-stack name leaves the AAAA and its marker ours",
			snap: snapshot(alias("shop.example.com", "lb1"), marker("shop.example.com", types.RRTypeA, "c1"),
				aliasOf(types.RRTypeAaaa, "shop.example.com", "lb1"), marker("shop.example.com", types.RRTypeAaaa, "c1")),
			want:        Want{Record: alias("shop.example.com", "lb1"), Kind: Exclusive, Absent: true},
			wantActions: []string{"DELETE A shop.example.com.", "DELETE TXT _gateway-orchestrator-a.shop.example.com."}},
		{name: "the A's marker does not make an AAAA ours", snap: snapshot(aliasOf(types.RRTypeAaaa, "shop.example.com", "lb1"), marker("shop.example.com", types.RRTypeA, "c1")),
			want: Want{Record: aliasOf(types.RRTypeAaaa, "shop.example.com", "lb1"), Kind: Exclusive, Absent: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cs, res := Plan(tc.snap, tc.want, "c1", ExternalDNS{})
			assert.Equal(t, tc.wantActions, actions(cs))
			if tc.wantConflict == "" {
				assert.NotEqual(t, Conflict, res.State)
			} else {
				assert.Equal(t, Conflict, res.State)
				assert.Contains(t, res.Message, tc.wantConflict)
			}
		})
	}
}

func TestSharedRecordMarkerNamesEveryCluster(t *testing.T) {
	const n = "_v.shop.example.com."
	snap := snapshot(cname(n, "x.acm."), marker(n, types.RRTypeCname, "c2"))
	join, _ := Plan(snap, Want{Record: cname(n, "x.acm."), Kind: Shared}, "c1", ExternalDNS{})
	Apply(snap, join)
	m := snap[key{MarkerName(n, "CNAME"), "TXT"}]
	assert.Equal(t, []string{MarkerValue("c1"), MarkerValue("c2")}, []string{aws.ToString(m.ResourceRecords[0].Value), aws.ToString(m.ResourceRecords[1].Value)})

	leave, _ := Plan(snap, Want{Record: cname(n, ""), Kind: Shared, Absent: true}, "c2", ExternalDNS{})
	Apply(snap, leave)
	assert.Contains(t, snap, key{n, "CNAME"}, "c1 still needs the record")
	last, _ := Plan(snap, Want{Record: cname(n, ""), Kind: Shared, Absent: true}, "c1", ExternalDNS{})
	Apply(snap, last)
	assert.Empty(t, snap, "the last user removes the record and its marker")
}

func TestApplyThenPlanIsIdempotent(t *testing.T) {
	snap := snapshot()
	w := Want{Record: alias("a.example.com", "lb"), Kind: Exclusive}
	cs, _ := Plan(snap, w, "c1", ExternalDNS{})
	Apply(snap, cs)
	again, res := Plan(snap, w, "c1", ExternalDNS{})
	assert.Empty(t, again)
	assert.Equal(t, Result{State: Done}, res)
}
