// Package dns reconciles a DomainClaim's ALIAS records: the A record (and the AAAA of a
// dual-stack load balancer) from the hostname to the ALB of the Gateway that seats it.
//
// It watches DomainClaims, and is woken by the Route53 batcher when a change it queued is
// applied. It owns the DNSRecordReady condition and status.aliasTarget (claimstatus.DNS) and
// writes only those, by server-side apply. It reads the load balancer that reconciler/gatewaypool records in the
// claim's status and the zone of the claim's ManagedZone; it writes Route53 records only through
// the batcher (internal/dnsbatch), which never touches a record without our ownership marker.
//
// When the claim goes (or loses its hostname to an older claim), it removes the records first of
// everything, then says so: DNSRecordReady=False with reason RecordsRemoved (Unprovisioned for a
// lost hostname). Only then does the pool take the certificate off the listener, and only after
// that can reconciler/certificate delete it: the name never points at a load balancer that
// cannot serve it. Records are written only for the load balancer the claim's status names, so
// a claim with neither a DNSRecordReady condition, nor a load balancer, nor a seat (whose load
// balancer the pool clears while the seat moves) has no record for sure
// (v1alpha1.DomainClaim.AliasRecordsGone); one with either has its records removed before it
// goes, whether or not a condition was written. A claim's first records are queued without a
// status write, so a deleted, bound claim that holds its hostname and has no condition is not
// taken at its word (AliasRecordsGoneForDeletion): whatever of ours is at its hostname in Route53 or
// queued is removed, and RecordsRemoved lets its certificate and the claim go.
//
// When nothing serves the claim's hostname any more (NotServed: no load balancer, no seat, and
// GatewayAssigned=False with a reason that does not pass by itself, for a short grace), its
// records are removed the same way and DNSRecordReady=False/NoLoadBalancer says why; they are
// written again once a load balancer serves the name.
//
// DNSRecordReady is written when the records are in place, when a change fails or meets a
// record that is not ours, and when the claim's load balancer goes. status.aliasTarget names the
// load balancer the records were last confirmed at: set with DNSRecordReady=True, kept while a
// change to another load balancer is on its way or failed (the records still point where they
// did), cleared when a record turns out not to be ours and when the records are deleted. Other
// reconcilers read it, not the condition's message (the pool gives a seat back once it names the
// users' own load balancer: make before break). A claim's first change that
// is only queued is not written: the batcher applies it within its window and wakes the claim,
// whose condition then says how it went.
//
// status.aliasTarget.recordZoneID records the hosted zone the records were written in. When the
// claim's zone in effect has another (its hostedZoneID changed, or a child zone now covers the
// hostname), the records move (dnsbatch.Relocate): written there first, then ours deleted from
// the recorded zone, then the field names the new one. Removal deletes from the recorded zone and
// the zone in effect (dnsbatch.Removal).
package dns

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/opendi/gateway-orchestrator/api/v1alpha1"
	"github.com/opendi/gateway-orchestrator/internal/backoff"
	"github.com/opendi/gateway-orchestrator/internal/claimstatus"
	"github.com/opendi/gateway-orchestrator/internal/conditions"
	"github.com/opendi/gateway-orchestrator/internal/dnsbatch"
	"github.com/opendi/gateway-orchestrator/internal/fairqueue"
	"github.com/opendi/gateway-orchestrator/internal/ownership"
	"github.com/opendi/gateway-orchestrator/internal/routeuse"
)

// ControllerName names the reconciler in logs and metrics.
const ControllerName = "domainclaim-dns"

// Records is the part of the Route53 batcher the reconciler uses.
type Records interface {
	Ensure(ctx context.Context, owner string, w dnsbatch.Want) (dnsbatch.Result, error)
	RefreshEvery() time.Duration
}

