// Package awsfake is an AWS-compatible server for tests: ACM (JSON 1.1), Route53 (REST-XML) and
// Elastic Load Balancing v2 (Query)
// on an httptest server that the real aws-sdk-go-v2 clients reach through their endpoint
// override. It writes down, once, the AWS rules the orchestrator depends on (idempotency tokens,
// validation records, atomic record batches and their errors, paging) and lets tests throttle
// or fail any operation. Each Server has its own state.
package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Clock is the server's time source; tests move it to expire idempotency tokens.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Fault makes an operation fail or slow down.
type Fault struct {
	// Code is the AWS error code to return; empty means no error. The service's IAM denial code
	// (AccessDeniedException for ACM, AccessDenied for the others) without a Status is answered
	// as Deny is.
	Code string
	// Status is the HTTP status of the error (400 when zero).
	Status int
	// Latency is added before the operation answers.
	Latency time.Duration
	// Times limits how often the fault fires; zero means always.
	Times int
	// Every fires the fault on every Every-th request only (2: half of them); zero means each.
	Every int
	// Deny answers as AWS does when IAM denies the caller the operation (Code and Status are
	// then ignored): ACM's AccessDeniedException with HTTP 400 in its JSON protocol, and
	// AccessDenied with HTTP 403 from Route53 (REST-XML), Elastic Load Balancing and STS (Query),
	// each with IAM's "is not authorized to perform" message naming the caller.
	Deny bool

	seen int
}

// Server is one AWS account and region.
type Server struct {
	URL string

	ACM     *ACM
	Route53 *Route53
	ELB     *ELB

	srv   *httptest.Server
	clock Clock

	mu       sync.Mutex
	calls    map[string]int // "service:operation" → requests, throttled ones included
	scoped   map[string]int // "service:operation scope" → requests (see CallsFor)
	limits   map[string]*rate.Limiter
	faults   map[string]*Fault
	throttle map[string]int // requests answered with a throttling error
}

// Options configure a Server.
type Options struct {
	Clock Clock
	// ValidationRecordDelay is how long after RequestCertificate DescribeCertificate shows no
	// validation record yet, as ACM does for its first moments.
	ValidationRecordDelay time.Duration
	// IssueDelay is how long after its validation CNAME appears a certificate becomes ISSUED.
	IssueDelay time.Duration
	// ChangePendingFor is how long a Route53 change stays PENDING before INSYNC.
	ChangePendingFor time.Duration
	// NotFoundAfterRequest is how long after RequestCertificate the calls that name the new
	// certificate's ARN (DescribeCertificate, DeleteCertificate, the tag calls) answer
	// ResourceNotFoundException: ACM is eventually consistent for a few seconds.
	NotFoundAfterRequest time.Duration
	// AliasTargetsMustExist makes Route53 refuse, as it does, an ALIAS record whose target is in
	// the application load balancers' canonical zone (ALBZoneID) but is the DNS name of no load
	// balancer of this server ("... but that target was not found"). Off by default, because
	// many tests point ALIAS records at load balancers they never create.
	AliasTargetsMustExist bool
}

