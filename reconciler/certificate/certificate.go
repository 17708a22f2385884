// Package certificate reconciles the AWS side of a DomainClaim's certificate: the ACM
// certificate (requested with a deterministic idempotency token and tags, adopted after a crash,
// never duplicated), its DNS validation CNAME in the zone's hosted zone (shared between claims
// that need the same record, written through the Route53 batcher), issuance (awaited with the
// shared Poller, never a blocked worker), and their removal when the claim goes.
//
// It watches DomainClaims, and is woken by its Poller, its Requester and the Route53 batcher. It
// owns CertificateRequested, ValidationRecordReady, CertificateIssued and CertificateRenewable and
// the status fields certificateARN, validationRecord, certificateNotAfter and renewalStatus
// (claimstatus.Certificate), written by server-side apply; and the finalizer
// v1alpha1.FinalizerAWSCleanup, which it removes last. It calls ACM and writes the validation
// CNAME. It reads Claimed (reconciler/claim) and DNSRecordReady (reconciler/dns): a claim that
// goes keeps its certificate until its ALIAS records are gone (DomainClaim.AliasRecordsGoneForDeletion).
// status.validationRecord.recordZoneID records the hosted zone the CNAME was written in; when the
// zone in effect has another, the CNAME moves (dnsbatch.Relocate), and removal deletes it from
// both (dnsbatch.Removal).
package certificate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/awsclient"
	"github.com/opendi/gateway-orchestrator/internal/backoff"
	"github.com/opendi/gateway-orchestrator/internal/claimstatus"
	"github.com/opendi/gateway-orchestrator/internal/conditions"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/internal/fairqueue"
	"github.com/opendi/gateway-orchestrator/internal/index"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
)

// ControllerName names the reconciler in logs and metrics.
const ControllerName = "domainclaim-certificate"

const (
	// idempotencyWindow is how long ACM honours an IdempotencyToken (one hour); adoption by tag
	// takes over a little before it ends.
	idempotencyWindow = 55 * time.Minute
	// recordWait is how long to wait for ACM to publish a new certificate's validation record.
	recordWait = 2 * time.Second
	// DefaultInUseRetry is how long to wait before deleting a certificate a load balancer still
	// uses, again.
	DefaultInUseRetry = 30 * time.Second
	// consistencyWindow is how long after RequestCertificate ACM may answer
	// ResourceNotFoundException for the new certificate: it is eventually consistent, and the
	// certificate exists.
	consistencyWindow = time.Minute
	// DefaultRenewalCheck is how often an issued certificate's expiry and renewal are read again.
	// ACM begins renewing 60 days before expiry, so twice a day notices a failure in time.
	DefaultRenewalCheck = 12 * time.Hour
)

// ACM is the part of the ACM client the reconciler uses, with the SDK's signatures.
type ACM interface {
	RequestCertificate(ctx context.Context, in *acm.RequestCertificateInput, optFns ...func(*acm.Options)) (*acm.RequestCertificateOutput, error)
	DescribeCertificate(ctx context.Context, in *acm.DescribeCertificateInput, optFns ...func(*acm.Options)) (*acm.DescribeCertificateOutput, error)
	DeleteCertificate(ctx context.Context, in *acm.DeleteCertificateInput, optFns ...func(*acm.Options)) (*acm.DeleteCertificateOutput, error)
	ListCertificates(ctx context.Context, in *acm.ListCertificatesInput, optFns ...func(*acm.Options)) (*acm.ListCertificatesOutput, error)
	ListTagsForCertificate(ctx context.Context, in *acm.ListTagsForCertificateInput, optFns ...func(*acm.Options)) (*acm.ListTagsForCertificateOutput, error)
}

// Reconciler runs steps 1–3 of a claim's reconciliation and their undoing.
type Reconciler struct {
	Client    client.Client
	ACM       ACM
	DNS       *dnsbatch.Batcher
	Poller    *Poller
	Requester *Requester
	Cluster   string
	Clock     clock.PassiveClock
	Recorder  events.EventRecorder
	// InUseRetry overrides DefaultInUseRetry.
	InUseRetry time.Duration
	// Backoff spaces out calls that failed in a way a quick retry cannot fix (backoff.Default
	// when zero).
	Backoff backoff.Policy
	// Metrics are where the reconciler reports; nil reports nowhere.
	Metrics *Metrics
	// RenewalCheck overrides DefaultRenewalCheck.
	RenewalCheck time.Duration
	// QuietPeriod overrides claimstatus.DefaultQuietPeriod: how long a new claim's steps that
	// are only on their way (requested, record queued, issuance pending) are kept out of its
	// status, so that a certificate issued within it is written once, with everything.
	QuietPeriod time.Duration

	wake chan event.GenericEvent
	// arns holds certificates requested whose ARN is not in status yet (by claim UID), so that a
	// requeue does not spend another RequestCertificate; after a crash the idempotency token or
	// the tags find them again.
	arns sync.Map
	// fresh holds when certificates were requested (by ARN), for ACM's eventual consistency.
	fresh sync.Map
	// records holds validation records read from ACM (by ARN) that are not in status yet, so
	// that a claim whose status is kept back (QuietPeriod) is not described again on every look,
	// and so that deleting a claim that shares the record (a name and its wildcard) keeps it.
	records sync.Map
	// backoff holds the claims' runs of persistent AWS failures (and ACM's account quota).
	backoff backoff.Claims
	// checked holds when issued certificates' renewal was last read (by ARN).
	checked sync.Map
	// written remembers the reconciler's status writes the cache has not shown yet.
	written claimstatus.Writes
	// asked holds the claims (by UID) whose owner asked, by a route's retry annotation, to
	// replace a failed certificate at once.
	asked sync.Map
	// moved holds the claims (by UID) moved to their next attempt whose write the cache may not
	// show yet (a moveMemo): an older copy must not bring back the failed certificate.
	moved sync.Map
}