// Reconciler keeps a DomainClaim's ALIAS records.
type Reconciler struct {
	Client   client.Client
	DNS      Records
	Recorder events.EventRecorder
	// Clock times the back-off; nil means the real clock.
	Clock clock.PassiveClock
	// Backoff spaces out changes Route53 refused in a way a quick retry cannot fix (a missing
	// permission, an invalid change, throttling beyond the SDK's retries); backoff.Default when zero.
	Backoff backoff.Policy
	// NotServedGrace is how long a claim is served by nothing before its ALIAS records are
	// removed (NotServed); DefaultNotServedGrace when zero.
	NotServedGrace time.Duration

	wake    chan event.GenericEvent
	backoff backoff.Claims
	// unsaid holds the claims (name → unsaidRecords) whose first records were queued before any
	// condition was written, and the hosted zone they were queued for: if their load balancer goes before the condition is written, it is written
	// then, so that the records are removed before the claim goes. A claim's entry goes when the
	// condition is written, and at the latest when the claim is gone (keyed by name, so that the
	// reconcile of its deletion, which knows only the name, finds it).
	unsaid sync.Map
	// unserved holds when each claim (name → unservedSince) was first seen served by nothing
	// (ServedByNothing), the start of its NotServedGrace. It is kept in memory: a restart
	// restarts the grace, which keeps records longer, never shorter.
	unserved sync.Map
	// written remembers the reconciler's status writes the cache has not shown yet.
	written claimstatus.Writes
}

// unsaidRecords are the first records of the claim with uid, queued for hosted zone zone before
// any condition was written (so before status.aliasTarget could record the zone).
type unsaidRecords struct {
	uid  types.UID
	zone string
}

// unservedSince is when the claim with uid was first seen served by nothing.
type unservedSince struct {
	uid   types.UID
	since time.Time
}

var _ reconcile.Reconciler = &Reconciler{}

// SetupWithManager registers the reconciler. batcher's Notify also wakes the claims whose
// changes it applied here (after whoever it told before).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, batcher *dnsbatch.Batcher) error {
	r.defaults()
	r.wake = make(chan event.GenericEvent, 1024)
	before := batcher.Notify
	batcher.Notify = func(owner string) {
		if before != nil {
			before(owner)
		}
		r.wake <- event.GenericEvent{Object: &v1alpha1.DomainClaim{ObjectMeta: metav1.ObjectMeta{Name: owner}}}
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&v1alpha1.DomainClaim{}).
		WatchesRawSource(source.Channel(r.wake, &handler.EnqueueRequestForObject{})).
		WithOptions(fairqueue.ClaimOptions(mgr.GetCache(), 4)).
		Complete(r)
}

func (r *Reconciler) defaults() {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.NotServedGrace == 0 {
		r.NotServedGrace = DefaultNotServedGrace
	}
	r.backoff.Policy, r.backoff.Reader, r.backoff.Recorder = r.Backoff, r.Client, r.Recorder
}

// Reconcile implements reconcile.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	c := &v1alpha1.DomainClaim{}
	if err := r.Client.Get(ctx, req.NamespacedName, c); err != nil {
		if apierrors.IsNotFound(err) {
			r.unsaid.Delete(req.Name)
			r.unserved.Delete(req.Name)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	ctx = logf.IntoContext(ctx, logf.FromContext(ctx).WithValues("claim", c.Name, "hostname", c.Spec.Hostname))
	unserved := r.servedByNothingSince(c) // seen in every state, so that the grace starts when it should
	claimed := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionClaimed)
	switch {
	case !c.DeletionTimestamp.IsZero():
		return r.remove(ctx, c, v1alpha1.ReasonRecordsRemoved, "the claim is being deleted: its ALIAS records are gone; its certificate may leave the listener")
	case claimed != nil && claimed.Reason == v1alpha1.ReasonConflicted && controllerutil.ContainsFinalizer(c, v1alpha1.FinalizerAWSCleanup):
		return r.remove(ctx, c, v1alpha1.ReasonUnprovisioned,
			"the claim lost its hostname to an older claim (see Claimed): its ALIAS records, certificate and validation record were removed")
	case claimed == nil || claimed.Status != metav1.ConditionTrue:
		return reconcile.Result{}, nil // not settled: nothing is served
	}
	zone, err := ownership.FindZone(ctx, ownership.CacheView{Reader: r.Client}, c.Spec.Hostname)
	if err != nil || zone == nil {
		return reconcile.Result{}, err
	}
	return r.ensure(ctx, c, zone, unserved)
}

