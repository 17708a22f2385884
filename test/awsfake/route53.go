package awsfake

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Route53 limits on one ChangeResourceRecordSets request (an UPSERT counts twice).
const (
	maxBatchRecords    = 1000
	maxBatchCharacters = 32000
)

const r53NS = "https://route53.amazonaws.com/doc/2013-04-01/"

// Route53 is the DNS service of a Server.
type Route53 struct {
	s    *Server
	opts Options

	mu      sync.Mutex
	next    int
	zones   map[string]*zone
	changes map[string]time.Time // change ID → submitted
}

type zone struct {
	id, name    string
	records     map[rrKey]*RecordSet
	lastChanged time.Time
}

type rrKey struct{ name, typ string }

// RecordSet is one resource record set, as the fake stores it.
type RecordSet struct {
	Name   string       `xml:"Name"`
	Type   string       `xml:"Type"`
	TTL    *int64       `xml:"TTL,omitempty"`
	Values []string     `xml:"ResourceRecords>ResourceRecord>Value,omitempty"`
	Alias  *AliasTarget `xml:"AliasTarget,omitempty"`
}

// AliasTarget is an ALIAS record's target.
type AliasTarget struct {
	HostedZoneID         string `xml:"HostedZoneId"`
	DNSName              string `xml:"DNSName"`
	EvaluateTargetHealth bool   `xml:"EvaluateTargetHealth"`
}

func newRoute53(s *Server, opts Options) *Route53 {
	return &Route53{s: s, opts: opts, zones: map[string]*zone{}, changes: map[string]time.Time{}}
}

// AddZone creates a hosted zone for domain and returns its ID.
func (r *Route53) AddZone(domain string) string {
	r.mu.Lock()
	r.next++
	id := fmt.Sprintf("Z%011dFAKE", r.next)
	r.mu.Unlock()
	r.AddZoneWithID(id, domain)
	return id
}

// AddZoneWithID creates a hosted zone with a given ID.
func (r *Route53) AddZoneWithID(id, domain string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.zones[id] = &zone{id: id, name: canonical(domain), records: map[rrKey]*RecordSet{}}
}

// Records returns a copy of a zone's record sets, sorted by name and type.
func (r *Route53) Records(zoneID string) []RecordSet {
	r.mu.Lock()
	defer r.mu.Unlock()
	z := r.zones[zoneID]
	if z == nil {
		return nil
	}
	return sortedRecords(z)
}

// Put writes a record set directly, as another tool in the account would.
func (r *Route53) Put(zoneID string, rs RecordSet) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rs.Name = canonical(rs.Name)
	r.zones[zoneID].records[rrKey{rs.Name, rs.Type}] = &rs
}

// Remove deletes a record set directly, as another tool in the account would.
func (r *Route53) Remove(zoneID, name, typ string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.zones[zoneID].records, rrKey{canonical(name), typ})
}

func (r *Route53) hasCNAME(name, value string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, z := range r.zones {
		if rs := z.records[rrKey{canonical(name), "CNAME"}]; rs != nil && len(rs.Values) == 1 && canonical(rs.Values[0]) == canonical(value) {
			return true
		}
	}
	return false
}

// amazonCAA are the CAA issuer domains that let ACM issue.
var amazonCAA = []string{"amazon.com", "amazontrust.com", "awstrust.com", "amazonaws.com"}

// caaAllowsAmazon reports whether the CAA records that apply to domain let Amazon issue a
// certificate for it, as RFC 8659 has a CA check them: the CAA record set of the closest name
// from the domain (without "*." for a wildcard) up to the root, in any hosted zone; none lets
// any CA issue. A wildcard is governed by "issuewild" properties when the set has any, else by
// "issue"; a set without either restricts nothing.
func (r *Route53) caaAllowsAmazon(domain string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	wild := strings.HasPrefix(domain, "*.")
	for name := canonical(strings.TrimPrefix(domain, "*.")); name != "."; {
		for _, z := range r.zones {
			rs := z.records[rrKey{name, "CAA"}]
			if rs == nil {
				continue
			}
			props := map[string][]string{}
			for _, v := range rs.Values {
				// flags tag "value", e.g. 0 issue "amazon.com; key=value"
				f := strings.SplitN(v, " ", 3)
				if len(f) == 3 {
					issuer := strings.TrimSpace(strings.SplitN(strings.Trim(f[2], `"`), ";", 2)[0])
					props[strings.ToLower(f[1])] = append(props[strings.ToLower(f[1])], strings.ToLower(issuer))
				}
			}
			issuers, ok := props["issue"]
			if wild && props["issuewild"] != nil {
				issuers, ok = props["issuewild"], true
			}
			if !ok {
				return true
			}
			for _, i := range issuers {
				if slices.Contains(amazonCAA, i) {
					return true
				}
			}
			return false
		}
		_, parent, _ := strings.Cut(name, ".")
		if parent == "" {
			parent = "."
		}
		name = parent
	}
	return true
}