// +kubebuilder:rbac:groups=gateway.opendi.com,resources=domainclaims/finalizers,verbs=update

var _ reconcile.Reconciler = &Reconciler{}

// SetupWithManager registers the reconciler and its Poller with the manager.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	r.backoff.Policy, r.backoff.Reader, r.backoff.Recorder = r.Backoff, r.Client, r.Recorder
	r.wake = make(chan event.GenericEvent, 1024)
	notify := func(owner string) {
		r.wake <- event.GenericEvent{Object: &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: owner}}}
	}
	r.Poller.Notify, r.Requester.Notify = notify, notify
	before := r.DNS.Notify
	r.DNS.Notify = func(owner string) {
		if before != nil {
			before(owner)
		}
		notify(owner)
	}
	if err := mgr.Add(r.Poller); err != nil {
		return err
	}
	if err := mgr.Add(r.Requester); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&v1alpha1.DomainClaim{}).
		WatchesRawSource(source.Channel(r.wake, &handler.EnqueueRequestForObject{})).
		// A tenant's "retry now" for a failed certificate (v1alpha1.AnnotationRetryCertificate).
		Watches(&gwv1.HTTPRoute{}, handler.EnqueueRequestsFromMapFunc(r.retryRequests),
			builder.WithPredicates(predicate.Funcs{
				CreateFunc: func(event.CreateEvent) bool { return false }, DeleteFunc: func(event.DeleteEvent) bool { return false },
				GenericFunc: func(event.GenericEvent) bool { return false }, UpdateFunc: retryAnnotationChanged,
			})).
		// Several claims may wait on AWS at once; the client-side rate limiters, not the
		// number of workers, bound the request rate.
		WithOptions(fairqueue.ClaimOptions(mgr.GetCache(), 8)).
		Complete(r)
}

// Reconcile implements reconcile.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	c := &v1alpha1.DomainClaim{}
	if err := r.Client.Get(ctx, req.NamespacedName, c); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	log := logf.FromContext(ctx).WithValues("claim", c.Name, "hostname", c.Spec.Hostname)
	ctx = logf.IntoContext(ctx, log)
	if !c.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, c)
	}
	if cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionClaimed); cond == nil || cond.Status != metav1.ConditionTrue {
		if cond != nil && cond.Reason == v1alpha1.ReasonConflicted && controllerutil.ContainsFinalizer(c, v1alpha1.FinalizerAWSCleanup) {
			return r.withdraw(ctx, c)
		}
		return reconcile.Result{}, nil // not settled yet: nothing is provisioned
	}
	if !v1alpha1.ProvisioningAllowed(c) {
		// Unbound: nothing is requested; the step says what it waits for (see Bound).
		msg := "waiting for the claim to be bound"
		if b := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionBound); b != nil {
			msg += ": " + b.Message
		}
		st := c.Status.DeepCopy()
		set(st, c, v1alpha1.ConditionCertificateRequested, false, v1alpha1.ReasonUnbound, msg)
		return reconcile.Result{}, r.writeStatus(ctx, c, st)
	}
	zone, err := ownership.FindZone(ctx, ownership.CacheView{Reader: r.Client}, c.Spec.Hostname)
	if err != nil {
		return reconcile.Result{}, err
	}
	st := c.Status.DeepCopy()
	if zone == nil {
		set(st, c, v1alpha1.ConditionCertificateRequested, false, v1alpha1.ReasonNoManagedZone, "no ManagedZone covers the hostname; nothing is provisioned")
		return reconcile.Result{}, r.writeStatus(ctx, c, st)
	}

	// The finalizer is saved before any AWS resource exists. Admission creates route-made claims
	// with it already; admins' claims get it here.
	if !controllerutil.ContainsFinalizer(c, v1alpha1.FinalizerAWSCleanup) {
		return finalizerResult(ctx, addFinalizer(ctx, r.Client, c))
	}

	res, err := r.provision(ctx, c, zone, st)
	if err == nil {
		if wait := claimstatus.Hold(claimstatus.Certificate, c, st, r.Clock.Now(), r.QuietPeriod); wait > 0 {
			// Only on its way: said with the issued certificate, or when the quiet period ends.
			// The ARN and record are kept in memory meanwhile; after a crash the idempotency
			// token or the tags find the certificate again, and unprovision reads its record.
			if res.RequeueAfter == 0 || res.RequeueAfter > wait {
				res.RequeueAfter = wait
			}
			return res, nil
		}
	}
	if werr := r.writeStatus(ctx, c, st); werr != nil {
		return reconcile.Result{}, werr
	}
	return res, err
}