// ensure brings the ALIAS records to the load balancer the claim's status names. unserved is
// when the claim was first seen served by nothing (servedByNothingSince).
func (r *Reconciler) ensure(ctx context.Context, c *v1alpha1.DomainClaim, zone *v1alpha1.ManagedZone, unserved time.Time) (reconcile.Result, error) {
	st := c.Status.DeepCopy()
	cond := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionDNSRecord)
	if st.LoadBalancerHostname == "" || st.LoadBalancerZoneID == "" {
		if cond == nil && !r.queued(c) {
			return reconcile.Result{}, nil // nothing to point at yet, and nothing written: no status
		}
		w := NotServed(c, unserved, r.Clock.Now(), r.NotServedGrace)
		if w.Remove {
			return r.remove(ctx, c, v1alpha1.ReasonNoLoadBalancer, w.Message)
		}
		msg := "waiting for the load balancer of the assigned Gateway"
		if w.Wait > 0 {
			msg = w.Message
		}
		set(st, c, false, v1alpha1.ReasonPending, msg)
		_, err := r.written.Apply(ctx, r.Client, claimstatus.DNS, c, st)
		return reconcile.Result{RequeueAfter: w.Wait}, err
	}
	if wait, _ := r.backoff.Wait(string(c.UID), c.Generation, r.Clock.Now()); wait > 0 {
		return reconcile.Result{RequeueAfter: wait}, nil // DNSRecordReady says why and until when
	}
	if cond != nil && saysNoRecords(c) {
		// Status first, then the side effect: once the status says records may exist, a claim
		// whose load balancer goes again before the batcher writes them keeps its certificate
		// until they are removed. The write wakes the claim, and the records are queued then.
		set(st, c, false, v1alpha1.ReasonPending, "writing the ALIAS records to "+st.LoadBalancerHostname)
		_, err := r.written.Apply(ctx, r.Client, claimstatus.DNS, c, st)
		return reconcile.Result{}, err
	}
	// Our records were in place for this load balancer: a change now means someone else's.
	msg := aliasMessage(c)
	wasReady := c.AliasPointsAt(st.LoadBalancerHostname)
	wants := Wants(c, zone.Spec.HostedZoneID, false)
	// Records written in another hosted zone (the zone's hostedZoneID changed, or a child zone
	// now covers the hostname) move: written here first, then ours deleted there.
	move := dnsbatch.Relocate(r.recordedZone(c), zone.Spec.HostedZoneID, append(wants, staleRecords(c, zone.Spec.HostedZoneID)...), false)
	if move.Moving {
		logf.FromContext(ctx).Info("moving the ALIAS records to the zone's hosted zone", "from", r.recordedZone(c), "to", move.Zone)
	}
	for _, want := range move.Ensure {
		res, err := r.DNS.Ensure(ctx, c.Name, want)
		if wasReady && !move.Moving && !want.Absent && c.Status.AliasTarget.Lists(string(want.Record.Type)) && res.State == dnsbatch.Pending {
			r.Recorder.Eventf(c, nil, "Warning", v1alpha1.EventDNSDrift, "Repair", "the %s ALIAS record %s was changed or deleted outside gateway-orchestrator; putting it back",
				want.Record.Type, c.Spec.Hostname)
		}
		r.externalDNSEvent(ctx, c, cond, res)
		if res, ok, err := r.backOff(ctx, c, st, res); ok {
			return res, err
		}
		if step := dnsbatch.StepOf(res, err, "ALIAS record", want.Zone); step.Waiting {
			if cond == nil && res.State == dnsbatch.Pending {
				// Queued: the batcher wakes the claim when Route53 took the change (or refused it).
				r.unsaid.Store(c.Name, unsaidRecords{uid: c.UID, zone: move.Zone})
				return reconcile.Result{}, nil
			}
			if res.State == dnsbatch.Conflict && !move.Moving {
				// The record at the name is not ours: it points at no load balancer of ours. (In a
				// move, ours in the old zone still do, and status.aliasTarget keeps that zone.)
				st.AliasTarget = nil
			}
			set(st, c, false, step.Reason, step.Message)
			_, werr := r.written.Apply(ctx, r.Client, claimstatus.DNS, c, st)
			if werr != nil {
				return reconcile.Result{}, werr
			}
			return reconcile.Result{RequeueAfter: step.RequeueAfter}, step.Err
		}
		if res.Message != "" { // external-dns's identical record, used as it is
			msg += "; " + res.Message
		}
	}
	r.backoff.Succeeded(ctx, string(c.UID), "route53:ChangeResourceRecordSets")
	st.AliasTarget = r.aliasTarget(c, wants, move.Zone)
	set(st, c, true, v1alpha1.ReasonCreated, msg)
	if _, err := r.written.Apply(ctx, r.Client, claimstatus.DNS, c, st); err != nil {
		return reconcile.Result{}, err
	}
	r.said(c)
	// Coming back within the zone's refresh interval repairs records changed behind our back.
	return reconcile.Result{RequeueAfter: r.DNS.RefreshEvery()}, nil
}

