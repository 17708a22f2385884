package certificate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/hostname"
	"github.com/opendi/gateway-orchestrator/internal/index"
)

const (
	// firstRetry is how long a certificate ACM failed is kept before the next attempt: a CAA
	// record or a zone's delegation is seldom fixed sooner, and every attempt is a new
	// certificate, which counts against ACM's yearly request quota (5,000 by default) even once
	// deleted.
	firstRetry = 15 * time.Minute
	// maxRetry caps the doubling back-off between attempts: once a day.
	maxRetry = 24 * time.Hour
)

// retryDelay is how long the failed certificate of attempt (0 for the first) is kept before the
// next attempt: firstRetry, doubling with every attempt, up to maxRetry.
func retryDelay(attempt int32) time.Duration {
	d := firstRetry
	for i := int32(0); i < attempt && d < maxRetry; i++ {
		d *= 2
	}
	return min(d, maxRetry)
}

// retryable reports whether ACM's status of a certificate is a failure that a new request can
// get past once its cause is fixed. REVOKED (someone revoked it), EXPIRED and INACTIVE are not
// validation failures: they stay reported, and nothing is requested behind the owner's back.
func retryable(s acmtypes.CertificateStatus) bool {
	return s == acmtypes.CertificateStatusFailed || s == acmtypes.CertificateStatusValidationTimedOut
}

// retryPlan is what to do about a claim's settled, failed certificate.
type retryPlan struct {
	// Now: delete the failed certificate and request the next attempt.
	Now bool
	// At is when that is due, when not now.
	At time.Time
}

// planRetry decides about the claim's failed certificate: the next attempt is due at the
// recorded time (at, nil while none is recorded: the failure is new, and its attempt's back-off
// starts now), or at once when the owner asked for it (asked).
func planRetry(attempt int32, at *metav1.Time, now time.Time, asked bool) retryPlan {
	switch {
	case asked:
		return retryPlan{Now: true}
	case at == nil:
		return retryPlan{At: now.Add(retryDelay(attempt))}
	case !now.Before(at.Time):
		return retryPlan{Now: true}
	}
	return retryPlan{At: at.Time}
}

// attemptToken is the RequestCertificate idempotency token of the claim's attempt: at most 32
// word characters, the same for every request of one attempt, another for each attempt (ACM
// answers a token with the same certificate, failed or not, for an hour).
func attemptToken(uid string, attempt int32) string {
	in := uid
	if attempt > 0 {
		in += "/" + strconv.Itoa(int(attempt))
	}
	sum := sha256.Sum256([]byte(in))
	return hex.EncodeToString(sum[:16])
}

// tagAttempt is the attempt a certificate's tags name (none: 0); ok is false for a value that
// is no attempt number.
func tagAttempt(tags []acmtypes.Tag) (attempt int32, ok bool) {
	v := tagValue(tags, v1alpha1.TagCertificateAttempt)
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 32)
	return int32(n), err == nil && n >= 0
}

// failureMessage says which attempt failed, why, and when the next one is.
func failureMessage(attempt int32, status acmtypes.CertificateStatus, reason acmtypes.FailureReason, next time.Time) string {
	msg := fmt.Sprintf("ACM says the certificate of attempt %d is %s", attempt+1, status)
	if reason != "" {
		msg += ": " + string(reason)
	}
	return msg + fmt.Sprintf("; once the cause is fixed, attempt %d deletes it and requests a new one at %s, "+
		"or at once when the annotation %s of a route of the owning namespace that uses the hostname changes",
		attempt+2, next.UTC().Format(time.RFC3339), v1alpha1.AnnotationRetryCertificate)
}