// provision runs steps 1–3, recording each in st. It returns early while a step waits.
func (r *Reconciler) provision(ctx context.Context, c *v1alpha1.DomainClaim, zone *v1alpha1.ManagedZone, st *v1alpha1.DomainClaimStatus) (reconcile.Result, error) {
	// A failed certificate whose next attempt is due, or asked for: deleted before anything
	// else, since after a restart the poller never settles a certificate already deleted.
	if r.cacheBehind(c) {
		return reconcile.Result{RequeueAfter: recordWait}, nil
	}
	asked := r.retryAsked(c)
	if st.CertificateARN != "" && st.CertificateRetryTime != nil && (asked || !r.Clock.Now().Before(st.CertificateRetryTime.Time)) {
		return r.retry(ctx, c, st, fmt.Sprintf("ACM failed the certificate %s of attempt %d", st.CertificateARN, st.CertificateAttempt+1))
	}

	// Step 1: the certificate.
	arn := st.CertificateARN
	if arn == "" {
		if n := len(c.Spec.Hostname); n > ownership.MaxCertificateName {
			msg := fmt.Sprintf("the hostname is %d characters long; ACM issues certificates only for names of at most %d characters, so none is requested", n, ownership.MaxCertificateName)
			set(st, c, v1alpha1.ConditionCertificateRequested, false, v1alpha1.ReasonHostnameTooLong, msg)
			// A claim's hostname never changes, so no retry can help: the condition says so
			// and the claim is not queued again (Reconcile writes st before returning).
			return reconcile.Result{}, reconcile.TerminalError(errors.New(msg))
		}
		if wait := r.requestWait(c, st); wait > 0 {
			return reconcile.Result{RequeueAfter: wait}, nil // the condition says why
		}
		var err error
		var fresh bool
		arn, fresh, err = r.request(ctx, c)
		if err != nil {
			if res, ok := r.backOff(ctx, c, st, requestKey(c.UID), v1alpha1.ConditionCertificateRequested,
				"acm:RequestCertificate", v1alpha1.ReasonRequestRejected, requestFailureMessage(err), err); ok {
				return res, nil
			}
			set(st, c, v1alpha1.ConditionCertificateRequested, false, v1alpha1.ReasonRequestFailed, awsclient.Describe("acm:RequestCertificate", err))
			return reconcile.Result{}, err
		}
		if arn == "" {
			return reconcile.Result{}, nil // queued: the Requester wakes the claim
		}
		r.backoff.Succeeded(ctx, requestKey(c.UID), "acm:RequestCertificate")
		r.backoff.Succeed(accountQuota)
		if fresh {
			// ACM publishes the validation record a moment after the request; asking at once
			// would spend a DescribeCertificate for nothing.
			return reconcile.Result{RequeueAfter: recordWait}, nil
		}
	}

	// Step 2: its validation record.
	if v, ok := r.records.Load(arn); ok && (st.ValidationRecord == nil || st.CertificateARN == "") {
		st.ValidationRecord = v.(*v1alpha1.ValidationRecord)
	} else if st.ValidationRecord == nil || st.CertificateARN == "" {
		out, err := r.ACM.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
		var notFound *acmtypes.ResourceNotFoundException
		if errors.As(err, &notFound) && r.justRequested(arn) {
			// ACM does not show a new certificate everywhere at once; it exists.
			set(st, c, v1alpha1.ConditionCertificateRequested, false, v1alpha1.ReasonPending, "ACM does not show the new certificate "+arn+" yet")
			return reconcile.Result{RequeueAfter: recordWait}, nil
		}
		if errors.As(err, &notFound) {
			// Deleted behind our back: request a new one.
			r.arns.Delete(c.UID)
			r.fresh.Delete(arn)
			r.records.Delete(arn)
			st.CertificateARN, st.ValidationRecord = "", nil
			set(st, c, v1alpha1.ConditionCertificateRequested, false, v1alpha1.ReasonCertificateMissing, "the certificate "+arn+" no longer exists in ACM; requesting a new one")
			return reconcile.Result{RequeueAfter: recordWait}, nil
		}
		if err != nil {
			set(st, c, v1alpha1.ConditionCertificateRequested, false, v1alpha1.ReasonDescribeFailed, awsclient.Describe("acm:DescribeCertificate", err))
			return reconcile.Result{}, err
		}
		rec := validationRecord(out.Certificate)
		if rec == nil {
			return reconcile.Result{RequeueAfter: recordWait}, nil // ACM publishes it within seconds
		}
		st.ValidationRecord = rec
		r.records.Store(arn, rec)
	}
	st.CertificateARN = arn
	if c.Status.CertificateARN == arn && c.Status.ValidationRecord != nil {
		// Persisted: the memos of a fresh request are no longer needed. Until then they stay,
		// so a status kept back or lost does not lose the ARN (and request it again).
		r.arns.Delete(c.UID)
		r.records.Delete(arn)
	}
	r.fresh.Delete(arn)
	set(st, c, v1alpha1.ConditionCertificateRequested, true, v1alpha1.ReasonRequested, "ACM certificate "+arn)

	if wait, _ := r.backoff.Wait(recordKey(c.UID), c.Generation, r.Clock.Now()); wait > 0 {
		return reconcile.Result{RequeueAfter: wait}, nil // ValidationRecordReady says why
	}
	// A record written in another hosted zone (the zone's hostedZoneID changed, or a child zone
	// now covers the hostname) moves: written here first, then ours deleted there, unless another
	// claim still recorded there needs it (a name and its wildcard share the record).
	recorded, keepOld := st.ValidationRecord.RecordZoneID, false
	if recorded != "" && recorded != zone.Spec.HostedZoneID {
		var err error
		if keepOld, err = r.recordStillNeeded(ctx, c, arn, st.ValidationRecord, recorded); err != nil {
			return reconcile.Result{}, err
		}
	}
	move := dnsbatch.Relocate(recorded, zone.Spec.HostedZoneID, []dnsbatch.Want{validationWant(st.ValidationRecord)}, keepOld)
	for _, want := range move.Ensure {
		dns, err := r.DNS.Ensure(ctx, c.Name, want)
		if dns.State == dnsbatch.Failed {
			if res, ok := r.backOff(ctx, c, st, recordKey(c.UID), v1alpha1.ConditionValidationRecord,
				"route53:ChangeResourceRecordSets", v1alpha1.ReasonChangeFailed, dns.Message, dns.Err); ok {
				return res, nil
			}
		}
		if step := dnsbatch.StepOf(dns, err, "validation record", want.Zone); step.Waiting {
			if !want.Absent || step.Reason != v1alpha1.ReasonPending {
				// (The old zone's copy going is no step back: the record is in place here.)
				set(st, c, v1alpha1.ConditionValidationRecord, false, step.Reason, step.Message)
			}
			return reconcile.Result{RequeueAfter: step.RequeueAfter}, step.Err
		}
	}
	r.backoff.Succeeded(ctx, recordKey(c.UID), "route53:ChangeResourceRecordSets")
	if st.ValidationRecord.RecordZoneID != move.Zone {
		rec := *st.ValidationRecord // may be the memo's: not changed in place
		rec.RecordZoneID = move.Zone
		if _, ok := r.records.Load(arn); ok {
			r.records.Store(arn, &rec)
		}
		st.ValidationRecord = &rec
	}
	set(st, c, v1alpha1.ConditionValidationRecord, true, v1alpha1.ReasonCreated, "CNAME "+st.ValidationRecord.Name+" in hosted zone "+zone.Spec.HostedZoneID)

	// Step 3: issuance.
	if meta.IsStatusConditionTrue(st.Conditions, v1alpha1.ConditionCertificateIssued) {
		return r.issued(ctx, c, st)
	}
	status := r.Poller.Wait(arn, c.Name)
	switch status {
	case acmtypes.CertificateStatusPendingValidation:
		if err := r.Poller.Denied(); err != nil {
			set(st, c, v1alpha1.ConditionCertificateIssued, false, v1alpha1.ReasonAccessDenied,
				"whether ACM validated the certificate cannot be read: "+awsclient.Describe("acm:ListCertificates", err))
			return reconcile.Result{}, nil // the poller wakes the claim when it can list again
		}
		set(st, c, v1alpha1.ConditionCertificateIssued, false, v1alpha1.ReasonPending, "waiting for ACM to validate the certificate through DNS")
		return reconcile.Result{}, nil // the poller wakes the claim
	case acmtypes.CertificateStatusIssued:
		set(st, c, v1alpha1.ConditionCertificateIssued, true, v1alpha1.ReasonIssued, "ACM issued the certificate")
		r.Recorder.Eventf(c, nil, "Normal", v1alpha1.EventCertificateIssued, "Provision", "ACM issued certificate %s", arn)
		r.Metrics.issued(r.Clock.Since(c.CreationTimestamp.Time))
		r.Poller.Forget(arn)
		return r.issued(ctx, c, st)
	}
	reason := string(status)
	var failure acmtypes.FailureReason
	if out, err := r.ACM.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)}); err == nil {
		failure = out.Certificate.FailureReason
	}
	if !retryable(status) {
		// Revoked, expired, inactive: reported, never replaced behind the owner's back.
		msg := "ACM says the certificate is " + string(status)
		if failure != "" {
			msg += ": " + string(failure)
		}
		set(st, c, v1alpha1.ConditionCertificateIssued, false, reason, msg)
		r.Recorder.Eventf(c, nil, "Warning", reason, "Provision", "%s", msg)
		return reconcile.Result{}, nil
	}
	now := r.Clock.Now()
	plan := planRetry(st.CertificateAttempt, st.CertificateRetryTime, now, asked)
	if plan.Now {
		why := fmt.Sprintf("ACM says the certificate %s of attempt %d is %s", arn, st.CertificateAttempt+1, status)
		if failure != "" {
			why += ": " + string(failure)
		}
		return r.retry(ctx, c, st, why)
	}
	msg := failureMessage(st.CertificateAttempt, status, failure, plan.At)
	set(st, c, v1alpha1.ConditionCertificateIssued, false, reason, msg)
	if st.CertificateRetryTime == nil {
		at := metav1.NewTime(plan.At.Truncate(time.Second))
		st.CertificateRetryTime = &at
		r.Recorder.Eventf(c, nil, "Warning", reason, "Provision", "%s", msg)
	}
	return reconcile.Result{RequeueAfter: plan.At.Sub(now)}, nil
}