// backOff handles a change Route53 refused in a way a quick retry cannot fix (see
// backoff.Claims): DNSRecordReady says so and until when, and the claim waits. ok is false for
// every other result.
func (r *Reconciler) backOff(ctx context.Context, c *v1alpha1.DomainClaim, st *v1alpha1.DomainClaimStatus, res dnsbatch.Result) (reconcile.Result, bool, error) {
	if res.State != dnsbatch.Failed {
		return reconcile.Result{}, false, nil
	}
	s, wait, ok := r.backoff.Failed(ctx, c, string(c.UID), "route53:ChangeResourceRecordSets", v1alpha1.ReasonChangeFailed, res.Message, res.Err, r.Clock.Now())
	if !ok {
		return reconcile.Result{}, false, nil
	}
	set(st, c, false, s.Reason, s.Describe())
	_, err := r.written.Apply(ctx, r.Client, claimstatus.DNS, c, st)
	return reconcile.Result{RequeueAfter: wait}, true, err
}

// remove deletes the claim's ALIAS records, then records reason on DNSRecordReady. A claim
// with neither the condition, nor a load balancer, nor a seat never had a record: there is
// nothing to remove or to say; except when it is being deleted, bound and holding its hostname,
// where the missing condition proves nothing (AliasRecordsGoneForDeletion): whatever of ours is at
// the hostname in Route53, or queued, goes, and RecordsRemoved lets the claim go.
func (r *Reconciler) remove(ctx context.Context, c *v1alpha1.DomainClaim, reason, msg string) (reconcile.Result, error) {
	gone := c.AliasRecordsGone()
	if !c.DeletionTimestamp.IsZero() {
		gone = c.AliasRecordsGoneForDeletion()
	}
	if gone && !r.queued(c) { // a change queued unsaid may still create them
		r.said(c)
		return reconcile.Result{}, nil
	}
	zone, err := ownership.FindZone(ctx, ownership.CacheView{Reader: r.Client}, c.Spec.Hostname)
	if err != nil {
		return reconcile.Result{}, err
	}
	current := ""
	if zone != nil {
		current = zone.Spec.HostedZoneID
	}
	// From the hosted zone the records were written in, and from the zone's, if another: a claim
	// deleted while its records moved may have them in both.
	removals := dnsbatch.Removal(r.recordedZone(c), current, Wants(c, current, true))
	if wait, _ := r.backoff.Wait(string(c.UID), c.Generation, r.Clock.Now()); wait > 0 && len(removals) > 0 {
		return reconcile.Result{RequeueAfter: wait}, nil
	}
	for _, want := range removals {
		res, err := r.DNS.Ensure(ctx, c.Name, want)
		if res, ok, err := r.backOff(ctx, c, c.Status.DeepCopy(), res); ok {
			return res, err
		}
		if step := dnsbatch.StepOf(res, err, "deleting ALIAS record", want.Zone); step.Waiting {
			return reconcile.Result{RequeueAfter: step.RequeueAfter}, step.Err // the batcher wakes the claim
		}
	}
	r.backoff.Succeed(string(c.UID))
	st := c.Status.DeepCopy()
	st.AliasTarget = nil
	set(st, c, false, reason, msg)
	if _, err := r.written.Apply(ctx, r.Client, claimstatus.DNS, c, st); err != nil {
		return reconcile.Result{}, err
	}
	r.said(c)
	logf.FromContext(ctx).Info("removed the ALIAS records", "reason", reason)
	if meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionDNSRecord) != nil {
		// A claim that never said it had records was only made sure of: no Event to write.
		r.Recorder.Eventf(c, nil, "Normal", reason, "Cleanup", "deleted the ALIAS records of %s", c.Spec.Hostname)
	}
	return reconcile.Result{}, nil
}

