package awsfake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	elbNS = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
	// ALBZoneID is the canonical hosted zone ID of application load balancers in us-east-1,
	// which ALIAS records to them name.
	ALBZoneID = "Z35SXDOTRQ7X7K"
)

// ELB is the Elastic Load Balancing (v2) service of a Server: load balancers, listeners, their
// certificates and tags.
type ELB struct {
	s *Server

	mu        sync.Mutex
	lbs       map[string]*LoadBalancer // by ARN
	listeners map[string]*Listener     // by ARN
	tags      map[string]map[string]string
}

// LoadBalancer is one ALB.
type LoadBalancer struct {
	ARN, Name, DNSName, Scheme, IPAddressType, Type string
	Created                                         time.Time
}

// Listener is one listener of an ALB; Certificates[0] is its default certificate.
type Listener struct {
	ARN, LoadBalancerARN, Protocol, SSLPolicy string
	Port                                      int
	Certificates                              []string
}

func newELB(s *Server) *ELB {
	return &ELB{s: s, lbs: map[string]*LoadBalancer{}, listeners: map[string]*Listener{}, tags: map[string]map[string]string{}}
}

// LoadBalancers returns a copy of every load balancer, sorted by name.
func (e *ELB) LoadBalancers() []LoadBalancer {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []LoadBalancer
	for _, lb := range e.lbs {
		out = append(out, *lb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// hasDNSName reports whether a load balancer answers to name ("dualstack." prefixed or not, as
// ALIAS records to ALBs name them).
func (e *ELB) hasDNSName(name string) bool {
	name = strings.TrimPrefix(canonical(name), "dualstack.")
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, lb := range e.lbs {
		if canonical(lb.DNSName) == name {
			return true
		}
	}
	return false
}

// Listeners returns a copy of a load balancer's listeners, sorted by port.
func (e *ELB) Listeners(lbARN string) []Listener {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Listener
	for _, l := range e.listeners {
		if l.LoadBalancerARN == lbARN {
			c := *l
			c.Certificates = append([]string(nil), l.Certificates...)
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Port < out[j].Port })
	return out
}

// usesCertificate lists the load balancers whose listeners carry a certificate.
func (e *ELB) usesCertificate(arn string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, l := range e.listeners {
		for _, c := range l.Certificates {
			if c == arn {
				out = append(out, l.LoadBalancerARN)
			}
		}
	}
	sort.Strings(out)
	return out
}

func shortHash(s string, n int) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])[:n]
}