// issued runs what follows issuance: the periodic renewal check.
func (r *Reconciler) issued(ctx context.Context, c *v1alpha1.DomainClaim, st *v1alpha1.DomainClaimStatus) (reconcile.Result, error) {
	every := r.RenewalCheck
	if every == 0 {
		every = DefaultRenewalCheck
	}
	if err := r.renewal(ctx, c, st, every); err != nil {
		// Serving the name does not wait for the check; the next one tries again.
		logf.FromContext(ctx).Error(err, "reading the certificate's renewal status", "arn", st.CertificateARN)
	}
	// Coming back within the zone's refresh interval repairs a validation record changed behind
	// our back (ACM renews through it).
	return reconcile.Result{RequeueAfter: min(every, r.DNS.RefreshEvery())}, nil
}

// renewal reads, when due, the issued certificate's expiry and ACM's managed renewal into st
// and the expiry metric. ACM renews only certificates a load balancer uses, so an unused one is
// reported as such, as is a failed renewal.
func (r *Reconciler) renewal(ctx context.Context, c *v1alpha1.DomainClaim, st *v1alpha1.DomainClaimStatus, every time.Duration) error {
	arn := st.CertificateARN
	if at, ok := r.checked.Load(arn); ok && r.Clock.Since(at.(time.Time)) < every && st.CertificateNotAfter != nil {
		return nil
	}
	out, err := r.ACM.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
	if err != nil {
		return err
	}
	r.checked.Store(arn, r.Clock.Now())
	cert := out.Certificate
	expires := "at an unknown time"
	if cert.NotAfter != nil {
		t := metav1.NewTime(cert.NotAfter.UTC())
		st.CertificateNotAfter = &t
		expires = "on " + t.Format(time.RFC3339)
		r.Metrics.expires(c.Name, cert.NotAfter.Sub(r.Clock.Now()))
	}
	st.RenewalStatus = ""
	if rs := cert.RenewalSummary; rs != nil {
		st.RenewalStatus = string(rs.RenewalStatus)
	}
	switch {
	case st.RenewalStatus == string(acmtypes.RenewalStatusFailed):
		msg := "ACM could not renew the certificate"
		if reason := cert.RenewalSummary.RenewalStatusReason; reason != "" {
			msg += ": " + string(reason)
		}
		msg += "; it expires " + expires
		if conditions.Set(&st.Conditions, c.Generation, v1alpha1.ConditionRenewal, false, v1alpha1.ReasonRenewalFailed, msg) {
			r.Recorder.Eventf(c, nil, "Warning", v1alpha1.ReasonRenewalFailed, "Renew", "%s", msg)
		}
	case cert.RenewalEligibility == acmtypes.RenewalEligibilityIneligible && awaitingLoadBalancer(c):
		// Read at issuance: the load balancer takes the certificate only now, so "not in use"
		// says nothing yet. Reading ACM again once it does would cost a read and a write on the
		// way to Ready for every claim; the next renewal check tells.
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1alpha1.ConditionRenewal, Status: metav1.ConditionUnknown,
			Reason: v1alpha1.ReasonAwaitingLoadBalancer, ObservedGeneration: c.Generation, Message: "no load balancer used the certificate yet when ACM was asked (it had just issued it); " +
				"ACM renews it only while one does, which the next renewal check reads; it expires " + expires})
	case cert.RenewalEligibility == acmtypes.RenewalEligibilityIneligible:
		set(st, c, v1alpha1.ConditionRenewal, false, v1alpha1.ReasonNotInUse,
			"no load balancer uses the certificate (no route is attached to a Gateway), so ACM will not renew it; it expires "+expires)
	default:
		set(st, c, v1alpha1.ConditionRenewal, true, v1alpha1.ReasonRenewable, "ACM renews the certificate before it expires "+expires)
	}
	return nil
}

