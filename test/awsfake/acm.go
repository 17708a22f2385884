package awsfake

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// ACM's rules on RequestCertificate.
const (
	// idempotencyWindow is how long ACM honours a RequestCertificate idempotency token.
	idempotencyWindow = time.Hour
	// maxDomainName is the longest DomainName ACM accepts: the certificate's Common Name, which
	// RFC 5280 caps at 64 octets ("*." of a wildcard included). SANs may be longer.
	maxDomainName = 64
	// maxNamesPerCertificate is ACM's default quota of domain names per certificate, DomainName
	// included, and maxSubjectAlternativeName the longest subject alternative name.
	maxNamesPerCertificate    = 10
	maxSubjectAlternativeName = 253
	// DefaultCertificateQuota is ACM's default quota of certificates in an account and region.
	DefaultCertificateQuota = 2500
	// DefaultYearlyRequestQuota is ACM's default quota of certificates requested in 365 days
	// (deleted ones count too).
	DefaultYearlyRequestQuota = 5000
	year                      = 365 * 24 * time.Hour
	// validity is how long an Amazon-issued certificate is valid (395 days).
	validity = 395 * 24 * time.Hour
)

// ACM is the certificate manager of a Server.
type ACM struct {
	s    *Server
	opts Options

	mu     sync.Mutex
	next   int
	certs  map[string]*certificate
	tokens map[string]tokenUse
	held   map[string]bool
	// requests are the times of the RequestCertificate calls that made a certificate.
	requests    []time.Time
	maxCerts    int
	maxPerYear  int
	notFoundNew time.Duration
	byDomain    map[string]int // RequestCertificate calls by DomainName
	order       []string       // the DomainName of every RequestCertificate call, in order
}

// SetQuota sets the account's certificate quota and yearly request quota (zero: AWS's
// defaults). RequestCertificate past either answers LimitExceededException, as ACM does.
func (a *ACM) SetQuota(certificates, requestsPerYear int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.maxCerts, a.maxPerYear = certificates, requestsPerYear
}

// SetNotFoundAfterRequest sets Options.NotFoundAfterRequest.
func (a *ACM) SetNotFoundAfterRequest(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.notFoundNew = d
}

// Hold keeps certificates for a domain pending validation, whatever DNS says, until Release.
func (a *ACM) Hold(domain string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.held[domain] = true
}

// Release lets certificates for a domain be issued again.
func (a *ACM) Release(domain string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.held, domain)
}

// ForDomain returns the ARNs of the certificates for a domain, sorted.
func (a *ACM) ForDomain(domain string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for arn, c := range a.certs {
		if c.domain == domain {
			out = append(out, arn)
		}
	}
	sort.Strings(out)
	return out
}

// Requests returns how many RequestCertificate calls named a DomainName, refused ones included
// (those that fault injection answered before ACM read them excepted).
func (a *ACM) Requests(domain string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.byDomain[domain]
}

// RequestOrder returns the DomainName of every RequestCertificate call from the from-th on (0:
// all), in the order the calls arrived, counted like Requests.
func (a *ACM) RequestOrder(from int) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if from > len(a.order) {
		from = len(a.order)
	}
	return slices.Clone(a.order[from:])
}

// Domain returns a certificate's DomainName, or "" if it does not exist.
func (a *ACM) Domain(arn string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.certs[arn]; c != nil {
		return c.domain
	}
	return ""
}

// Tags returns a certificate's tags.
func (a *ACM) Tags(arn string) map[string]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]string{}
	if c := a.certs[arn]; c != nil {
		for k, v := range c.tags {
			out[k] = v
		}
	}
	return out
}

type tokenUse struct {
	arn string
	at  time.Time
}

type certificate struct {
	arn, domain string
	sans        []string
	status      string
	reason      string
	requested   time.Time
	validSince  time.Time
	issued      time.Time
	renewal     map[string]string // RenewalSummary, once a renewal began
	tags        map[string]string
	inUseBy     []string
}

func newACM(s *Server, opts Options) *ACM {
	return &ACM{s: s, opts: opts, certs: map[string]*certificate{}, tokens: map[string]tokenUse{}, held: map[string]bool{},
		notFoundNew: opts.NotFoundAfterRequest, byDomain: map[string]int{}}
}

