// Package dnsbatch keeps Route53 records the orchestrator owns, coalescing the changes of many
// claims into one ChangeResourceRecordSets per hosted zone at a time, because Route53 allows
// about five requests a second for the whole account. Every record it creates has an ownership
// marker (a TXT record beside it); records without one are never changed or deleted.
package dnsbatch

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// Kind says how a wanted record is owned.
type Kind int

const (
	// Shared records (ACM validation CNAMEs) are the same for everyone who asks for them: an
	// existing record with the wanted value satisfies the want, whoever created it.
	Shared Kind = iota
	// Exclusive records (ALIAS) must be ours: an existing record without our marker is a
	// conflict and is left alone.
	Exclusive
)

// Want is the state one claim wants for one record.
type Want struct {
	// Zone is the hosted zone ID.
	Zone string
	// Record is the wanted record set. Its Name is canonical (lower case, trailing dot).
	Record types.ResourceRecordSet
	Kind   Kind
	// Absent asks for the record (and its marker) to be gone, if it is ours.
	Absent bool
}

// State is how far a want is.
type State int

const (
	// Pending: a change is queued or in flight.
	Pending State = iota
	// Done: the zone is as wanted.
	Done
	// Conflict: a record we do not own stands in the way; Message names it.
	Conflict
	// Failed: the last change failed; Message says why. The next Ensure tries again.
	Failed
)

// Result is the state of a want.
type Result struct {
	State   State
	Message string
	// Err is the AWS error of a Failed change, for the caller's back-off (backoff.Classify).
	Err error
	// ExternalDNSOwner is the owner ID of the external-dns instance whose record is at the
	// wanted name (a conflict, or its identical record used as it is); empty otherwise.
	ExternalDNSOwner string
}

type key struct{ name, typ string }

func keyOf(rs types.ResourceRecordSet) key {
	return key{Canonical(aws.ToString(rs.Name)), string(rs.Type)}
}

// Canonical lower-cases a DNS name, unescapes Route53's "\052" for "*" and adds the trailing dot.
func Canonical(n string) string {
	n = strings.ToLower(strings.ReplaceAll(n, `\052`, "*"))
	if !strings.HasSuffix(n, ".") {
		n += "."
	}
	return n
}

// MarkerName is the name of the ownership marker TXT record of the record of type typ at name:
// a TXT record cannot stand beside a CNAME, so the marker lives one label below, and each type
// has its own, so that deleting one record (the A of a dual-stack name) leaves the other's (the
// AAAA's) in place.
func MarkerName(name, typ string) string {
	return "_gateway-orchestrator-" + strings.ToLower(typ) + "." + Canonical(name)
}

// MarkerValue is the marker's TXT value for a cluster.
func MarkerValue(cluster string) string {
	return fmt.Sprintf(`"heritage=gateway-orchestrator,cluster=%s"`, cluster)
}

// Plan computes, as pure data, the changes that bring snapshot to want, and what the want's state
// is once they are applied: Done (no changes), Pending (changes to send) or Conflict (a record we
// do not own is in the way; nothing to send). xdns says how external-dns, if it shares the zone,
// names its registry: a record it owns is named with its owner ID, and its identical ALIAS is
// used as it is (Done, with a message saying whose it is) instead of a conflict.
func Plan(snapshot map[key]types.ResourceRecordSet, w Want, cluster string, xdns ExternalDNS) ([]types.Change, Result) {
	changes, conflict := plan(snapshot, w, cluster)
	switch {
	case conflict == "" && len(changes) > 0:
		return changes, Result{State: Pending}
	case conflict == "":
		return nil, Result{State: Done}
	}
	k := keyOf(w.Record)
	if cur, exists := snapshot[k]; exists && w.Kind == Exclusive {
		// Not ours (or there would be no conflict): external-dns's, if its registry says so.
		if owner, ok := ExternalDNSOwnerOf(snapshot, xdns, k.name, k.typ); ok {
			if same(cur, w.Record) {
				return nil, Result{State: Done, ExternalDNSOwner: owner.ID, Message: fmt.Sprintf(
					"the identical %s record %s is external-dns's (%s): used as it is and left to external-dns", k.typ, k.name, owner)}
			}
			return nil, Result{State: Conflict, ExternalDNSOwner: owner.ID, Message: fmt.Sprintf(
				"the %s record %s is owned by external-dns (%s) and points elsewhere; it is left alone: exclude the hostname from external-dns (docs/external-dns.md)", k.typ, k.name, owner)}
		}
	}
	return nil, Result{State: Conflict, Message: conflict}
}