// awaitingLoadBalancer tells whether a persisted object uses the claim's hostname while its
// load balancer does not serve it yet: an unused certificate is then on its way to a listener.
func awaitingLoadBalancer(c *v1alpha1.DomainClaim) bool {
	bound := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionBound)
	return bound != nil && bound.Status == metav1.ConditionTrue && bound.Reason == v1alpha1.ReasonObjectExists &&
		!meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionLoadBalancerReady)
}

// request returns the claim's certificate: one requested earlier by this process, one tagged for
// the claim (after a crash past the idempotency window), or a new one. The idempotency token is
// derived from the claim's UID, so a retry within an hour returns the same certificate.
func (r *Reconciler) request(ctx context.Context, c *v1alpha1.DomainClaim) (arn string, fresh bool, err error) {
	if v, ok := r.arns.Load(c.UID); ok {
		return v.(string), false, nil
	}
	// A certificate is requested soon after its claim is created, so past the token's hour from
	// creation a certificate may exist that ACM no longer returns for the token: look for its tags.
	if r.Clock.Since(c.CreationTimestamp.Time) > idempotencyWindow {
		arn, err := r.adopt(ctx, c)
		if err != nil || arn != "" {
			if arn != "" {
				r.arns.Store(c.UID, arn)
				logf.FromContext(ctx).Info("adopted certificate tagged for the claim", "arn", arn)
			}
			return arn, false, err
		}
	}
	tags := []acmtypes.Tag{
		{Key: aws.String(v1alpha1.TagClaim), Value: aws.String(c.Name)},
		{Key: aws.String(v1alpha1.TagClaimUID), Value: aws.String(string(c.UID))},
		{Key: aws.String(v1alpha1.TagCluster), Value: aws.String(r.Cluster)},
	}
	if n := c.Status.CertificateAttempt; n > 0 {
		tags = append(tags, acmtypes.Tag{Key: aws.String(v1alpha1.TagCertificateAttempt), Value: aws.String(strconv.Itoa(int(n)))})
	}
	arn, done, err := r.Requester.Request(c.UID, c.Name, c.Spec.Namespace, &acm.RequestCertificateInput{
		DomainName:       aws.String(c.Spec.Hostname),
		ValidationMethod: acmtypes.ValidationMethodDns,
		IdempotencyToken: aws.String(IdempotencyToken(c)),
		Tags:             tags,
	})
	if !done || err != nil {
		return "", false, err
	}
	r.arns.Store(c.UID, arn)
	r.fresh.Store(arn, r.Clock.Now())
	r.Recorder.Eventf(c, nil, "Normal", v1alpha1.EventCertificateRequested, "Provision", "requested ACM certificate %s", arn)
	return arn, true, nil
}