// New starts a server on a loopback port. Close it when done.
func New(opts Options) *Server {
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	s := &Server{clock: opts.Clock, calls: map[string]int{}, scoped: map[string]int{}, limits: map[string]*rate.Limiter{},
		faults: map[string]*Fault{}, throttle: map[string]int{}}
	s.Route53 = newRoute53(s, opts)
	s.ACM = newACM(s, opts)
	s.ELB = newELB(s)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Calls returns how many requests an operation ("acm:RequestCertificate",
// "route53:ChangeResourceRecordSets") received, throttled ones included.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// CallsFor returns how many requests of an operation named scope, refused ones included: for
// ACM the DomainName of RequestCertificate (or the CertificateArn the call names), for Route53
// the hosted zone ID of its record calls. It tells one claim's calls from those of every other
// claim the server answers at the same time.
func (s *Server) CallsFor(op, scope string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scoped[op+" "+scope]
}

// AllCalls returns every operation's request count.
func (s *Server) AllCalls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// Throttled returns how many requests of an operation were answered with a throttling error.
func (s *Server) Throttled(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttle[op]
}

// SetRate limits an operation (or "acm:*", "route53:*") to perPerSecond requests a second with
// the given burst, answering the excess with AWS's throttling error, as AWS does.
func (s *Server) SetRate(op string, perSecond float64, burst int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits[op] = rate.NewLimiter(rate.Limit(perSecond), burst)
}

// SetFault makes an operation (or "acm:*", "route53:*") fail or slow down; nil clears it.
func (s *Server) SetFault(op string, f *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == nil {
		delete(s.faults, op)
		return
	}
	s.faults[op] = f
}

// refusal is the error a request is answered with instead of its result.
type refusal struct {
	code, message string
	status        int
	denied        bool // by IAM: the message names the caller and the action
}

// admit counts a request and applies limits and faults: it waits out any injected latency and
// returns the error to answer with, if any (an empty code means none).
func (s *Server) admit(r *http.Request, service, op string) refusal {
	return s.admitScoped(r, service, op, "")
}

// admitScoped is admit for a request that names scope (see CallsFor).
func (s *Server) admitScoped(r *http.Request, service, op, scope string) refusal {
	ref, latency := s.decide(service, op, scope)
	if latency > 0 {
		time.Sleep(latency)
	}
	switch {
	case ref.denied:
		ref.message = fmt.Sprintf("User: arn:aws:iam::%s:user/%s is not authorized to perform: %s:%s because no identity-based policy allows the %s:%s action",
			Account, caller(r), service, op, service, op)
	case ref.code != "":
		ref.message = "injected: " + ref.code
	}
	return ref
}

// caller is the access key ID that signed r, the name IAM's messages give the caller.
func caller(r *http.Request) string {
	if m := sigV4Credential.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	return "anonymous"
}

func (s *Server) decide(service, op, scope string) (ref refusal, latency time.Duration) {
	key := service + ":" + op
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[key]++
	if scope != "" {
		s.scoped[key+" "+scope]++
	}
	for _, k := range []string{key, service + ":*"} {
		if f := s.faults[k]; f != nil {
			latency += f.Latency
			f.seen++
			if (f.Code != "" || f.Deny) && (f.Every <= 1 || f.seen%f.Every == 0) {
				if f.Times > 0 {
					f.Times--
					if f.Times == 0 {
						delete(s.faults, k)
					}
				}
				if d := denial(service); f.Deny || (f.Code == d.code && f.Status == 0) {
					return d, latency // IAM's code for the service: as IAM answers it
				}
				st := f.Status
				if st == 0 {
					st = http.StatusBadRequest
				}
				if f.Code == "ThrottlingException" || f.Code == "Throttling" {
					s.throttle[key]++
				}
				return refusal{code: f.Code, status: st}, latency
			}
		}
	}
	for _, k := range []string{key, service + ":*"} {
		if l := s.limits[k]; l != nil && !l.Allow() {
			s.throttle[key]++
			if service == "acm" {
				return refusal{code: "ThrottlingException", status: http.StatusBadRequest}, latency
			}
			return refusal{code: "Throttling", status: http.StatusBadRequest}, latency
		}
	}
	return refusal{}, latency
}

// denial is how a service answers a call IAM does not allow: ACM, a JSON-protocol service,
// with its modelled AccessDeniedException and HTTP 400; Route53 and the Query services with
// AccessDenied and HTTP 403.
func denial(service string) refusal {
	if service == "acm" {
		return refusal{code: "AccessDeniedException", status: http.StatusBadRequest, denied: true}
	}
	return refusal{code: "AccessDenied", status: http.StatusForbidden, denied: true}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "CertificateManager."):
		s.ACM.serve(w, r)
	case strings.HasPrefix(r.URL.Path, "/2013-04-01/"):
		s.Route53.serve(w, r)
	case r.Method == http.MethodPost && r.FormValue("Action") == "GetCallerIdentity":
		s.serveSTS(w, r)
	case r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		s.ELB.serve(w, r)
	default:
		http.Error(w, fmt.Sprintf("awsfake: no service for %s %s", r.Method, r.URL.Path), http.StatusNotFound)
	}
}

// jsonError answers an AWS JSON-protocol request with an error.
func jsonError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}
