package dnsbatch

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/stretchr/testify/assert"
)

// heritage is external-dns's registry TXT record at name (values quoted, as Route53 returns them).
func heritage(name, owner string) types.ResourceRecordSet {
	return txt(name, `"heritage=external-dns,external-dns/owner=`+owner+`,external-dns/resource=ingress/shop/web"`)
}

func txt(name string, values ...string) types.ResourceRecordSet {
	rs := types.ResourceRecordSet{Name: aws.String(name), Type: types.RRTypeTxt, TTL: aws.Int64(300)}
	for _, v := range values {
		rs.ResourceRecords = append(rs.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return rs
}

func TestParseExternalDNSHeritage(t *testing.T) {
	cases := []struct {
		name, value string
		want        ExternalDNSOwner
		ok          bool
	}{
		{"a quoted registry value", `"heritage=external-dns,external-dns/owner=prod,external-dns/resource=ingress/shop/web"`,
			ExternalDNSOwner{ID: "prod", Resource: "ingress/shop/web"}, true},
		{"a value Route53 split into two strings", `"heritage=external-dns,external-dns/ow" "ner=prod"`, ExternalDNSOwner{ID: "prod"}, true},
		{"an unquoted value", `heritage=external-dns,external-dns/owner=default`, ExternalDNSOwner{ID: "default"}, true},
		{"our own marker is not external-dns's", MarkerValue("c1"), ExternalDNSOwner{}, false},
		{"another heritage is not external-dns's", `"heritage=cert-manager,external-dns/owner=x"`, ExternalDNSOwner{}, false},
		{"an SPF record", `"v=spf1 include:_spf.example.com ~all"`, ExternalDNSOwner{}, false},
		{"an encrypted registry value cannot be read", `"Ez9Jd0w+Ny1xV3ZAMkLmB6jvsDbu1NRcZ3b/v0V2oAE="`, ExternalDNSOwner{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseExternalDNSHeritage(tc.value)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestExternalDNSOwnerOf(t *testing.T) {
	const h = "shop.example.com."
	cases := []struct {
		name  string
		xdns  ExternalDNS
		typ   types.RRType
		host  string
		snap  map[key]types.ResourceRecordSet
		owner string // "" when external-dns does not own the record
	}{
		{name: "the current format names the record type", snap: snapshot(heritage("a-shop.example.com", "prod")), owner: "prod"},
		{name: "the current format of an AAAA", typ: types.RRTypeAaaa, snap: snapshot(heritage("aaaa-shop.example.com", "prod")), owner: "prod"},
		{name: "the A registry record does not claim the AAAA", typ: types.RRTypeAaaa, snap: snapshot(heritage("a-shop.example.com", "prod"))},
		{name: "an ALIAS A tracked under cname- by older versions", snap: snapshot(heritage("cname-shop.example.com", "prod")), owner: "prod"},
		{name: "the legacy format sits at the name itself", snap: snapshot(heritage("shop.example.com", "legacy")), owner: "legacy"},
		{name: "a prefix without the type template goes before the typed label",
			xdns: ExternalDNS{Prefix: "edns-"}, snap: snapshot(heritage("edns-a-shop.example.com", "prod")), owner: "prod"},
		{name: "a legacy record under a prefix", xdns: ExternalDNS{Prefix: "edns."}, snap: snapshot(heritage("edns.shop.example.com", "prod")), owner: "prod"},
		{name: "a prefix with the type template", xdns: ExternalDNS{Prefix: "%{record_type}-edns."},
			snap: snapshot(heritage("a-edns.shop.example.com", "prod")), owner: "prod"},
		{name: "a suffix goes after the first label", xdns: ExternalDNS{Suffix: "-edns"},
			snap: snapshot(heritage("a-shop-edns.example.com", "prod")), owner: "prod"},
		{name: "a suffix with the type template", xdns: ExternalDNS{Suffix: "-%{record_type}"},
			snap: snapshot(heritage("shop-a.example.com", "prod")), owner: "prod"},
		{name: "a wildcard with a replacement", host: "*.example.com", xdns: ExternalDNS{WildcardReplacement: "wild"},
			snap: snapshot(heritage("a-wild.example.com", "prod")), owner: "prod"},
		{name: "a wildcard as Route53 spells it", host: "*.example.com", snap: snapshot(heritage(`a-\052.example.com`, "prod")), owner: "prod"},
		{name: "names are compared case-insensitively", snap: snapshot(heritage("A-Shop.Example.COM", "prod")), owner: "prod"},
		{name: "another name's registry record is not this one's", snap: snapshot(heritage("a-shop2.example.com", "prod"), heritage("a-www.shop.example.com", "prod"))},
		{name: "a prefix external-dns does not use is not guessed", snap: snapshot(heritage("edns-a-shop.example.com", "prod"))},
		{name: "a TXT record at the name that is not external-dns's", snap: snapshot(txt("shop.example.com", `"v=spf1 -all"`))},
		{name: "our own marker", snap: snapshot(marker(h, types.RRTypeA, "c1"))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			typ, host := tc.typ, tc.host
			if typ == "" {
				typ = types.RRTypeA
			}
			if host == "" {
				host = h
			}
			got, ok := ExternalDNSOwnerOf(tc.snap, tc.xdns, Canonical(host), string(typ))
			assert.Equal(t, tc.owner != "", ok)
			assert.Equal(t, tc.owner, got.ID)
		})
	}
}

func TestPlanBesideExternalDNS(t *testing.T) {
	const h = "shop.example.com."
	cases := []struct {
		name        string
		snap        map[key]types.ResourceRecordSet
		want        Want
		wantActions []string
		state       State
		message     string
		owner       string // Result.ExternalDNSOwner
	}{
		{name: "an identical ALIAS external-dns owns is used as it is, not a conflict",
			snap: snapshot(alias(h, "lb1"), heritage("a-"+h, "prod")), want: Want{Record: alias(h, "lb1"), Kind: Exclusive},
			state: Done, message: `the identical A record shop.example.com. is external-dns's (owner ID "prod", for ingress/shop/web)`, owner: "prod"},
		{name: "an ALIAS external-dns owns that points elsewhere is a conflict naming its owner",
			snap: snapshot(alias(h, "lb-other"), heritage("a-"+h, "prod")), want: Want{Record: alias(h, "lb1"), Kind: Exclusive},
			state: Conflict, message: `the A record shop.example.com. is owned by external-dns (owner ID "prod", for ingress/shop/web)`, owner: "prod"},
		{name: "a registry record without its record is no obstacle: ours is created",
			snap: snapshot(heritage("a-"+h, "prod")), want: Want{Record: alias(h, "lb1"), Kind: Exclusive},
			wantActions: []string{"CREATE A " + h, "CREATE TXT _gateway-orchestrator-a." + h}, state: Pending},
		{name: "external-dns's record is never deleted",
			snap: snapshot(alias(h, "lb1"), heritage("a-"+h, "prod")), want: Want{Record: alias(h, "lb1"), Kind: Exclusive, Absent: true},
			state: Done},
		{name: "a foreign record without a registry record stays a plain conflict",
			snap: snapshot(alias(h, "lb1")), want: Want{Record: alias(h, "lb1"), Kind: Exclusive},
			state: Conflict, message: "was not created by gateway-orchestrator"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cs, res := Plan(tc.snap, tc.want, "c1", ExternalDNS{})
			assert.Equal(t, tc.wantActions, actions(cs))
			assert.Equal(t, tc.state, res.State)
			if tc.message == "" {
				assert.Empty(t, res.Message)
			} else {
				assert.Contains(t, res.Message, tc.message)
			}
			assert.Equal(t, tc.owner, res.ExternalDNSOwner)
		})
	}
}