// ValidationRecord returns the DNS validation CNAME ACM asks for a domain: the same record for
// the same domain (and for its wildcard) in one account.
func ValidationRecord(domain string) (name, value string) {
	base := strings.TrimPrefix(domain, "*.")
	h := sha256.Sum256([]byte("name:" + base))
	v := sha256.Sum256([]byte("value:" + base))
	return "_" + hex.EncodeToString(h[:16]) + "." + base + ".",
		"_" + hex.EncodeToString(v[:16]) + "." + hex.EncodeToString(v[16:21]) + ".acm-validations.aws."
}

// Fail puts a certificate into a failure state, as ACM does on a CAA failure ("FAILED",
// reason "CAA_ERROR") or after 72 hours without validation ("VALIDATION_TIMED_OUT").
func (a *ACM) Fail(arn, status, reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.certs[arn]; c != nil {
		c.status, c.reason = status, reason
	}
}

// SetRenewal records a managed renewal of an issued certificate, as ACM reports it in
// DescribeCertificate's RenewalSummary: status PENDING_AUTO_RENEWAL, PENDING_VALIDATION, SUCCESS
// or FAILED, with a reason for a failure (for example "CAA_ERROR").
func (a *ACM) SetRenewal(arn, status, reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.certs[arn]; c != nil {
		c.renewal = map[string]string{"RenewalStatus": status}
		if reason != "" {
			c.renewal["RenewalStatusReason"] = reason
		}
	}
}

// SetInUse marks a certificate as used by a load balancer (nothing clears it but SetInUse with
// nil), so DeleteCertificate fails with ResourceInUseException.
func (a *ACM) SetInUse(arn string, by []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.certs[arn]; c != nil {
		c.inUseBy = by
	}
}

// Certificates returns the ARNs of every certificate, sorted.
func (a *ACM) Certificates() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]string, 0, len(a.certs))
	for arn := range a.certs {
		out = append(out, arn)
	}
	sort.Strings(out)
	return out
}

// Status returns a certificate's status after applying validation, or "" if it does not exist.
func (a *ACM) Status(arn string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.certs[arn]
	if c == nil {
		return ""
	}
	a.refresh(c)
	return c.status
}

// refresh issues a pending certificate once its validation CNAME has been in a hosted zone for
// IssueDelay. Caller holds a.mu.
func (a *ACM) refresh(c *certificate) {
	if c.status != "PENDING_VALIDATION" || a.held[c.domain] {
		return
	}
	name, value := ValidationRecord(c.domain)
	if !a.s.Route53.hasCNAME(name, value) {
		c.validSince = time.Time{}
		return
	}
	now := a.s.clock.Now()
	if c.validSince.IsZero() {
		c.validSince = now
	}
	if now.Sub(c.validSince) < a.opts.IssueDelay {
		return
	}
	// Validated: ACM checks CAA before it issues (RFC 8659), and a CAA record set that does not
	// let Amazon issue fails the certificate for good; a new request is needed once it is fixed.
	if !a.s.Route53.caaAllowsAmazon(c.domain) {
		c.status, c.reason = "FAILED", "CAA_ERROR"
		return
	}
	c.status, c.issued = "ISSUED", now
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value,omitempty"`
}