// Wants are the ALIAS records of a claim in hosted zone zoneID: A, and AAAA when its load
// balancer is dual-stack; or, absent, both gone.
func Wants(c *v1alpha1.DomainClaim, zoneID string, absent bool) []dnsbatch.Want {
	kinds := []r53types.RRType{r53types.RRTypeA}
	if c.Status.DualStack || absent {
		kinds = append(kinds, r53types.RRTypeAaaa)
	}
	out := make([]dnsbatch.Want, 0, len(kinds))
	for _, t := range kinds {
		out = append(out, dnsbatch.Want{
			Zone: zoneID, Kind: dnsbatch.Exclusive, Absent: absent,
			Record: r53types.ResourceRecordSet{
				Name: aws.String(dnsbatch.Canonical(c.Spec.Hostname)), Type: t,
				AliasTarget: &r53types.AliasTarget{
					DNSName: aws.String(c.Status.LoadBalancerHostname), HostedZoneId: aws.String(c.Status.LoadBalancerZoneID), EvaluateTargetHealth: true,
				},
			},
		})
	}
	return out
}

// staleRecords are the records of ours that the claim no longer wants: the AAAA record once its
// load balancer is no longer dual-stack (a move from a dual-stack pool to a team's own IPv4 load
// balancer), removed before status.aliasTarget names the new load balancer, so that the pool
// gives its seat back only when no record points at it any more.
func staleRecords(c *v1alpha1.DomainClaim, zoneID string) []dnsbatch.Want {
	if c.Status.DualStack || !c.Status.AliasTarget.Lists(string(r53types.RRTypeAaaa)) {
		return nil
	}
	var out []dnsbatch.Want
	for _, w := range Wants(c, zoneID, true) {
		if w.Record.Type == r53types.RRTypeAaaa {
			out = append(out, w)
		}
	}
	return out
}

// externalDNSEvent tells the claim's and its routes' owners, once per change of the condition,
// that external-dns holds the hostname's record: a Warning when it points elsewhere, a Normal
// Event when it is identical and used as it is.
func (r *Reconciler) externalDNSEvent(ctx context.Context, c *v1alpha1.DomainClaim, cond *metav1.Condition, res dnsbatch.Result) {
	if res.ExternalDNSOwner == "" || cond != nil && strings.Contains(cond.Message, res.Message) {
		return
	}
	if res.State != dnsbatch.Conflict {
		r.Recorder.Eventf(c, nil, "Normal", v1alpha1.EventExternalDNSRecord, "Provision", "%s", res.Message)
		return
	}
	routeuse.Warn(ctx, r.Client, r.Recorder, c, v1alpha1.ReasonDNSConflict, "Provision", res.Message)
}