// adopt finds the certificate tagged for this claim (by UID and cluster) and its current
// attempt (status.certificateAttempt). One of an older attempt (its deletion interrupted) is
// deleted on the way.
func (r *Reconciler) adopt(ctx context.Context, c *v1alpha1.DomainClaim) (string, error) {
	in := &acm.ListCertificatesInput{}
	found := ""
	for {
		out, err := r.ACM.ListCertificates(ctx, in)
		if err != nil {
			return "", err
		}
		for _, s := range out.CertificateSummaryList {
			if aws.ToString(s.DomainName) != c.Spec.Hostname {
				continue
			}
			tags, err := r.ACM.ListTagsForCertificate(ctx, &acm.ListTagsForCertificateInput{CertificateArn: s.CertificateArn})
			if err != nil {
				return "", err
			}
			if tagValue(tags.Tags, v1alpha1.TagClaimUID) != string(c.UID) || tagValue(tags.Tags, v1alpha1.TagCluster) != r.Cluster {
				continue
			}
			switch n, ok := tagAttempt(tags.Tags); {
			case ok && n == c.Status.CertificateAttempt:
				found = aws.ToString(s.CertificateArn)
			case ok && n < c.Status.CertificateAttempt:
				_, err := r.ACM.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: s.CertificateArn})
				var notFound *acmtypes.ResourceNotFoundException
				if err != nil && !errors.As(err, &notFound) {
					return "", err
				}
				logf.FromContext(ctx).Info("deleted the certificate of an earlier attempt", "arn", aws.ToString(s.CertificateArn), "attempt", n)
			}
		}
		if out.NextToken == nil {
			return found, nil
		}
		in.NextToken = out.NextToken
	}
}

// finalize undoes what the claim provisioned, once reconciler/dns removed its ALIAS records,
// then lets the claim go.
func (r *Reconciler) finalize(ctx context.Context, c *v1alpha1.DomainClaim) (reconcile.Result, error) {
	if !controllerutil.ContainsFinalizer(c, v1alpha1.FinalizerAWSCleanup) {
		return reconcile.Result{}, nil
	}
	if !c.AliasRecordsGoneForDeletion() {
		return reconcile.Result{}, nil // reconciler/dns writes DNSRecordReady, which wakes the claim
	}
	st := c.Status.DeepCopy()
	done, res, err := r.unprovision(ctx, c, st)
	if !done {
		return res, errors.Join(err, r.writeStatus(ctx, c, st))
	}
	r.backoff.Succeed(requestKey(c.UID))
	r.backoff.Succeed(recordKey(c.UID))
	r.moved.Delete(c.UID)
	r.asked.Delete(c.UID)
	return finalizerResult(ctx, removeFinalizer(ctx, r.Client, c))
}