func (a *ACM) serve(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "CertificateManager.")
	// The body is read first so that refused calls are counted for what they name (CallsFor).
	var in map[string]json.RawMessage
	decodeErr := json.NewDecoder(r.Body).Decode(&in)
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(in[k], &s)
		return s
	}
	if ref := a.s.admitScoped(r, "acm", op, cmp.Or(str("DomainName"), str("CertificateArn"))); ref.code != "" {
		jsonError(w, ref.status, ref.code, ref.message)
		return
	}
	if decodeErr != nil {
		jsonError(w, http.StatusBadRequest, "ValidationException", "malformed JSON: "+decodeErr.Error())
		return
	}
	// Load balancers that use the certificate, read before ACM's lock: ELB takes its own lock
	// first and ACM's second, never the other way round.
	elbUsers := a.s.ELB.usesCertificate(str("CertificateArn"))
	a.mu.Lock()
	defer a.mu.Unlock()
	var out any
	var errCode, errMsg string
	switch op {
	case "RequestCertificate":
		out, errCode, errMsg = a.request(str("DomainName"), str("IdempotencyToken"), in)
	case "DescribeCertificate":
		out, errCode, errMsg = a.describe(str("CertificateArn"), elbUsers)
	case "DeleteCertificate":
		errCode, errMsg = a.delete(str("CertificateArn"), elbUsers)
		out = map[string]any{}
	case "ListCertificates":
		out, errCode, errMsg = a.list(in)
	case "ListTagsForCertificate":
		c := a.byARN(str("CertificateArn"))
		if c == nil {
			errCode, errMsg = "ResourceNotFoundException", "Could not find certificate "+str("CertificateArn")
			break
		}
		out = map[string]any{"Tags": tagList(c.tags)}
	case "AddTagsToCertificate":
		c := a.byARN(str("CertificateArn"))
		if c == nil {
			errCode, errMsg = "ResourceNotFoundException", "Could not find certificate "+str("CertificateArn")
			break
		}
		var tags []tag
		_ = json.Unmarshal(in["Tags"], &tags)
		for _, t := range tags {
			c.tags[t.Key] = t.Value
		}
		out = map[string]any{}
	default:
		errCode, errMsg = "UnknownOperationException", "awsfake does not implement "+op
	}
	if errCode != "" {
		jsonError(w, http.StatusBadRequest, errCode, errMsg)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func (a *ACM) request(domain, token string, in map[string]json.RawMessage) (any, string, string) {
	var method string
	_ = json.Unmarshal(in["ValidationMethod"], &method)
	a.byDomain[domain]++
	a.order = append(a.order, domain)
	if domain == "" || method != "DNS" {
		return nil, "ValidationException", "DomainName and ValidationMethod DNS are required"
	}
	if len(domain) > maxDomainName {
		return nil, "ValidationException", fmt.Sprintf("The first domain name can be no longer than %d characters.", maxDomainName)
	}
	var sans []string
	_ = json.Unmarshal(in["SubjectAlternativeNames"], &sans)
	names := map[string]bool{domain: true}
	for _, n := range sans {
		names[n] = true
	}
	if len(names) > maxNamesPerCertificate {
		// Above the default quota of domain names per certificate (the DomainName among them).
		return nil, "LimitExceededException", fmt.Sprintf("The certificate can contain at most %d domain names.", maxNamesPerCertificate)
	}
	for _, n := range sans {
		if n == "" || len(n) > maxSubjectAlternativeName {
			return nil, "ValidationException", fmt.Sprintf("Each subject alternative name must be 1 to %d characters long.", maxSubjectAlternativeName)
		}
	}
	now := a.s.clock.Now()
	if token != "" {
		if u, ok := a.tokens[token+"|"+domain]; ok && now.Sub(u.at) < idempotencyWindow {
			if _, exists := a.certs[u.arn]; exists {
				return map[string]string{"CertificateArn": u.arn}, "", ""
			}
		}
	}
	if code, msg := a.overQuota(now); code != "" {
		return nil, code, msg
	}
	a.requests = append(a.requests, now)
	a.next++
	c := &certificate{
		arn:       fmt.Sprintf("arn:aws:acm:us-east-1:123456789012:certificate/%08x-0000-4000-8000-%012x", a.next, a.next),
		domain:    domain,
		status:    "PENDING_VALIDATION",
		requested: now,
		tags:      map[string]string{},
	}
	c.sans = sans
	var tags []tag
	_ = json.Unmarshal(in["Tags"], &tags)
	for _, t := range tags {
		c.tags[t.Key] = t.Value
	}
	a.certs[c.arn] = c
	if token != "" {
		a.tokens[token+"|"+domain] = tokenUse{arn: c.arn, at: now}
	}
	return map[string]string{"CertificateArn": c.arn}, "", ""
}

// byARN returns a certificate as the calls that name its ARN see it: not at all during the
// NotFoundAfterRequest window after its request (ACM is eventually consistent). Caller holds a.mu.
func (a *ACM) byARN(arn string) *certificate {
	c := a.certs[arn]
	if c != nil && a.s.clock.Now().Sub(c.requested) < a.notFoundNew {
		return nil
	}
	return c
}

// overQuota answers a request that would pass the account's quotas as ACM does. Caller holds a.mu.
func (a *ACM) overQuota(now time.Time) (string, string) {
	maxCerts, maxPerYear := a.maxCerts, a.maxPerYear
	if maxCerts == 0 {
		maxCerts = DefaultCertificateQuota
	}
	if maxPerYear == 0 {
		maxPerYear = DefaultYearlyRequestQuota
	}
	for len(a.requests) > 0 && now.Sub(a.requests[0]) >= year {
		a.requests = a.requests[1:]
	}
	if len(a.requests) >= maxPerYear {
		return "LimitExceededException", fmt.Sprintf("Error: you have reached your limit of %d certificates in the last year.", maxPerYear)
	}
	if len(a.certs) >= maxCerts {
		return "LimitExceededException", "Cannot request more certificates in this account. Contact Customer Service for details."
	}
	return "", ""
}

func (a *ACM) describe(arn string, elbUsers []string) (any, string, string) {
	c := a.byARN(arn)
	if c == nil {
		return nil, "ResourceNotFoundException", "Could not find certificate " + arn
	}
	a.refresh(c)
	dvo := map[string]any{
		"DomainName": c.domain, "ValidationDomain": c.domain, "ValidationMethod": "DNS",
		"ValidationStatus": map[string]string{"ISSUED": "SUCCESS", "PENDING_VALIDATION": "PENDING_VALIDATION"}[c.status],
	}
	if dvo["ValidationStatus"] == "" {
		dvo["ValidationStatus"] = "FAILED"
	}
	if a.s.clock.Now().Sub(c.requested) >= a.opts.ValidationRecordDelay {
		name, value := ValidationRecord(c.domain)
		dvo["ResourceRecord"] = map[string]string{"Name": name, "Type": "CNAME", "Value": value}
	}
	cert := map[string]any{
		"CertificateArn": c.arn, "DomainName": c.domain, "Status": c.status, "Type": "AMAZON_ISSUED",
		"SubjectAlternativeNames": append([]string{c.domain}, c.sans...), "DomainValidationOptions": []any{dvo},
		"InUseBy": append(append([]string{}, c.inUseBy...), elbUsers...), "CreatedAt": float64(c.requested.Unix()),
	}
	if c.reason != "" {
		cert["FailureReason"] = c.reason
	}
	if c.status == "ISSUED" {
		// ACM renews only certificates associated with an AWS service, such as a load balancer.
		cert["NotBefore"], cert["NotAfter"] = float64(c.issued.Unix()), float64(c.issued.Add(validity).Unix())
		cert["RenewalEligibility"] = "INELIGIBLE"
		if len(cert["InUseBy"].([]string)) > 0 {
			cert["RenewalEligibility"] = "ELIGIBLE"
		}
		if c.renewal != nil {
			cert["RenewalSummary"] = c.renewal
		}
	}
	return map[string]any{"Certificate": cert}, "", ""
}

func (a *ACM) delete(arn string, elbUsers []string) (string, string) {
	c := a.byARN(arn)
	if c == nil {
		return "ResourceNotFoundException", "Could not find certificate " + arn
	}
	users := append(append([]string(nil), c.inUseBy...), elbUsers...)
	if len(users) > 0 {
		return "ResourceInUseException", fmt.Sprintf("Certificate %s is in use by %s", arn, strings.Join(users, ", "))
	}
	delete(a.certs, arn)
	return "", ""
}

func (a *ACM) list(in map[string]json.RawMessage) (any, string, string) {
	var statuses []string
	var token string
	var max int
	_ = json.Unmarshal(in["CertificateStatuses"], &statuses)
	_ = json.Unmarshal(in["NextToken"], &token)
	_ = json.Unmarshal(in["MaxItems"], &max)
	if max <= 0 || max > 1000 {
		max = 1000
	}
	arns := make([]string, 0, len(a.certs))
	for arn, c := range a.certs {
		a.refresh(c)
		if len(statuses) == 0 || contains(statuses, c.status) {
			arns = append(arns, arn)
		}
	}
	sort.Strings(arns)
	start := sort.SearchStrings(arns, token)
	if token != "" && (start >= len(arns) || arns[start] != token) {
		return nil, "InvalidArgsException", "invalid NextToken"
	}
	end := min(start+max, len(arns))
	summaries := make([]map[string]string, 0, end-start)
	for _, arn := range arns[start:end] {
		c := a.certs[arn]
		summaries = append(summaries, map[string]string{"CertificateArn": arn, "DomainName": c.domain, "Status": c.status})
	}
	out := map[string]any{"CertificateSummaryList": summaries}
	if end < len(arns) {
		out["NextToken"] = arns[end]
	}
	return out, "", ""
}

func tagList(m map[string]string) []tag {
	out := make([]tag, 0, len(m))
	for k, v := range m {
		out = append(out, tag{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