func sortedRecords(z *zone) []RecordSet {
	out := make([]RecordSet, 0, len(z.records))
	for _, rs := range z.records {
		out = append(out, *rs)
	}
	sort.Slice(out, func(i, j int) bool { return recordLess(out[i].Name, out[i].Type, out[j].Name, out[j].Type) })
	return out
}

// recordLess orders records as Route53 lists them: by name with its labels reversed, then type.
func recordLess(n1, t1, n2, t2 string) bool {
	a, b := reverseLabels(n1), reverseLabels(n2)
	if a != b {
		return a < b
	}
	return t1 < t2
}

func reverseLabels(n string) string {
	l := strings.Split(strings.TrimSuffix(n, "."), ".")
	for i, j := 0, len(l)-1; i < j; i, j = i+1, j-1 {
		l[i], l[j] = l[j], l[i]
	}
	return strings.Join(l, ".")
}

// canonical lower-cases a DNS name, unescapes "\052" and adds the trailing dot.
func canonical(n string) string {
	n = strings.ToLower(strings.ReplaceAll(n, `\052`, "*"))
	if !strings.HasSuffix(n, ".") {
		n += "."
	}
	return n
}

type changeRequest struct {
	XMLName xml.Name `xml:"ChangeResourceRecordSetsRequest"`
	Changes []struct {
		Action string    `xml:"Action"`
		RRSet  RecordSet `xml:"ResourceRecordSet"`
	} `xml:"ChangeBatch>Changes>Change"`
}

type changeInfo struct {
	ID          string `xml:"Id"`
	Status      string `xml:"Status"`
	SubmittedAt string `xml:"SubmittedAt"`
}