// retry deletes the claim's failed certificate (only if its tags say it is this claim's) and
// moves the claim to its next attempt, which the next reconcile requests with the attempt's own
// idempotency token: the attempt number is written first, so that a crash after the request
// finds the same certificate again (the token within the hour, the tags past it).
func (r *Reconciler) retry(ctx context.Context, c *v1alpha1.DomainClaim, st *v1alpha1.DomainClaimStatus, why string) (reconcile.Result, error) {
	arn := st.CertificateARN
	tags, err := r.ACM.ListTagsForCertificate(ctx, &acm.ListTagsForCertificateInput{CertificateArn: aws.String(arn)})
	var notFound *acmtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		// Deleted already (a crash after the delete, before the status write).
	case err != nil:
		return reconcile.Result{}, err
	case tagValue(tags.Tags, v1alpha1.TagClaimUID) != string(c.UID) || tagValue(tags.Tags, v1alpha1.TagCluster) != r.Cluster:
		// Not ours: never deleted; the claim only stops naming it.
		return r.nextAttempt(c, st, why+"; it is not tagged for this claim and cluster, so it was left in ACM")
	default:
		_, err := r.ACM.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(arn)})
		var inUse *acmtypes.ResourceInUseException
		switch {
		case errors.As(err, &inUse):
			// A certificate ACM did not issue serves nothing; asked again after a while.
			wait := r.InUseRetry
			if wait == 0 {
				wait = DefaultInUseRetry
			}
			return reconcile.Result{RequeueAfter: wait}, nil
		case err != nil && !errors.As(err, &notFound):
			return reconcile.Result{}, err
		}
		r.Recorder.Eventf(c, nil, "Normal", v1alpha1.EventCertificateDeleted, "Retry", "deleted failed ACM certificate %s", arn)
	}
	return r.nextAttempt(c, st, why+"; it was deleted")
}

// nextAttempt forgets the failed certificate and records the next attempt in st.
func (r *Reconciler) nextAttempt(c *v1alpha1.DomainClaim, st *v1alpha1.DomainClaimStatus, why string) (reconcile.Result, error) {
	r.forget(c, st.CertificateARN)
	st.CertificateARN, st.CertificateRetryTime = "", nil
	st.CertificateAttempt++
	r.moved.Store(c.UID, moveMemo{attempt: st.CertificateAttempt, at: r.Clock.Now()})
	// The validation record stays listed: ACM gives the next certificate the same CNAME, which
	// stays in the zone, and a claim deleted meanwhile removes it.
	msg := fmt.Sprintf("%s; requesting attempt %d", why, st.CertificateAttempt+1)
	set(st, c, v1alpha1.ConditionCertificateRequested, false, v1alpha1.ReasonRetrying, msg)
	set(st, c, v1alpha1.ConditionCertificateIssued, false, v1alpha1.ReasonRetrying, msg)
	// Written before the request (Reconcile writes st), which the claim makes when it comes back.
	return reconcile.Result{RequeueAfter: time.Millisecond}, nil
}

// moveMemo is a claim's move to its next attempt, until the cache shows it.
type moveMemo struct {
	attempt int32
	at      time.Time
}

// movedMemoFor is how long a moveMemo is trusted: the cache shows a write within moments, and a
// write that failed is no move.
const movedMemoFor = 30 * time.Second

// cacheBehind reports whether c is the cache's copy from before the claim moved to its next
// attempt.
func (r *Reconciler) cacheBehind(c *v1alpha1.DomainClaim) bool {
	v, ok := r.moved.Load(c.UID)
	if !ok {
		return false
	}
	m := v.(moveMemo)
	if c.Status.CertificateAttempt < m.attempt && r.Clock.Since(m.at) < movedMemoFor {
		return true
	}
	r.moved.Delete(c.UID)
	return false
}

// retryAsked reports, and forgets, whether the claim's owner asked to replace its failed
// certificate at once.
func (r *Reconciler) retryAsked(c *v1alpha1.DomainClaim) bool {
	_, ok := r.asked.LoadAndDelete(c.UID)
	return ok
}

// retryRequests maps an HTTPRoute whose retry annotation changed to the claims of its hostnames
// owned by its namespace, and notes that their owner asked for a retry.
func (r *Reconciler) retryRequests(ctx context.Context, o client.Object) []reconcile.Request {
	var reqs []reconcile.Request
	for _, h := range index.RouteKeys(o) {
		c := &v1alpha1.DomainClaim{}
		if err := r.Client.Get(ctx, client.ObjectKey{Name: hostname.ClaimName(h)}, c); err != nil || c.Spec.Namespace != o.GetNamespace() {
			continue
		}
		r.asked.Store(c.UID, true)
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Name: c.Name}})
	}
	return reqs
}

// retryAnnotationChanged passes updates of a route that change its retry annotation.
func retryAnnotationChanged(e event.UpdateEvent) bool {
	v, ok := e.ObjectNew.GetAnnotations()[v1alpha1.AnnotationRetryCertificate]
	was, had := e.ObjectOld.GetAnnotations()[v1alpha1.AnnotationRetryCertificate]
	return ok && (!had || v != was)
}