// withdraw unprovisions a claim that lost its hostname to an older claim after it was
// provisioned, in the order of a delete, and says so. The claim keeps its finalizer: if it wins
// the hostname back, it is provisioned again.
func (r *Reconciler) withdraw(ctx context.Context, c *v1alpha1.DomainClaim) (reconcile.Result, error) {
	if cond := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionCertificateRequested); cond != nil &&
		cond.Reason == v1alpha1.ReasonUnprovisioned && cond.ObservedGeneration == c.Generation {
		return reconcile.Result{}, nil
	}
	if !c.AliasRecordsGone() {
		return reconcile.Result{}, nil // reconciler/dns removes the ALIAS records first
	}
	st := c.Status.DeepCopy()
	done, res, err := r.unprovision(ctx, c, st)
	if done {
		msg := "the claim lost its hostname to an older claim (see Claimed): its ALIAS records, certificate and validation record were removed"
		set(st, c, v1alpha1.ConditionCertificateRequested, false, v1alpha1.ReasonUnprovisioned, msg)
		for _, typ := range []string{v1alpha1.ConditionValidationRecord, v1alpha1.ConditionCertificateIssued} {
			if meta.FindStatusCondition(st.Conditions, typ) != nil {
				set(st, c, typ, false, v1alpha1.ReasonUnprovisioned, msg)
			}
		}
		r.Recorder.Eventf(c, nil, "Warning", v1alpha1.ReasonUnprovisioned, "Cleanup", "%s", msg)
	}
	return res, errors.Join(err, r.writeStatus(ctx, c, st))
}

// unprovision undoes steps 3–1 in st, after reconciler/dns removed the ALIAS records (so the
// name stopped pointing at the ALB before its certificate is taken away): the certificate (a
// request still queued is withdrawn, one in flight awaited) once nothing uses it, then the
// validation CNAME when no other claim needs it. done is true once nothing of the claim is left
// in AWS.
func (r *Reconciler) unprovision(ctx context.Context, c *v1alpha1.DomainClaim, st *v1alpha1.DomainClaimStatus) (done bool, res reconcile.Result, err error) {
	if !v1alpha1.ProvisioningAllowed(c) && st.CertificateARN == "" {
		return true, reconcile.Result{}, nil // never bound: nothing of it is in AWS, no call is spent
	}
	zone, err := ownership.FindZone(ctx, ownership.CacheView{Reader: r.Client}, c.Spec.Hostname)
	if err != nil {
		return false, reconcile.Result{}, err
	}
	arn := st.CertificateARN
	if v, ok := r.arns.Load(c.UID); ok && arn == "" {
		arn = v.(string)
	}
	if arn == "" {
		made, inFlight := r.Requester.Cancel(c.UID)
		if inFlight {
			return false, reconcile.Result{}, nil // the Requester wakes the claim with the ARN
		}
		if made != "" {
			r.fresh.Store(made, r.Clock.Now())
		}
		arn = made
	}
	if arn == "" {
		// Requested but not recorded (a crash): find it by its tags.
		found, err := r.adopt(ctx, c)
		if err != nil {
			return false, reconcile.Result{}, err
		}
		arn = found
	}
	rec := st.ValidationRecord
	if rec == nil && arn != "" && st.CertificateARN == "" {
		// Requested, but not in status yet (kept back, or a crash; the ARN and its record are
		// written together): read the record while the certificate still exists, so that its
		// CNAME goes with it.
		if rec, err = r.recordOf(ctx, arn); err != nil {
			return false, reconcile.Result{}, err
		}
		// Saved with the status written while the CNAME's deletion waits: once the certificate
		// is deleted, ACM can no longer tell the record, and a rejected batch or a restart would
		// otherwise leave the CNAME behind.
		st.ValidationRecord = rec
	}
	if arn != "" {
		_, err := r.ACM.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(arn)})
		var notFound *acmtypes.ResourceNotFoundException
		var inUse *acmtypes.ResourceInUseException
		switch {
		case errors.As(err, &notFound) && r.justRequested(arn):
			// Not visible yet, not gone: deleting it must wait until ACM shows it.
			r.arns.Store(c.UID, arn)
			return false, reconcile.Result{RequeueAfter: recordWait}, nil
		case err == nil, errors.As(err, &notFound):
			r.forget(c, arn)
			st.CertificateARN, st.CertificateRetryTime = "", nil
			r.Recorder.Eventf(c, nil, "Normal", v1alpha1.EventCertificateDeleted, "Cleanup", "deleted ACM certificate %s", arn)
		case errors.As(err, &inUse):
			set(st, c, v1alpha1.ConditionCertificateRequested, true, v1alpha1.ReasonCertificateInUse, "waiting for load balancers to stop using the certificate before deleting it")
			wait := r.InUseRetry
			if wait == 0 {
				wait = DefaultInUseRetry
			}
			return false, reconcile.Result{RequeueAfter: wait}, nil
		default:
			return false, reconcile.Result{}, err
		}
	}
	if rec != nil {
		current := ""
		if zone != nil {
			current = zone.Spec.HostedZoneID
		}
		// From the hosted zone it was written in, and from the zone's, if another: a claim deleted
		// while its record moved may have it in both.
		for _, want := range dnsbatch.Removal(rec.RecordZoneID, current, []dnsbatch.Want{validationWant(rec)}) {
			shared, err := r.recordStillNeeded(ctx, c, arn, rec, want.Zone)
			if err != nil {
				return false, reconcile.Result{}, err
			}
			if shared {
				continue
			}
			res, err := r.DNS.Ensure(ctx, c.Name, want)
			switch res.State {
			case dnsbatch.Pending:
				return false, reconcile.Result{}, nil
			case dnsbatch.Failed:
				return false, reconcile.Result{}, errors.Join(fmt.Errorf("deleting validation record from hosted zone %s: %s", want.Zone, res.Message), err)
			}
		}
		st.ValidationRecord = nil
	}
	st.CertificateNotAfter, st.RenewalStatus = nil, ""
	meta.RemoveStatusCondition(&st.Conditions, v1alpha1.ConditionRenewal)
	r.Metrics.forget(c.Name)
	return true, reconcile.Result{}, nil
}