func (r *Route53) serve(w http.ResponseWriter, req *http.Request) {
	parts := strings.Split(strings.TrimPrefix(req.URL.Path, "/2013-04-01/"), "/")
	var op string
	switch {
	case len(parts) == 3 && parts[0] == "hostedzone" && parts[2] == "rrset" && req.Method == http.MethodPost:
		op = "ChangeResourceRecordSets"
	case len(parts) == 3 && parts[0] == "hostedzone" && parts[2] == "rrset" && req.Method == http.MethodGet:
		op = "ListResourceRecordSets"
	case len(parts) == 2 && parts[0] == "change":
		op = "GetChange"
	default:
		xmlError(w, http.StatusBadRequest, "InvalidInput", "awsfake does not implement "+req.Method+" "+req.URL.Path)
		return
	}
	zone := ""
	if parts[0] == "hostedzone" {
		zone = parts[1]
	}
	if ref := r.s.admitScoped(req, "route53", op, zone); ref.code != "" {
		xmlError(w, ref.status, ref.code, ref.message)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch op {
	case "ChangeResourceRecordSets":
		r.change(w, req, parts[1])
	case "ListResourceRecordSets":
		r.list(w, req, parts[1])
	case "GetChange":
		submitted, ok := r.changes[parts[1]]
		if !ok {
			xmlError(w, http.StatusNotFound, "NoSuchChange", "A change with the specified change ID does not exist.")
			return
		}
		writeXML(w, struct {
			XMLName    xml.Name   `xml:"GetChangeResponse"`
			NS         string     `xml:"xmlns,attr"`
			ChangeInfo changeInfo `xml:"ChangeInfo"`
		}{NS: r53NS, ChangeInfo: r.info(parts[1], submitted)})
	}
}

func (r *Route53) info(id string, submitted time.Time) changeInfo {
	st := "INSYNC"
	if r.s.clock.Now().Sub(submitted) < r.opts.ChangePendingFor {
		st = "PENDING"
	}
	return changeInfo{ID: "/change/" + id, Status: st, SubmittedAt: submitted.UTC().Format(time.RFC3339)}
}

// change applies a batch atomically: every change is checked against the zone as the earlier
// changes of the batch left it, and nothing is applied unless all pass.
func (r *Route53) change(w http.ResponseWriter, req *http.Request, zoneID string) {
	z := r.zones[zoneID]
	if z == nil {
		xmlError(w, http.StatusNotFound, "NoSuchHostedZone", "No hosted zone found with ID: "+zoneID)
		return
	}
	var in changeRequest
	if err := xml.NewDecoder(req.Body).Decode(&in); err != nil {
		xmlError(w, http.StatusBadRequest, "InvalidInput", "malformed XML: "+err.Error())
		return
	}
	now := r.s.clock.Now()
	if r.opts.ChangePendingFor > 0 && now.Sub(z.lastChanged) < r.opts.ChangePendingFor {
		xmlError(w, http.StatusBadRequest, "PriorRequestNotComplete", "The request was rejected because Route 53 was still processing a prior request.")
		return
	}
	records, chars := 0, 0
	for _, c := range in.Changes {
		weight := 1
		if c.Action == "UPSERT" {
			weight = 2
		}
		n := len(c.RRSet.Values)
		if c.RRSet.Alias != nil {
			n = 1
		}
		records += weight * n
		for _, v := range c.RRSet.Values {
			chars += weight * len(v)
		}
	}
	if records > maxBatchRecords {
		invalidBatch(w, fmt.Sprintf("Number of records limit of %d exceeded.", maxBatchRecords))
		return
	}
	if chars > maxBatchCharacters {
		invalidBatch(w, fmt.Sprintf("Number of characters limit of %d exceeded.", maxBatchCharacters))
		return
	}
	next := make(map[rrKey]*RecordSet, len(z.records))
	for k, v := range z.records {
		next[k] = v
	}
	var msgs []string
	for _, c := range in.Changes {
		rs := c.RRSet
		rs.Name = canonical(rs.Name)
		key := rrKey{rs.Name, rs.Type}
		// Route53 names a record as "[name='a.example.com.', type='A']", trailing dot included.
		desc := fmt.Sprintf("[name='%s', type='%s']", rs.Name, rs.Type)
		if rs.Name != z.name && !strings.HasSuffix(rs.Name, "."+z.name) {
			msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", rs.Name, z.name))
			continue
		}
		if (rs.Alias == nil) == (len(rs.Values) == 0) || (rs.Alias == nil && rs.TTL == nil) {
			msgs = append(msgs, fmt.Sprintf("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords]], in RRSet %s", desc))
			continue
		}
		if a := rs.Alias; a != nil && c.Action != "DELETE" && r.opts.AliasTargetsMustExist && a.HostedZoneID == ALBZoneID && !r.s.ELB.hasDNSName(a.DNSName) {
			msgs = append(msgs, fmt.Sprintf("Tried to create an alias that targets %s, type %s in zone %s, but that target was not found",
				canonical(a.DNSName), rs.Type, a.HostedZoneID))
			continue
		}
		switch c.Action {
		case "CREATE":
			if next[key] != nil {
				msgs = append(msgs, fmt.Sprintf("Tried to create resource record set %s but it already exists", desc))
				continue
			}
		case "DELETE":
			cur := next[key]
			if cur == nil {
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set %s but it was not found", desc))
				continue
			}
			if !sameRecord(cur, &rs) {
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set %s but the values provided do not match the current values", desc))
				continue
			}
			delete(next, key)
			continue
		case "UPSERT":
		default:
			msgs = append(msgs, "Invalid action "+c.Action)
			continue
		}
		if cnameConflict(next, rs) {
			msgs = append(msgs, fmt.Sprintf("RRSet of type %s with DNS name %s is not permitted as it conflicts with other records with the same DNS name in zone %s", rs.Type, rs.Name, z.name))
			continue
		}
		stored := rs
		next[key] = &stored
	}
	if len(msgs) > 0 {
		invalidBatch(w, msgs...)
		return
	}
	z.records, z.lastChanged = next, now
	r.next++
	id := fmt.Sprintf("C%012d", r.next)
	r.changes[id] = now
	writeXML(w, struct {
		XMLName    xml.Name   `xml:"ChangeResourceRecordSetsResponse"`
		NS         string     `xml:"xmlns,attr"`
		ChangeInfo changeInfo `xml:"ChangeInfo"`
	}{NS: r53NS, ChangeInfo: r.info(id, now)})
}

// cnameConflict reports that rs cannot stand beside the records at its name: a CNAME beside any
// other record, or another record beside a CNAME. Route53's message names the type of rs.
func cnameConflict(records map[rrKey]*RecordSet, rs RecordSet) bool {
	for k := range records {
		if k.name == rs.Name && k.typ != rs.Type && (rs.Type == "CNAME" || k.typ == "CNAME") {
			return true
		}
	}
	return false
}

func sameRecord(a, b *RecordSet) bool {
	if (a.TTL == nil) != (b.TTL == nil) || (a.TTL != nil && *a.TTL != *b.TTL) {
		return false
	}
	if (a.Alias == nil) != (b.Alias == nil) {
		return false
	}
	if a.Alias != nil && (a.Alias.HostedZoneID != b.Alias.HostedZoneID || canonical(a.Alias.DNSName) != canonical(b.Alias.DNSName) ||
		a.Alias.EvaluateTargetHealth != b.Alias.EvaluateTargetHealth) {
		return false
	}
	if len(a.Values) != len(b.Values) {
		return false
	}
	x, y := append([]string(nil), a.Values...), append([]string(nil), b.Values...)
	sort.Strings(x)
	sort.Strings(y)
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

func (r *Route53) list(w http.ResponseWriter, req *http.Request, zoneID string) {
	z := r.zones[zoneID]
	if z == nil {
		xmlError(w, http.StatusNotFound, "NoSuchHostedZone", "No hosted zone found with ID: "+zoneID)
		return
	}
	q := req.URL.Query()
	max := 300
	if v, err := strconv.Atoi(q.Get("maxitems")); err == nil && v > 0 && v < max {
		max = v
	}
	all := sortedRecords(z)
	start := 0
	if n := q.Get("name"); n != "" {
		n = canonical(n)
		t := q.Get("type")
		start = sort.Search(len(all), func(i int) bool {
			return !recordLess(all[i].Name, all[i].Type, n, t)
		})
	}
	end := min(start+max, len(all))
	type out struct {
		XMLName        xml.Name     `xml:"ListResourceRecordSetsResponse"`
		NS             string       `xml:"xmlns,attr"`
		Records        []wireRecord `xml:"ResourceRecordSets>ResourceRecordSet"`
		IsTruncated    bool         `xml:"IsTruncated"`
		MaxItems       int          `xml:"MaxItems"`
		NextRecordName string       `xml:"NextRecordName,omitempty"`
		NextRecordType string       `xml:"NextRecordType,omitempty"`
	}
	o := out{NS: r53NS, MaxItems: max}
	for _, rs := range all[start:end] {
		o.Records = append(o.Records, toWire(rs))
	}
	if end < len(all) {
		o.IsTruncated, o.NextRecordName, o.NextRecordType = true, all[end].Name, all[end].Type
	}
	writeXML(w, o)
}

// wireRecord is a record set as Route53 lists it. encoding/xml writes the parents of an empty
// "a>b>c" slice anyway, which would give an ALIAS record an empty ResourceRecord, so the list
// has a type of its own, absent when empty. (The kumo cross-check caught this.)
type wireRecord struct {
	Name            string       `xml:"Name"`
	Type            string       `xml:"Type"`
	TTL             *int64       `xml:"TTL,omitempty"`
	ResourceRecords *wireValues  `xml:"ResourceRecords,omitempty"`
	Alias           *AliasTarget `xml:"AliasTarget,omitempty"`
}

// wireValues lists one ResourceRecord element per value, as Route53 does ("ResourceRecord>Value"
// on a slice would put every value into one ResourceRecord, which the SDK reads as one value).
type wireValues struct {
	Records []wireValue `xml:"ResourceRecord"`
}

type wireValue struct {
	Value string `xml:"Value"`
}

func toWire(rs RecordSet) wireRecord {
	w := wireRecord{Name: strings.ReplaceAll(rs.Name, "*", `\052`), Type: rs.Type, TTL: rs.TTL, Alias: rs.Alias}
	if len(rs.Values) > 0 {
		w.ResourceRecords = &wireValues{}
		for _, v := range rs.Values {
			w.ResourceRecords.Records = append(w.ResourceRecords.Records, wireValue{Value: v})
		}
	}
	return w
}

func writeXML(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(v)
}

func xmlError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		NS        string   `xml:"xmlns,attr"`
		Type      string   `xml:"Error>Type"`
		Code      string   `xml:"Error>Code"`
		Message   string   `xml:"Error>Message"`
		RequestID string   `xml:"RequestId"`
	}{NS: r53NS, Type: "Sender", Code: code, Message: msg, RequestID: "fake"})
}

func invalidBatch(w http.ResponseWriter, msgs ...string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusBadRequest)
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName   xml.Name `xml:"InvalidChangeBatch"`
		NS        string   `xml:"xmlns,attr"`
		Messages  []string `xml:"Messages>Message"`
		RequestID string   `xml:"RequestId"`
	}{NS: r53NS, Messages: msgs, RequestID: "fake"})
}
