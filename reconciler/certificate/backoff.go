package certificate

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/awsclient"
	"github.com/opendi/gateway-orchestrator/internal/backoff"
)

// accountQuota is the back-off key of ACM's account quota: every request would get the same
// answer, so while it lasts no claim asks (each claim also backs off on its own).
const accountQuota = "acm:account-quota"

// requestKey and recordKey are a claim's back-off keys for its certificate request and for its
// validation CNAME.
func requestKey(uid types.UID) string { return string(uid) }
func recordKey(uid types.UID) string  { return string(uid) + "/validation-record" }

// requestWait is how long the claim's certificate request must still wait: for its own back-off
// (its condition already says why and until when) or for the account's quota (said in st).
func (r *Reconciler) requestWait(c *v1alpha1.DomainClaim, st *v1alpha1.DomainClaimStatus) time.Duration {
	now := r.Clock.Now()
	if wait, s := r.backoff.Wait(accountQuota, 0, now); wait > 0 {
		set(st, c, v1alpha1.ConditionCertificateRequested, false, v1alpha1.ReasonQuotaExceeded, s.Describe())
		return wait
	}
	wait, _ := r.backoff.Wait(requestKey(c.UID), c.Generation, now)
	return wait
}

// backOff handles a failed AWS call op of the claim's step (condition typ) that a quick retry
// cannot fix: the step's condition says so and until when (see backoff.Claims). ok is false for
// other errors.
func (r *Reconciler) backOff(ctx context.Context, c *v1alpha1.DomainClaim, st *v1alpha1.DomainClaimStatus, key, typ, op, invalid, msg string, err error) (reconcile.Result, bool) {
	now := r.Clock.Now()
	s, wait, ok := r.backoff.Failed(ctx, c, key, op, invalid, msg, err, now)
	if !ok {
		return reconcile.Result{}, false
	}
	if s.Reason == v1alpha1.ReasonQuotaExceeded {
		r.backoff.Fail(accountQuota, 0, s.Reason, s.Message, now)
	}
	set(st, c, typ, false, s.Reason, s.Describe())
	return reconcile.Result{RequeueAfter: wait}, true
}

// requestFailureMessage is the claim's message for a certificate request ACM refused, or "" for
// the default (awsclient.Describe).
func requestFailureMessage(err error) string {
	switch backoff.Classify(err) {
	case backoff.Quota:
		return fmt.Sprintf("ACM refused a new certificate: %s (delete unused certificates or ask AWS for a higher ACM quota)", awsclient.Message(err))
	case backoff.Invalid:
		// Rejected as it is: tried again after the back-off, or at once after a spec change.
		return "ACM rejected the certificate request: " + awsclient.Message(err)
	}
	return ""
}
