package backoff

import (
	"context"
	"time"

	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/awsclient"
	"github.com/opendi/gateway-orchestrator/internal/routeuse"
)

// Claims is a Tracker of DomainClaims' AWS calls that tells people: once per state change, a log
// line and a Warning Event on the claim and on the objects of its namespace that use the hostname.
type Claims struct {
	Tracker
	// Reader finds the objects that use a hostname (the manager's cache).
	Reader   client.Reader
	Recorder events.EventRecorder
}

// Failed records the failure err of call op ("acm:RequestCertificate") for claim c under key,
// when a quick retry cannot fix it (Classify). The caller writes its condition with s.Reason
// and s.Describe() and requeues after wait. invalid is the caller's reason for a request AWS
// rejected; msg describes the failure (awsclient.Describe when empty). ok is false for other
// errors, which the caller handles as before.
func (cl *Claims) Failed(ctx context.Context, c *v1alpha1.DomainClaim, key, op, invalid, msg string, err error, now time.Time) (s State, wait time.Duration, ok bool) {
	reason := map[Kind]string{
		Denied:    v1alpha1.ReasonAccessDenied,
		Invalid:   invalid,
		Quota:     v1alpha1.ReasonQuotaExceeded,
		Throttled: v1alpha1.ReasonThrottled,
	}[Classify(err)]
	if reason == "" {
		return State{}, 0, false
	}
	if msg == "" {
		msg = awsclient.Describe(op, err)
	}
	s, changed := cl.Fail(key, c.Generation, reason, msg, now)
	if changed {
		logf.FromContext(ctx).Info("AWS call failed in a way a quick retry cannot fix; backing off",
			"call", op, "reason", reason, "error", msg, "nextAttempt", s.Until)
		routeuse.Warn(ctx, cl.Reader, cl.Recorder, c, reason, "Provision", s.Describe())
	}
	return s, s.Until.Sub(now), true
}

// Succeeded ends key's run after call op went through, and logs the recovery once.
func (cl *Claims) Succeeded(ctx context.Context, key, op string) {
	if s, ended := cl.Succeed(key); ended {
		logf.FromContext(ctx).Info("AWS call succeeded again after backing off", "call", op, "failures", s.Failures, "lastReason", s.Reason)
	}
}
