// Package backoff spaces out the AWS calls of one object after errors a quick retry cannot fix:
// a missing IAM permission, a request AWS rejects as invalid, a used-up quota, or throttling that
// outlasted the SDK's own retries. Without it every event about a claim (another reconciler's
// status write, a route edit) would send the same failing call again.
//
// A Tracker keeps, per key (a claim's UID), the run of failures: the first retry waits
// Policy.Base, each further failure doubles the wait up to Policy.Max. The run ends on a success
// or when the object's generation changes (a spec change may have fixed the cause). Fail says
// when a run begins or its reason changes: the moment to log and to record an Event, once per
// state change rather than once per retry.
package backoff

import (
	"errors"
	"fmt"
	"sync"
	"time"

	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/opendi/gateway-orchestrator/internal/awsclient"
)

// Policy is how long the retries of one key wait.
type Policy struct {
	// Base is the wait after the first failure; each further failure doubles it.
	Base time.Duration
	// Max caps the wait.
	Max time.Duration
}

// Default waits 10 s after the first failure and at most 10 minutes: five calls in the first
// five minutes, then six an hour, for a claim that keeps failing.
var Default = Policy{Base: 10 * time.Second, Max: 10 * time.Minute}

// Or is p, with Default's values where p has none.
func (p Policy) Or() Policy {
	if p.Base <= 0 {
		p.Base = Default.Base
	}
	if p.Max <= 0 {
		p.Max = max(Default.Max, p.Base)
	}
	return p
}

// After is the wait after the n-th failure of a run (n ≥ 1).
func (p Policy) After(n int) time.Duration {
	p = p.Or()
	d := p.Base << min(n-1, 30)
	if d > p.Max || d <= 0 {
		d = p.Max
	}
	return d
}

// State is a key's run of failures.
type State struct {
	// Reason is the condition reason of the last failure (v1alpha1.ReasonAccessDenied, …).
	Reason string
	// Message says what failed, in words for the object's owner.
	Message string
	// Failures counts the failures of the run.
	Failures int
	// Until is when the next call may go out.
	Until time.Time
}

// Describe is the message for the owner's condition: what failed, and until when calls wait.
func (s State) Describe() string {
	return fmt.Sprintf("%s; backing off: next attempt at %s (failure %d in a row)", s.Message, s.Until.UTC().Format(time.RFC3339), s.Failures)
}

// Tracker holds the runs of failures of many keys. The zero value uses Default.
type Tracker struct {
	Policy Policy

	mu   sync.Mutex
	runs map[string]run
}

type run struct {
	State
	generation int64
}

// Wait is how long key must still wait before its next call (zero: go ahead) and its run. A run
// recorded for another generation of the object is over.
func (t *Tracker) Wait(key string, generation int64, now time.Time) (time.Duration, State) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.runs[key]
	if !ok {
		return 0, State{}
	}
	if r.generation != generation {
		delete(t.runs, key)
		return 0, State{}
	}
	return max(r.Until.Sub(now), 0), r.State
}

// Fail records a failure of key and returns its run. changed is true when the run begins (or
// begins again after a spec change) or its reason changes: log it and tell people then. A
// failure while the wait still runs (calls that were in flight together) does not lengthen it.
func (t *Tracker) Fail(key string, generation int64, reason, message string, now time.Time) (s State, changed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.runs == nil {
		t.runs = map[string]run{}
	}
	r, ok := t.runs[key]
	if ok && r.generation != generation {
		ok = false
	}
	changed = !ok || r.Reason != reason
	if !ok {
		r = run{generation: generation}
	}
	r.Reason, r.Message = reason, message
	if !now.Before(r.Until) {
		r.Failures++
		r.Until = now.Add(t.Policy.After(r.Failures))
	}
	t.runs[key] = r
	return r.State, changed
}

// Succeed ends key's run. It returns the run that ended and whether there was one (log the
// recovery then).
func (t *Tracker) Succeed(key string) (State, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.runs[key]
	delete(t.runs, key)
	return r.State, ok
}

// Kind sorts AWS errors by what a retry can do about them.
type Kind int

const (
	// Transient errors (a timeout, a 5xx after the SDK's retries) are retried by the caller's
	// usual error handling.
	Transient Kind = iota
	// Denied: IAM denies the action. Only a policy change helps.
	Denied
	// Invalid: AWS rejects the request itself. Only a change of the request (or of the zone) helps.
	Invalid
	// Quota: an account quota is used up. Only deleted resources, time or a raised quota help.
	Quota
	// Throttled: AWS kept throttling beyond the SDK's retries.
	Throttled
)

// Classify sorts err, matching the SDK's typed errors where the services define them.
func Classify(err error) Kind {
	if err == nil {
		return Transient
	}
	var (
		acmDenied     *acmtypes.AccessDeniedException
		acmLimit      *acmtypes.LimitExceededException
		acmValidation *acmtypes.ValidationException
		acmParam      *acmtypes.InvalidParameterException
		acmOptions    *acmtypes.InvalidDomainValidationOptionsException
		acmTag        *acmtypes.InvalidTagException
		acmTags       *acmtypes.TooManyTagsException
		acmTagPolicy  *acmtypes.TagPolicyException
		r53Input      *r53types.InvalidInput
		r53Batch      *r53types.InvalidChangeBatch
		r53Zone       *r53types.NoSuchHostedZone
	)
	switch {
	case errors.As(err, &acmDenied), awsclient.IsAccessDenied(err):
		return Denied
	case errors.As(err, &acmLimit):
		return Quota
	case errors.As(err, &acmValidation), errors.As(err, &acmParam), errors.As(err, &acmOptions),
		errors.As(err, &acmTag), errors.As(err, &acmTags), errors.As(err, &acmTagPolicy),
		errors.As(err, &r53Input), errors.As(err, &r53Batch), errors.As(err, &r53Zone):
		return Invalid
	case awsclient.IsThrottled(err):
		return Throttled
	}
	return Transient
}