// aliasTarget is status.aliasTarget once wants, the records to the load balancer the claim's status
// names, are in place in hosted zone zoneID: since when they first were, for that load balancer.
func (r *Reconciler) aliasTarget(c *v1alpha1.DomainClaim, wants []dnsbatch.Want, zoneID string) *v1alpha1.AliasTarget {
	t := &v1alpha1.AliasTarget{DNSName: c.Status.LoadBalancerHostname, HostedZoneID: c.Status.LoadBalancerZoneID,
		Since:        metav1.NewTime(r.Clock.Now().Truncate(time.Second)), // the API keeps seconds
		RecordZoneID: zoneID}
	for _, w := range wants {
		t.RecordTypes = append(t.RecordTypes, string(w.Record.Type))
	}
	if prev := c.Status.AliasTarget; prev != nil && prev.DNSName == t.DNSName && prev.HostedZoneID == t.HostedZoneID {
		t.Since = prev.Since
	}
	return t
}

func aliasMessage(c *v1alpha1.DomainClaim) string {
	return v1alpha1.AliasMessage(c.Spec.Hostname, c.Status.LoadBalancerHostname)
}

func set(st *v1alpha1.DomainClaimStatus, c *v1alpha1.DomainClaim, ok bool, reason, msg string) {
	conditions.Set(&st.Conditions, c.Generation, v1alpha1.ConditionDNSRecord, ok, reason, msg)
}

// servedByNothingSince is when c was first seen served by nothing, now if it is only now; it
// forgets c once c is served again, so that the grace starts afresh the next time.
func (r *Reconciler) servedByNothingSince(c *v1alpha1.DomainClaim) time.Time {
	now := r.Clock.Now()
	if !ServedByNothing(c) {
		r.unserved.Delete(c.Name)
		return now
	}
	if v, ok := r.unserved.Load(c.Name); ok && v.(unservedSince).uid == c.UID {
		return v.(unservedSince).since
	}
	r.unserved.Store(c.Name, unservedSince{uid: c.UID, since: now})
	return now
}

// saysNoRecords reports whether c's DNSRecordReady would say that it has no ALIAS record
// (AliasRecordsGone) once the pool cleared its load balancer and seat: NoLoadBalancer, or
// records removed. A claim whose condition says so must say otherwise before records are queued.
func saysNoRecords(c *v1alpha1.DomainClaim) bool {
	bare := v1alpha1.DomainClaim{Status: v1alpha1.DomainClaimStatus{Conditions: c.Status.Conditions}}
	return bare.AliasRecordsGone()
}

// queued reports whether claim c's first records were queued before any condition was written.
func (r *Reconciler) queued(c *v1alpha1.DomainClaim) bool {
	_, ok := r.unsaidOf(c)
	return ok
}

func (r *Reconciler) unsaidOf(c *v1alpha1.DomainClaim) (unsaidRecords, bool) {
	v, ok := r.unsaid.Load(c.Name)
	if !ok || v.(unsaidRecords).uid != c.UID {
		return unsaidRecords{}, false
	}
	return v.(unsaidRecords), true
}

// said forgets that c's first records were queued unsaid: its condition is written.
func (r *Reconciler) said(c *v1alpha1.DomainClaim) {
	if u, ok := r.unsaidOf(c); ok {
		r.unsaid.CompareAndDelete(c.Name, u)
	}
}

// recordedZone is the hosted zone c's ALIAS records were written in: status.aliasTarget's, else
// the zone its first records were queued for before any status said so; empty when neither says
// (records written before status.aliasTarget recorded the zone are in the zone in effect).
func (r *Reconciler) recordedZone(c *v1alpha1.DomainClaim) string {
	if t := c.Status.AliasTarget; t != nil && t.RecordZoneID != "" {
		return t.RecordZoneID
	}
	if u, ok := r.unsaidOf(c); ok {
		return u.zone
	}
	return ""
}
