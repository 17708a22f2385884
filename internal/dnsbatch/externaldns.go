package dnsbatch

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// ExternalDNS is how the external-dns instances that write to the same hosted zones name the TXT
// records of their registry: their --txt-prefix, --txt-suffix and --txt-wildcard-replacement.
// The zero value is external-dns's default (no affix).
type ExternalDNS struct {
	Prefix, Suffix, WildcardReplacement string
}

// ExternalDNSOwner is external-dns's claim on a record, read from its TXT registry.
type ExternalDNSOwner struct {
	// ID is the owner ID (external-dns --txt-owner-id) of the instance that manages the record.
	ID string
	// Resource is the Kubernetes object external-dns made the record for (kind/namespace/name),
	// when it recorded one.
	Resource string
}

func (o ExternalDNSOwner) String() string {
	if o.Resource == "" {
		return "owner ID " + `"` + o.ID + `"`
	}
	return "owner ID " + `"` + o.ID + `", for ` + o.Resource
}

// recordTypeTemplate is external-dns's placeholder for the record type in a prefix or suffix.
const recordTypeTemplate = "%{record_type}"

// registryNames are the names under which external-dns keeps the ownership TXT record of the
// record of type typ at name, in both of its formats:
//   - the current one names the record type: "a-shop.example.com." by default, or the prefix
//     and suffix with %{record_type} replaced ("%{record_type}-x.shop…" gives "a-x.shop…");
//     a suffix goes after the first label. Some versions named the TXT record of a Route53
//     ALIAS A or AAAA, made from a CNAME-typed source, with "cname-" (external-dns issue 3164);
//   - the legacy one (before 0.12, and written beside the current one until 0.18) has no type:
//     the TXT record sits at the name itself, or at prefix+name.
func (x ExternalDNS) registryNames(name, typ string) []string {
	first, rest, _ := strings.Cut(Canonical(name), ".")
	if first == "*" && x.WildcardReplacement != "" {
		first = strings.ToLower(x.WildcardReplacement)
	}
	prefix, suffix := strings.ToLower(x.Prefix), strings.ToLower(x.Suffix)
	typed := strings.Contains(prefix+suffix, recordTypeTemplate)
	join := func(p, label, s string) string { return Canonical(p + label + s + "." + rest) }
	recordTypes := []string{strings.ToLower(typ)}
	if typ == string(types.RRTypeA) || typ == string(types.RRTypeAaaa) {
		recordTypes = append(recordTypes, "cname")
	}
	var names []string
	for _, t := range recordTypes {
		p, s := strings.ReplaceAll(prefix, recordTypeTemplate, t), strings.ReplaceAll(suffix, recordTypeTemplate, t)
		if typed {
			names = append(names, join(p, first, s))
		} else {
			names = append(names, join(p, t+"-"+first, s))
		}
	}
	p, s := strings.ReplaceAll(prefix, recordTypeTemplate, ""), strings.ReplaceAll(suffix, recordTypeTemplate, "")
	return append(names, join(p, first, s))
}

// ExternalDNSOwnerOf reads external-dns's TXT registry in snapshot for the record of type typ
// at name: who owns it, if external-dns does. An encrypted registry (--txt-encrypt-enabled)
// cannot be read and is not recognized.
func ExternalDNSOwnerOf(snapshot map[key]types.ResourceRecordSet, x ExternalDNS, name, typ string) (ExternalDNSOwner, bool) {
	for _, n := range x.registryNames(name, typ) {
		for _, rr := range snapshot[key{n, string(types.RRTypeTxt)}].ResourceRecords {
			if o, ok := ParseExternalDNSHeritage(aws.ToString(rr.Value)); ok {
				return o, true
			}
		}
	}
	return ExternalDNSOwner{}, false
}

// ParseExternalDNSHeritage reads one TXT value of external-dns's registry, for example
// "heritage=external-dns,external-dns/owner=prod,external-dns/resource=ingress/shop/web".
// Route53 quotes TXT values and splits long ones into several quoted strings.
func ParseExternalDNSHeritage(value string) (ExternalDNSOwner, bool) {
	v := strings.TrimSpace(value)
	v = strings.ReplaceAll(v, `" "`, "")
	v = strings.Trim(v, `"`)
	labels := map[string]string{}
	for _, kv := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			return ExternalDNSOwner{}, false
		}
		labels[k] = val
	}
	if labels["heritage"] != "external-dns" {
		return ExternalDNSOwner{}, false
	}
	return ExternalDNSOwner{ID: labels["external-dns/owner"], Resource: labels["external-dns/resource"]}, true
}