// members reads a Query-protocol list: prefix.member.1, prefix.member.2, …
func members(f url.Values, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := f[fmt.Sprintf("%s.member.%d", prefix, i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

func memberFields(f url.Values, prefix, field string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := f[fmt.Sprintf("%s.member.%d.%s", prefix, i, field)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

func (e *ELB) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		elbError(w, http.StatusBadRequest, "InvalidParameterValue", err.Error())
		return
	}
	f := r.PostForm
	op := f.Get("Action")
	if ref := e.s.admit(r, "elasticloadbalancing", op); ref.code != "" {
		elbError(w, ref.status, ref.code, ref.message)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var body string
	var errCode, errMsg string
	switch op {
	case "CreateLoadBalancer":
		body, errCode, errMsg = e.createLB(f)
	case "DescribeLoadBalancers":
		body, errCode, errMsg = e.describeLBs(f)
	case "DeleteLoadBalancer":
		arn := f.Get("LoadBalancerArn")
		delete(e.lbs, arn)
		for la, l := range e.listeners {
			if l.LoadBalancerARN == arn {
				delete(e.listeners, la)
			}
		}
	case "CreateListener":
		body, errCode, errMsg = e.createListener(f)
	case "DescribeListeners":
		var ls []*Listener
		for _, l := range e.listeners {
			if l.LoadBalancerARN == f.Get("LoadBalancerArn") || contains(members(f, "ListenerArns"), l.ARN) {
				ls = append(ls, l)
			}
		}
		sort.Slice(ls, func(i, j int) bool { return ls[i].Port < ls[j].Port })
		body = "<Listeners>" + listenersXML(ls) + "</Listeners>"
	case "DeleteListener":
		delete(e.listeners, f.Get("ListenerArn"))
	case "ModifyListener":
		l := e.listeners[f.Get("ListenerArn")]
		if l == nil {
			errCode, errMsg = "ListenerNotFound", "One or more listeners not found"
			break
		}
		if certs := memberFields(f, "Certificates", "CertificateArn"); len(certs) > 0 {
			if errCode, errMsg = e.checkCertificates(certs); errCode != "" {
				break
			}
			l.Certificates = append([]string{certs[0]}, without(l.Certificates[min(1, len(l.Certificates)):], certs[0])...)
		}
		body = "<Listeners>" + listenersXML([]*Listener{l}) + "</Listeners>"
	case "AddListenerCertificates", "RemoveListenerCertificates":
		l := e.listeners[f.Get("ListenerArn")]
		if l == nil {
			errCode, errMsg = "ListenerNotFound", "One or more listeners not found"
			break
		}
		certs := memberFields(f, "Certificates", "CertificateArn")
		if op == "AddListenerCertificates" {
			if errCode, errMsg = e.checkCertificates(certs); errCode != "" {
				break
			}
			for _, c := range certs {
				if !contains(l.Certificates, c) {
					l.Certificates = append(l.Certificates, c)
				}
			}
			body = "<Certificates>" + certificatesXML(certs, "") + "</Certificates>"
		} else {
			for _, c := range certs {
				if len(l.Certificates) > 0 && l.Certificates[0] == c {
					errCode, errMsg = "OperationNotPermitted", "The default certificate cannot be removed from a listener"
					break
				}
				l.Certificates = without(l.Certificates, c)
			}
		}
	case "DescribeListenerCertificates":
		l := e.listeners[f.Get("ListenerArn")]
		if l == nil {
			errCode, errMsg = "ListenerNotFound", "One or more listeners not found"
			break
		}
		def := ""
		if len(l.Certificates) > 0 {
			def = l.Certificates[0]
		}
		body = "<Certificates>" + certificatesXML(l.Certificates, def) + "</Certificates>"
	case "DescribeTags":
		var b strings.Builder
		b.WriteString("<TagDescriptions>")
		for _, arn := range members(f, "ResourceArns") {
			fmt.Fprintf(&b, "<member><ResourceArn>%s</ResourceArn><Tags>%s</Tags></member>", esc(arn), tagsXML(e.tags[arn]))
		}
		b.WriteString("</TagDescriptions>")
		body = b.String()
	case "AddTags":
		for _, arn := range members(f, "ResourceArns") {
			e.addTags(arn, f)
		}
	default:
		errCode, errMsg = "InvalidAction", "awsfake does not implement "+op
	}
	if errCode != "" {
		elbError(w, http.StatusBadRequest, errCode, errMsg)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse xmlns="%s"><%sResult>%s</%sResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></%sResponse>`,
		op, elbNS, op, body, op, op)
}

func (e *ELB) createLB(f url.Values) (string, string, string) {
	name := f.Get("Name")
	if name == "" || len(name) > 32 {
		return "", "ValidationError", "a load balancer name of 1 to 32 characters is required"
	}
	scheme := f.Get("Scheme")
	if scheme == "" {
		scheme = "internet-facing"
	}
	ipType := f.Get("IpAddressType")
	if ipType == "" {
		ipType = "ipv4"
	}
	typ := f.Get("Type")
	if typ == "" {
		typ = "application"
	}
	// Like ELB, a create is idempotent: the same name with the same settings returns the existing
	// load balancer (whoever made it), other settings are refused.
	for _, lb := range e.lbs {
		if lb.Name != name {
			continue
		}
		if lb.Scheme != scheme || lb.IPAddressType != ipType || lb.Type != typ {
			return "", "DuplicateLoadBalancerName", "A load balancer with the same name '" + name + "' exists, but with different settings"
		}
		return "<LoadBalancers>" + lbXML(lb) + "</LoadBalancers>", "", ""
	}
	id := shortHash(name+e.s.clock.Now().String(), 16)
	dns := fmt.Sprintf("%s-%s.us-east-1.elb.amazonaws.com", name, shortHash(id, 10))
	if scheme == "internal" {
		dns = "internal-" + dns
	}
	lb := &LoadBalancer{ARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/" + name + "/" + id,
		Name: name, DNSName: dns, Scheme: scheme, IPAddressType: ipType, Type: typ, Created: e.s.clock.Now()}
	e.lbs[lb.ARN] = lb
	e.addTags(lb.ARN, f)
	return "<LoadBalancers>" + lbXML(lb) + "</LoadBalancers>", "", ""
}

// addTags merges the request's Tags.member.N.Key/Value into a resource's tags. Caller holds e.mu.
func (e *ELB) addTags(arn string, f url.Values) {
	if e.tags[arn] == nil {
		e.tags[arn] = map[string]string{}
	}
	keys, values := memberFields(f, "Tags", "Key"), memberFields(f, "Tags", "Value")
	for i, k := range keys {
		if i < len(values) {
			e.tags[arn][k] = values[i]
		}
	}
}

func (e *ELB) describeLBs(f url.Values) (string, string, string) {
	arns, names := members(f, "LoadBalancerArns"), members(f, "Names")
	var found []*LoadBalancer
	for _, lb := range e.lbs {
		if (len(arns) == 0 && len(names) == 0) || contains(arns, lb.ARN) || contains(names, lb.Name) {
			found = append(found, lb)
		}
	}
	if (len(arns) > 0 || len(names) > 0) && len(found) < len(arns)+len(names) {
		return "", "LoadBalancerNotFound", "One or more load balancers not found"
	}
	sort.Slice(found, func(i, j int) bool { return found[i].ARN < found[j].ARN })
	start := 0
	if m := f.Get("Marker"); m != "" {
		start = sort.Search(len(found), func(i int) bool { return found[i].ARN >= m })
	}
	size := 400
	if p, err := strconv.Atoi(f.Get("PageSize")); err == nil && p > 0 {
		size = p
	}
	end := min(start+size, len(found))
	var b strings.Builder
	b.WriteString("<LoadBalancers>")
	for _, lb := range found[start:end] {
		b.WriteString(lbXML(lb))
	}
	b.WriteString("</LoadBalancers>")
	if end < len(found) {
		fmt.Fprintf(&b, "<NextMarker>%s</NextMarker>", esc(found[end].ARN))
	}
	return b.String(), "", ""
}

func (e *ELB) createListener(f url.Values) (string, string, string) {
	lb := e.lbs[f.Get("LoadBalancerArn")]
	if lb == nil {
		return "", "LoadBalancerNotFound", "One or more load balancers not found"
	}
	port, _ := strconv.Atoi(f.Get("Port"))
	proto := f.Get("Protocol")
	for _, l := range e.listeners {
		if l.LoadBalancerARN == lb.ARN && l.Port == port {
			return "", "DuplicateListener", "A listener already exists on this port for this load balancer"
		}
	}
	certs := memberFields(f, "Certificates", "CertificateArn")
	if proto == "HTTPS" && len(certs) == 0 {
		return "", "CertificateNotFound", "A certificate must be specified for HTTPS listeners"
	}
	if code, msg := e.checkCertificates(certs); code != "" {
		return "", code, msg
	}
	l := &Listener{ARN: strings.Replace(lb.ARN, ":loadbalancer/", ":listener/", 1) + "/" + shortHash(lb.ARN+strconv.Itoa(port), 16),
		LoadBalancerARN: lb.ARN, Protocol: proto, Port: port, SSLPolicy: f.Get("SslPolicy"), Certificates: certs}
	e.listeners[l.ARN] = l
	return "<Listeners>" + listenersXML([]*Listener{l}) + "</Listeners>", "", ""
}

// checkCertificates requires every certificate to exist in the account's ACM. Caller holds
// e.mu; ACM's lock is taken after it (ACM never calls ELB while holding its own).
func (e *ELB) checkCertificates(arns []string) (string, string) {
	for _, a := range arns {
		if e.s.ACM.Status(a) == "" {
			return "CertificateNotFound", "Certificate '" + a + "' not found"
		}
	}
	return "", ""
}

func lbXML(lb *LoadBalancer) string {
	return fmt.Sprintf("<member><LoadBalancerArn>%s</LoadBalancerArn><DNSName>%s</DNSName><CanonicalHostedZoneId>%s</CanonicalHostedZoneId>"+
		"<CreatedTime>%s</CreatedTime><LoadBalancerName>%s</LoadBalancerName><Scheme>%s</Scheme><State><Code>active</Code></State>"+
		"<Type>%s</Type><IpAddressType>%s</IpAddressType></member>",
		esc(lb.ARN), esc(lb.DNSName), ALBZoneID, lb.Created.UTC().Format(time.RFC3339), esc(lb.Name), esc(lb.Scheme), esc(lb.Type), esc(lb.IPAddressType))
}

func listenersXML(ls []*Listener) string {
	var b strings.Builder
	for _, l := range ls {
		fmt.Fprintf(&b, "<member><ListenerArn>%s</ListenerArn><LoadBalancerArn>%s</LoadBalancerArn><Port>%d</Port><Protocol>%s</Protocol>",
			esc(l.ARN), esc(l.LoadBalancerARN), l.Port, esc(l.Protocol))
		if len(l.Certificates) > 0 {
			fmt.Fprintf(&b, "<Certificates><member><CertificateArn>%s</CertificateArn></member></Certificates>", esc(l.Certificates[0]))
		}
		if l.SSLPolicy != "" {
			fmt.Fprintf(&b, "<SslPolicy>%s</SslPolicy>", esc(l.SSLPolicy))
		}
		b.WriteString("</member>")
	}
	return b.String()
}

func certificatesXML(arns []string, def string) string {
	var b strings.Builder
	for _, a := range arns {
		fmt.Fprintf(&b, "<member><CertificateArn>%s</CertificateArn><IsDefault>%t</IsDefault></member>", esc(a), a == def)
	}
	return b.String()
}

func tagsXML(m map[string]string) string {
	var b strings.Builder
	for _, t := range tagList(m) {
		fmt.Fprintf(&b, "<member><Key>%s</Key><Value>%s</Value></member>", esc(t.Key), esc(t.Value))
	}
	return b.String()
}

func without(list []string, s string) []string {
	out := make([]string, 0, len(list))
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func elbError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fake</RequestId></ErrorResponse>`,
		elbNS, esc(code), esc(msg))
}