// forget drops what the process remembers of the claim's certificate arn, once it is deleted.
func (r *Reconciler) forget(c *v1alpha1.DomainClaim, arn string) {
	r.Poller.Forget(arn)
	r.arns.Delete(c.UID)
	r.fresh.Delete(arn)
	r.checked.Delete(arn)
	r.records.Delete(arn)
}

// recordOf returns the validation record of certificate arn: remembered, or read from ACM; nil
// when the certificate is gone or has none.
func (r *Reconciler) recordOf(ctx context.Context, arn string) (*v1alpha1.ValidationRecord, error) {
	if v, ok := r.records.Load(arn); ok {
		return v.(*v1alpha1.ValidationRecord), nil
	}
	out, err := r.ACM.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
	var notFound *acmtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return validationRecord(out.Certificate), nil
}

// justRequested reports whether the certificate was requested so recently that ACM's
// ResourceNotFoundException for it means "not visible yet" rather than "gone".
func (r *Reconciler) justRequested(arn string) bool {
	at, ok := r.fresh.Load(arn)
	return ok && r.Clock.Since(at.(time.Time)) < consistencyWindow
}

// recordStillNeeded reports whether another live claim uses the same validation record (ACM
// gives a name and its wildcard one record) in hosted zone zoneID: its status lists it, or this
// process holds it for another certificate than arn (a claim in its quiet period, whose status
// does not list it yet). A claim whose record names no zone yet is taken to need it wherever.
func (r *Reconciler) recordStillNeeded(ctx context.Context, c *v1alpha1.DomainClaim, arn string, rec *v1alpha1.ValidationRecord, zoneID string) (bool, error) {
	name := dnsbatch.Canonical(rec.Name)
	in := func(o *v1alpha1.ValidationRecord, claimZone string) bool {
		z := o.RecordZoneID
		if z == "" {
			z = claimZone
		}
		return z == "" || z == zoneID
	}
	held := false
	r.records.Range(func(k, v any) bool {
		o := v.(*v1alpha1.ValidationRecord)
		held = k.(string) != arn && dnsbatch.Canonical(o.Name) == name && in(o, "")
		return !held
	})
	if held {
		return true, nil
	}
	var l v1alpha1.DomainClaimList
	if err := r.Client.List(ctx, &l, client.MatchingFields{index.ClaimValidationRecord: name}); err != nil {
		return false, err
	}
	for _, o := range l.Items {
		if o.Name != c.Name && o.DeletionTimestamp.IsZero() && (o.Status.ValidationRecord == nil || in(o.Status.ValidationRecord, o.Status.HostedZoneID)) {
			return true, nil
		}
	}
	return false, nil
}

// validationWant is the validation CNAME rec (its zone is set by dnsbatch.Relocate or Removal).
func validationWant(rec *v1alpha1.ValidationRecord) dnsbatch.Want {
	return dnsbatch.Want{
		Zone: rec.RecordZoneID, Kind: dnsbatch.Shared,
		Record: r53types.ResourceRecordSet{
			Name: aws.String(dnsbatch.Canonical(rec.Name)), Type: r53types.RRTypeCname, TTL: aws.Int64(300),
			ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(rec.Value)}},
		},
	}
}

// writeStatus writes the reconciler's slice of st (claimstatus.Certificate), if it changed.
func (r *Reconciler) writeStatus(ctx context.Context, c *v1alpha1.DomainClaim, st *v1alpha1.DomainClaimStatus) error {
	_, err := r.written.Apply(ctx, r.Client, claimstatus.Certificate, c, st)
	return err
}

// IdempotencyToken is the claim's RequestCertificate token: at most 32 word characters, the
// same for every request made for one attempt (status.certificateAttempt) of one claim.
func IdempotencyToken(c *v1alpha1.DomainClaim) string {
	return attemptToken(string(c.UID), c.Status.CertificateAttempt)
}

func validationRecord(cert *acmtypes.CertificateDetail) *v1alpha1.ValidationRecord {
	if cert == nil {
		return nil
	}
	for _, o := range cert.DomainValidationOptions {
		if rr := o.ResourceRecord; rr != nil && aws.ToString(rr.Name) != "" {
			return &v1alpha1.ValidationRecord{Name: aws.ToString(rr.Name), Type: string(rr.Type), Value: aws.ToString(rr.Value)}
		}
	}
	return nil
}

func tagValue(tags []acmtypes.Tag, k string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == k {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func set(st *v1alpha1.DomainClaimStatus, c *v1alpha1.DomainClaim, typ string, ok bool, reason, msg string) {
	conditions.Set(&st.Conditions, c.Generation, typ, ok, reason, msg)
}