func plan(snapshot map[key]types.ResourceRecordSet, w Want, cluster string) (changes []types.Change, conflict string) {
	k := keyOf(w.Record)
	cur, exists := snapshot[k]
	markerKey := key{MarkerName(k.name, k.typ), string(types.RRTypeTxt)}
	marker, marked := snapshot[markerKey]
	// A shared record's marker names every cluster that uses it, one TXT value each; an
	// exclusive record's names only its owner.
	mine := MarkerValue(cluster)
	var users []string
	for _, rr := range marker.ResourceRecords {
		users = append(users, aws.ToString(rr.Value))
	}
	ours := marked && slices.Contains(users, mine) && (w.Kind == Shared || len(users) == 1)
	markerRS := markerSet(markerKey.name, mine)

	if w.Absent {
		if !exists || !ours {
			return nil, "" // gone already, or not ours to delete
		}
		if others := slices.DeleteFunc(slices.Clone(users), func(u string) bool { return u == mine }); len(others) > 0 {
			// Another cluster still uses the shared record: only our name leaves its marker.
			return replaceMarker(marker, others), ""
		}
		return []types.Change{
			{Action: types.ChangeActionDelete, ResourceRecordSet: ptr(cur)},
			{Action: types.ChangeActionDelete, ResourceRecordSet: ptr(marker)},
		}, ""
	}
	if exists && same(cur, w.Record) {
		switch {
		case ours:
			return nil, ""
		case w.Kind == Shared && marked:
			// Another cluster made it: use it, and say so on its marker, so that it stays
			// while we need it.
			return replaceMarker(marker, append(users, mine)), ""
		case w.Kind == Shared:
			return nil, "" // someone else's record with the wanted value: used as it is
		}
	}
	if exists && !ours {
		if w.Kind == Shared && !same(cur, w.Record) {
			return nil, fmt.Sprintf("a %s record %s with other values exists and was not created by gateway-orchestrator", k.typ, k.name)
		}
		if w.Kind == Exclusive {
			return nil, fmt.Sprintf("a %s record %s exists and was not created by gateway-orchestrator; it is left alone", k.typ, k.name)
		}
	}
	if other := blocking(snapshot, k); other != "" {
		return nil, fmt.Sprintf("a %s record at %s, not created by gateway-orchestrator, cannot stand beside a %s", other, k.name, k.typ)
	}
	want := w.Record
	want.Name = aws.String(k.name)
	if exists { // ours, with other values: replace exactly what is there
		changes = append(changes, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: ptr(cur)})
	}
	changes = append(changes, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: &want})
	if !marked {
		changes = append(changes, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: &markerRS})
	}
	return changes, ""
}

// markerSet is a marker TXT record naming users.
func markerSet(name string, users ...string) types.ResourceRecordSet {
	slices.Sort(users)
	rs := types.ResourceRecordSet{Name: aws.String(name), Type: types.RRTypeTxt, TTL: aws.Int64(300)}
	for _, u := range users {
		rs.ResourceRecords = append(rs.ResourceRecords, types.ResourceRecord{Value: aws.String(u)})
	}
	return rs
}

// replaceMarker replaces a marker exactly with one naming users.
func replaceMarker(marker types.ResourceRecordSet, users []string) []types.Change {
	next := markerSet(aws.ToString(marker.Name), users...)
	return []types.Change{
		{Action: types.ChangeActionDelete, ResourceRecordSet: ptr(marker)},
		{Action: types.ChangeActionCreate, ResourceRecordSet: &next},
	}
}

// blocking names a record type at k's name that cannot stand beside k (CNAMEs exclude others).
func blocking(snapshot map[key]types.ResourceRecordSet, k key) string {
	for o := range snapshot {
		if o.name == k.name && o.typ != k.typ && (o.typ == "CNAME" || k.typ == "CNAME") {
			return o.typ
		}
	}
	return ""
}

// Apply updates a snapshot with changes that Route53 accepted.
func Apply(snapshot map[key]types.ResourceRecordSet, changes []types.Change) {
	for _, c := range changes {
		k := keyOf(*c.ResourceRecordSet)
		if c.Action == types.ChangeActionDelete {
			delete(snapshot, k)
		} else {
			rs := *c.ResourceRecordSet
			rs.Name = aws.String(k.name)
			snapshot[k] = rs
		}
	}
}

func same(a, b types.ResourceRecordSet) bool {
	if (a.AliasTarget == nil) != (b.AliasTarget == nil) {
		return false
	}
	if a.AliasTarget != nil {
		return Canonical(aws.ToString(a.AliasTarget.DNSName)) == Canonical(aws.ToString(b.AliasTarget.DNSName)) &&
			aws.ToString(a.AliasTarget.HostedZoneId) == aws.ToString(b.AliasTarget.HostedZoneId)
	}
	if len(a.ResourceRecords) != len(b.ResourceRecords) {
		return false
	}
	for i := range a.ResourceRecords {
		if Canonical(aws.ToString(a.ResourceRecords[i].Value)) != Canonical(aws.ToString(b.ResourceRecords[i].Value)) {
			return false
		}
	}
	return true
}

func ptr(rs types.ResourceRecordSet) *types.ResourceRecordSet { return &rs }
